"""The chat's clock control: a person fast-forwards the shop and sees the payment reminder
arrive in the chat, as a customer would after 45 minutes."""

import asyncio
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.sandbox import SANDBOX, sandbox_settings, setup_sandbox
from bot.settings import Mode, Settings
from tests.sandbox.test_sandbox_merchant_loop import (
    POLL_SECONDS,
    WAIT_SECONDS,
    Customer,
    shop_url,  # noqa: F401 -- the fixture, used by name below
)

CLOCK = "/sandbox/api/clock"


async def test_fast_forward_brings_the_payment_reminder_into_the_chat(
    shop_url: str,  # noqa: F811 -- the fixture imported above
) -> None:
    async with aiohttp.ClientSession() as session:
        asha = Customer(session, shop_url)
        welcome = await asha.say("hi")
        categories = await asha.tap(welcome, "browse")
        products = await asha.tap(categories, ".")
        product = await asha.tap(products, ".")
        added = await asha.tap(product, r"^\s*1\s*$")
        await asha.tap(added, "checkout")
        summary = await asha.say("12 MG Road, Bengaluru 560001", until="Pay now")
        await asha.tap(summary, "pay now")
        before = len(await asha.shop_messages())

        async with session.post(f"{shop_url}{CLOCK}", json={"hours": 1}) as response:
            assert response.status == 200, await response.text()
            moved = await response.json()
        assert moved["ahead_hours"] == 1
        assert moved["reminders_fired"] in (0, 1)  # 0 only if the timer took it first

        reminder = await until_a_new_message(asha, before, "A reminder")
        assert "A reminder" in reminder
        async with session.get(f"{shop_url}{CLOCK}") as response:
            assert (await response.json())["ahead_hours"] == 1


async def until_a_new_message(asha: Customer, before: int, needle: str) -> str:
    for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):
        texts = [text_in(m) for m in (await asha.shop_messages())[before:]]
        found = [text for text in texts if needle in text]
        if found:
            return found[0]
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError(f"no message with {needle!r} arrived")


def text_in(message: dict[str, Any]) -> str:
    if message.get("type") == "text":
        return str(message["text"]["body"])
    return str(message.get("interactive", {}).get("body", {}).get("text", ""))


async def test_the_clock_cannot_be_moved_without_the_bots_clock() -> None:
    settings = sandbox_settings(Settings(bot_mode=Mode.SANDBOX, port=8080))
    app = web.Application()
    setup_sandbox(app, settings)  # no clock of the bot's: nothing to move
    async with TestClient(TestServer(app)) as client:
        response = await client.post(CLOCK, json={"hours": 1})
        assert response.status == 409
        assert app[SANDBOX].fast_forward is None


async def test_a_bad_amount_of_time_is_refused_with_the_reason(shop_url: str) -> None:  # noqa: F811
    async with aiohttp.ClientSession() as session:
        for body in ({"hours": -1}, {"hours": 0}, {"hours": "soon"}, {"minutes": 5}):
            async with session.post(f"{shop_url}{CLOCK}", json=body) as response:
                assert response.status == 400, body
                assert (await response.json())["problems"]
        async with session.get(f"{shop_url}{CLOCK}") as response:
            assert (await response.json())["ahead_hours"] == 0
