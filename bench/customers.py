"""Closed-loop customers for the checkout mix: each waits for the bot's answer before its next
step, like a person does. Replies are read from the stand-in's arrival log (polled), so the
latency of a reply is the stand-in's own time stamp, not the poll's. With several bot
processes every webhook (a customer's message, Razorpay's payment event) is posted to one of
them at random, as Heroku's router does."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench import payloads

ADDRESS = "12 MG Road, Indiranagar, Bengaluru 560038"
ORDER_ITEMS = [("masala-chai-250", 2), ("tea-strainer", 1)]
PAY_PREFIX = "redirect_to_payment:"


def body_text(message: dict[str, Any]) -> str:
    if message.get("type") == "text":
        return str(message["text"]["body"])
    interactive = message.get("interactive", {})
    return str(interactive.get("body", {}).get("text", ""))


def button_ids(message: dict[str, Any]) -> list[str]:
    action = message.get("interactive", {}).get("action", {})
    return [b["reply"]["id"] for b in action.get("buttons", [])]


def is_confirmation(message: dict[str, Any]) -> bool:
    return message.get("type") == "text" and body_text(message).startswith("✅")


@dataclass
class Inbox:
    """Every message the Graph stand-in accepted, per recipient, with its arrival time."""

    standins_url: str
    session: aiohttp.ClientSession
    by_phone: dict[str, list[tuple[float, dict[str, Any]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    waiters: dict[str, asyncio.Event] = field(default_factory=dict)
    next_index: int = 0

    async def poll_forever(self, interval: float = 0.02) -> None:
        while True:
            await self.poll_once()
            await asyncio.sleep(interval)

    async def poll_once(self) -> None:
        url = f"{self.standins_url}/bench/arrivals?since={self.next_index}&bodies=1"
        async with self.session.get(url) as response:
            data = await response.json()
        self.next_index = data["next"]
        for t, to, body in data["arrivals"]:
            self.by_phone[to].append((t, body))
            event = self.waiters.get(to)
            if event is not None:
                event.set()

    async def wait_for(
        self, phone: str, seen: int, predicate: Any = None, patience: float = 60.0
    ) -> tuple[int, float, dict[str, Any]]:
        """The first message to `phone` after the first `seen` that satisfies `predicate`;
        returns its index, arrival time and body."""
        deadline = time.monotonic() + patience
        event = self.waiters.setdefault(phone, asyncio.Event())
        while True:
            messages = self.by_phone[phone]
            for index in range(seen, len(messages)):
                t, body = messages[index]
                if predicate is None or predicate(body):
                    return index, t, body
            seen = len(messages)
            event.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no expected reply to {phone} within {patience} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), timeout=left)


@dataclass
class CheckoutResult:
    phone: str
    order_id: str | None = None
    link_id: str | None = None
    paid_at: float | None = None  # when the payment webhook was posted (monotonic)
    pay_ack: float | None = None
    confirmed_at: float | None = None
    error: str | None = None


class Shopper:
    def __init__(
        self,
        bot_urls: Sequence[str],
        standins_url: str,
        session: aiohttp.ClientSession,
        inbox: Inbox,
        seed: int = 0,
    ):
        self.bot_urls = list(bot_urls)
        self.standins_url = standins_url
        self.session = session
        self.inbox = inbox
        self._wamids = itertools.count()
        self._router = random.Random(seed)

    def bot_url(self) -> str:
        """The process this delivery goes to: any of them, at random."""
        return self._router.choice(self.bot_urls)

    async def say(self, phone: str, content: dict[str, Any]) -> int:
        wamid = f"wamid.shop.{phone}.{next(self._wamids)}"
        body = payloads.whatsapp_body(phone, "Shopper", [payloads.message(phone, wamid, content)])
        async with self.session.post(
            f"{self.bot_url()}/webhooks/whatsapp",
            data=body,
            headers=payloads.whatsapp_headers(body),
        ) as response:
            await response.read()
            return response.status

    async def link_for(self, order_id: str) -> dict[str, Any]:
        url = f"{self.standins_url}/v1/payment_links?reference_id={order_id}"
        async with self.session.get(url) as response:
            data = await response.json()
        [link] = data["payment_links"]
        return dict(link)

    async def until_pay_now(self, phone: str, result: CheckoutResult, patience: float) -> int:
        """hi → catalog order → address → the order summary with Pay now. Returns how many
        messages the customer had received by then."""
        seen = len(self.inbox.by_phone[phone])
        await self.say(phone, payloads.text("hi"))
        seen = (await self.inbox.wait_for(phone, seen, patience=patience))[0] + 1
        await self.say(phone, payloads.catalog_order(ORDER_ITEMS))
        seen = (await self.inbox.wait_for(phone, seen, patience=patience))[0] + 1
        await self.say(phone, payloads.text(ADDRESS))
        index, _, summary = await self.inbox.wait_for(
            phone,
            seen,
            lambda m: any(b.startswith(PAY_PREFIX) for b in button_ids(m)),
            patience=patience,
        )
        [pay] = [b for b in button_ids(summary) if b.startswith(PAY_PREFIX)]
        result.order_id = pay[len(PAY_PREFIX) :]
        return index + 1

    async def pay(self, result: CheckoutResult, event_id: str) -> tuple[bytes, dict[str, str]]:
        assert result.order_id is not None
        link = await self.link_for(result.order_id)
        result.link_id = link["id"]
        body = payloads.paid_webhook(link, f"pay_{event_id[-14:]}")
        return body, payloads.razorpay_headers(body, event_id)

    async def checkout(self, phone: str, patience: float = 60.0) -> CheckoutResult:
        result = CheckoutResult(phone)
        try:
            seen = await self.until_pay_now(phone, result, patience)
            body, headers = await self.pay(result, f"evt_B{phone[-13:]}")
            result.paid_at = time.monotonic()
            async with self.session.post(
                f"{self.bot_url()}/webhooks/razorpay", data=body, headers=headers
            ) as response:
                await response.read()
                result.pay_ack = time.monotonic()
                if response.status != 200:
                    result.error = f"payment webhook answered {response.status}"
                    return result
            _, t, _ = await self.inbox.wait_for(phone, seen, is_confirmation, patience=patience)
            result.confirmed_at = t
        except (TimeoutError, aiohttp.ClientError, ValueError, KeyError) as error:
            result.error = f"{type(error).__name__}: {error}"
        return result


async def run_checkouts(
    bot_urls: Sequence[str],
    standins_url: str,
    phones: list[str],
    *,
    arrivals_per_second: float,
    patience: float = 60.0,
    settle_seconds: float = 2.0,
) -> tuple[list[CheckoutResult], dict[str, int]]:
    """Start one checkout per phone at a fixed rate; returns the results and, per phone, how
    many confirmations it received (counted after a quiet `settle_seconds`)."""
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector) as session:
        inbox = Inbox(standins_url, session)
        await inbox.poll_once()
        poller = asyncio.create_task(inbox.poll_forever())
        shopper = Shopper(bot_urls, standins_url, session, inbox)
        t0 = time.monotonic()
        tasks = []
        for i, phone in enumerate(phones):
            await asyncio.sleep(max(0.0, t0 + i / arrivals_per_second - time.monotonic()))
            tasks.append(asyncio.create_task(shopper.checkout(phone, patience)))
        results = await asyncio.gather(*tasks)
        await asyncio.sleep(settle_seconds)
        await inbox.poll_once()
        poller.cancel()
        confirmations = {
            phone: sum(1 for _, m in inbox.by_phone[phone] if is_confirmation(m))
            for phone in phones
        }
    return list(results), confirmations
