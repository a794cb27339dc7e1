"""The whole sandbox, over HTTP as the chat page uses it: a customer buys and pays, and the
merchant's stand-ins get the signed webhook, the Telegram message and the email, which
/sandbox/orders shows beside the order; the owner's chat ships it by message."""

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import create_app
from bot.sandbox import sandbox_settings
from bot.sandbox.merchant import SANDBOX_OWNER
from bot.settings import load_settings
from bot.shop_config import load_shop_config
from storage.migrate import migrate
from tests.fixtures_path import REPO_ROOT
from tests.support.ports import free_port

PHONE = "919800000042"
WAIT_SECONDS = 20.0  # a ceiling for a busy machine, not a speed check
POLL_SECONDS = 0.05


@pytest.fixture
async def shop_url(tmp_path: Path) -> AsyncIterator[str]:
    port = free_port()
    env = {"PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}"}
    settings = sandbox_settings(load_settings(env))
    await migrate(settings.database_url)
    runner = web.AppRunner(create_app(settings, load_shop_config(REPO_ROOT / "config.toml")))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


class Customer:
    def __init__(self, session: aiohttp.ClientSession, base: str, phone: str = PHONE) -> None:
        self._session = session
        self._api = f"{base}/sandbox/api/customers/{phone}/messages"

    async def shop_messages(self) -> list[dict[str, Any]]:
        async with self._session.get(self._api) as response:
            items = (await response.json())["items"]
        return [item["message"] for item in items if item["sender"] == "shop"]

    async def send(self, payload: dict[str, Any], until: str | None = None) -> dict[str, Any]:
        """Send, then wait for the shop's answer; returns it. With `until`, the answer is the
        first new message with that text in it (the address is answered twice: "your link is
        on its way", then the summary once the link exists)."""
        before = len(await self.shop_messages())
        async with self._session.post(self._api, json=payload) as response:
            assert response.status == 200, await response.text()
        for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):
            new = (await self.shop_messages())[before:]
            wanted = [m for m in new if until is None or until in json.dumps(m)]
            if wanted:
                return wanted[0] if until is not None else new[-1]
            await asyncio.sleep(POLL_SECONDS)
        raise AssertionError(f"the shop did not answer {payload}")

    async def say(self, text: str, until: str | None = None) -> dict[str, Any]:
        return await self.send({"type": "text", "text": text, "name": "Asha"}, until)

    async def tap(self, message: dict[str, Any], pattern: str) -> dict[str, Any]:
        action = message["interactive"]["action"]
        choices = [
            (b["reply"]["title"], b["reply"]["id"], "button_reply")
            for b in action.get("buttons", [])
        ]
        choices += [
            (r["title"], r["id"], "list_reply")
            for s in action.get("sections", [])
            for r in s["rows"]
        ]
        for title, ident, kind in choices:
            if re.search(pattern, title, re.IGNORECASE):
                return await self.send({"type": kind, "id": ident, "title": title})
        raise AssertionError(f"nothing matches {pattern!r} in {[c[0] for c in choices]}")


async def buy_and_pay(asha: Customer, session: aiohttp.ClientSession, shop_url: str) -> None:
    """hi → the first product → checkout → pay on the sandbox's Razorpay stand-in."""
    welcome = await asha.say("hi")
    categories = await asha.tap(welcome, "browse")
    products = await asha.tap(categories, ".")
    product = await asha.tap(products, ".")
    added = await asha.tap(product, r"^\s*1\s*$")
    await asha.tap(added, "checkout")
    summary = await asha.say("12 MG Road, Bengaluru 560001", until="Pay now")
    await asha.tap(summary, "pay now")
    link_url = ""
    for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):
        links = [
            m["interactive"]["action"]["parameters"]["url"]
            for m in await asha.shop_messages()
            if m.get("interactive", {}).get("action", {}).get("name") == "cta_url"
        ]
        if links:
            link_url = links[-1]
            break
        await asyncio.sleep(POLL_SECONDS)
    link_id = link_url.rstrip("/").rsplit("/", 1)[-1]

    async with session.post(f"{shop_url}/sandbox/razorpay-control/pay/{link_id}") as paid:
        assert paid.status == 200, await paid.text()


