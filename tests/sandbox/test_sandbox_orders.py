"""In the sandbox a person buys in the chat and pays on the checkout page; the merchant then
ships and refunds from the command line, and the customer's chat shows both. The real app in
sandbox mode runs on a loopback port (as `python -m bot` does); the command runs in its own
thread and event loop, as in its own process."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import create_app
from bot.cli import main
from bot.sandbox import razorpay as sandbox_razorpay
from bot.sandbox import sandbox_settings
from bot.settings import load_settings
from bot.shop_config import load_shop_config
from storage.migrate import migrate
from tests.fixtures_path import REPO_ROOT
from tests.support.harness import button_ids, row_ids, text_of
from tests.support.ports import free_port

PHONE = "919800000042"
WAIT_SECONDS = 20.0  # a bound for replies that arrive in milliseconds; not a speed check


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    port = free_port()
    return {
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "BOT_CONFIG": str(REPO_ROOT / "config.toml"),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }


@pytest.fixture
async def sandbox(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[aiohttp.ClientSession]:
    monkeypatch.setattr(sandbox_razorpay, "REFUND_SECONDS", 0.0)
    settings = sandbox_settings(load_settings(env))
    await migrate(settings.database_url)
    runner = web.AppRunner(create_app(settings, load_shop_config(settings.bot_config)))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", settings.port).start()
    async with aiohttp.ClientSession(base_url=env["PUBLIC_BASE_URL"]) as session:
        yield session
    await runner.cleanup()


class Customer:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def history(self) -> list[dict[str, Any]]:
        async with self.session.get(f"/sandbox/api/customers/{PHONE}/messages") as response:
            items: list[dict[str, Any]] = (await response.json())["items"]
            return [item for item in items if item["sender"] == "shop"]

    async def until(self, wanted: str, seen: int) -> dict[str, Any]:
        """The first shop message after the `seen` first whose text has `wanted`."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            for item in (await self.history())[seen:]:
                if wanted.lower() in text_or_template(item["message"]).lower():
                    return item["message"]
            await asyncio.sleep(0.05)
        raise AssertionError(f"no message with {wanted!r} in the chat")

    async def send(self, body: dict[str, Any], wanted: str) -> dict[str, Any]:
        seen = len(await self.history())
        async with self.session.post(f"/sandbox/api/customers/{PHONE}/messages", json=body):
            pass
        return await self.until(wanted, seen)

    async def say(self, text: str, wanted: str) -> dict[str, Any]:
        return await self.send({"type": "text", "text": text}, wanted)

    async def tap(self, ids: dict[str, str], title: str, wanted: str) -> dict[str, Any]:
        return await self.send({"type": "button_reply", "id": ids[title], "title": title}, wanted)

    async def pick(self, ids: dict[str, str], title: str, wanted: str) -> dict[str, Any]:
        [row] = [ident for text, ident in ids.items() if text.startswith(title)]
        return await self.send({"type": "list_reply", "id": row, "title": title}, wanted)


def text_or_template(message: dict[str, Any]) -> str:
    if message["type"] == "template":
        return str(message["template"]["name"])
    return text_of(message)


async def buy_and_pay(customer: Customer) -> str:
    welcome = await customer.say("hi", "welcome")
    categories = await customer.tap(button_ids(welcome), "Browse", "category")
    products = await customer.pick(row_ids(categories), "Tea", "pick a product")
    product = await customer.pick(row_ids(products), "Masala Chai", "₹249.00")
    added = await customer.tap(button_ids(product), "2", "added")
    await customer.tap(button_ids(added), "Checkout", "address")
    summary = await customer.say("12 MG Road, Bengaluru 560038", "Pay now")
    link = await customer.tap(button_ids(summary), "Pay now", "/sandbox/pay/")
    url = link["interactive"]["action"]["parameters"]["url"]
    link_id = url.rsplit("/", 1)[1]
    seen = len(await customer.history())
    async with customer.session.post(f"/sandbox/razorpay-control/pay/{link_id}") as paid:
        assert paid.status == 200
    confirmation = await customer.until("payment received", seen)
    return text_of(confirmation).split("order ", 1)[1].split(".", 1)[0]


async def test_ship_and_refund_from_the_command_line_show_in_the_sandbox_chat(
    sandbox: aiohttp.ClientSession, env: dict[str, str]
) -> None:
    customer = Customer(sandbox)
    order_id = await buy_and_pay(customer)

    async def orders(*argv: str) -> int:
        return await asyncio.to_thread(main, ["orders", *argv], env)

    seen = len(await customer.history())
    assert await orders("ship", order_id, "--tracking", "https://track.example/1") == 0
    shipped = await customer.until("on its way", seen)
    assert "https://track.example/1" in text_of(shipped)

    seen = len(await customer.history())
    assert await orders("refund", order_id, "--amount", "100", "--reason", "late") == 0
    refunded = await customer.until("refunded", seen)  # after the stand-in's refund.processed
    assert "₹100.00" in text_of(refunded)


async def test_stock_set_on_the_stock_page_shows_sold_out_in_the_chat(
    sandbox: aiohttp.ClientSession,
) -> None:
    harvest = "darjeeling-first-flush-100"  # config.toml counts it, from 12
    page = await (await sandbox.get("/sandbox/stock")).text()
    assert harvest in page
    assert "sold out" not in page

    async with sandbox.post(
        "/sandbox/stock", data={"product_id": harvest, "count": "0", "action": "set"}
    ) as response:
        assert response.status == 200  # after the redirect back to the page
        page = await response.text()
    assert f"{harvest}: 0 in stock, 0 for sale" in page
    assert "sold out" in page

    customer = Customer(sandbox)
    welcome = await customer.say("hi", "welcome")
    categories = await customer.tap(button_ids(welcome), "Browse", "category")
    products = await customer.pick(row_ids(categories), "Tea", "pick a product")
    assert "Sold out · ₹549.00 · Darjeeling First Flush 100 g" in text_of(products)
    await customer.pick(row_ids(products), "Darjeeling", "is sold out")

    async with sandbox.post(
        "/sandbox/stock", data={"product_id": harvest, "count": "-1", "action": "add"}
    ) as response:
        assert "Not changed" in await response.text()


async def test_the_chat_shows_blue_ticks_and_typing_on_the_customers_message(
    sandbox: aiohttp.ClientSession,
) -> None:
    customer = Customer(sandbox)
    await customer.say("hi", "welcome")
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        async with sandbox.get(f"/sandbox/api/customers/{PHONE}/messages") as response:
            items = (await response.json())["items"]
        [hello] = [item for item in items if item["sender"] == "customer"]
        if hello["status"] == "read" and hello["typing"]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the customer's message is {hello['status']}, typing={hello['typing']}")