async def test_a_sandbox_order_reaches_the_merchants_stand_ins(shop_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        asha = Customer(session, shop_url)
        await buy_and_pay(asha, session, shop_url)
        page = ""
        told = ("webhook</b>: delivered", "telegram</b>: delivered", "email</b>: delivered")
        for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):
            async with session.get(f"{shop_url}/sandbox/orders") as response:
                page = await response.text()
            if all(line in page for line in told):
                break
            await asyncio.sleep(POLL_SECONDS)
        assert all(line in page for line in told), page
        assert "signature verified" in page
        assert "email to merchant@sandbox.invalid" in page
        assert "telegram: New paid order" in page

        # The sandbox's Shopify stand-in got the paid order, tagged with our id.
        handed: list[dict[str, Any]] = []
        for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):
            async with session.get(f"{shop_url}/sandbox/shopify/orders") as response:
                handed = await response.json()
            if handed:
                break
            await asyncio.sleep(POLL_SECONDS)
        [order] = handed
        assert order["input"]["financialStatus"] == "PAID"
        [tag] = [t for t in order["input"]["tags"] if t.startswith("wa:")]
        async with session.get(f"{shop_url}/sandbox/orders") as response:
            assert order["id"] in await response.text()
        assert tag.removeprefix("wa:") in page


async def test_the_owner_chat_ships_an_order_and_the_customer_hears(shop_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        asha = Customer(session, shop_url)
        await buy_and_pay(asha, session, shop_url)
        async with session.get(f"{shop_url}/sandbox/owner", allow_redirects=False) as chat:
            assert chat.headers["Location"] == f"/sandbox?phone={SANDBOX_OWNER}"
        async with session.get(f"{shop_url}/sandbox/api/info") as info:
            assert (await info.json())["owners"] == [SANDBOX_OWNER]
        owner = Customer(session, shop_url, SANDBOX_OWNER)

        listing = ""
        for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):  # the payment webhook is on its way
            listing = (await owner.say("orders"))["text"]["body"]
            if "TO SHIP" in listing:
                break
            await asyncio.sleep(POLL_SECONDS * 10)
        [order_id] = re.findall(r"(ORD-\S+) .* TO SHIP", listing)

        reply = await owner.say(f"ship {order_id} DTDC AWB777")
        assert reply["text"]["body"] == f"Done: order {order_id} shipped"
        told = ""
        for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):
            told = json.dumps(await asha.shop_messages())
            if "AWB777" in told:
                break
            await asyncio.sleep(POLL_SECONDS)
        assert "AWB777" in told


def body_of(message: dict[str, Any]) -> str:
    return str(message["interactive"]["body"]["text"])


async def test_the_sandbox_chat_shows_order_history_and_switches_language(shop_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        asha = Customer(session, shop_url)
        await buy_and_pay(asha, session, shop_url)
        for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):  # the receipt, after the payment
            if any("✅" in str(m) for m in await asha.shop_messages()):
                break
            await asyncio.sleep(POLL_SECONDS)

        menu = await asha.say("help")
        orders = await asha.tap(menu, "my orders")
        assert body_of(orders).startswith("Your recent orders")
        [row] = orders["interactive"]["action"]["sections"][0]["rows"]
        assert row["description"].endswith("· paid · being prepared")
        detail = await asha.tap(orders, ".")
        assert "Payment: paid" in body_of(detail)

        languages = await asha.say("language")
        welcome = await asha.tap(languages, "हिन्दी")
        assert body_of(welcome).startswith("Chai Point में आपका स्वागत है!")
        orders = await asha.say("ऑर्डर")
        assert body_of(orders).startswith("आपके हाल के ऑर्डर।")
