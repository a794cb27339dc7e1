"""The sandbox's "webhook lost" buttons, over HTTP with the whole sandbox: the customer pays on
the Razorpay stand-in, no webhook comes, and the order is still confirmed on WhatsApp, once: by
the bot asking Razorpay when the browser comes back, or by the reconciliation sweep when the
customer never comes back either."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot import keys
from bot.app import create_app
from bot.sandbox import sandbox_settings
from bot.settings import load_settings
from bot.shop_config import load_shop_config
from storage.migrate import migrate
from tests.fixtures_path import REPO_ROOT
from tests.sandbox.test_sandbox_merchant_loop import (
    POLL_SECONDS,
    WAIT_SECONDS,
    Customer,
)
from tests.support.harness import FakeClock
from tests.support.ports import free_port


class Sandbox:
    def __init__(self, url: str, app: web.Application, clock: FakeClock) -> None:
        self.url, self.app, self.clock = url, app, clock


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    port = free_port()
    env = {"PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}"}
    settings = sandbox_settings(load_settings(env))
    await migrate(settings.database_url)
    clock = FakeClock(time.time())
    app = create_app(settings, load_shop_config(REPO_ROOT / "config.toml"), clock=clock)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield Sandbox(f"http://127.0.0.1:{port}", app, clock)
    await runner.cleanup()


async def checkout(asha: Customer) -> str:
    """Asha buys one thing and taps Pay now; returns the link's checkout page URL."""
    welcome = await asha.say("hi")
    categories = await asha.tap(welcome, "browse")
    products = await asha.tap(categories, ".")
    product = await asha.tap(products, ".")
    added = await asha.tap(product, r"^\s*1\s*$")
    await asha.tap(added, "checkout")
    summary = await asha.say("12 MG Road, Bengaluru 560001", until="Pay now")
    await asha.tap(summary, "pay now")
    for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):
        links = [
            m["interactive"]["action"]["parameters"]["url"]
            for m in await asha.shop_messages()
            if m.get("interactive", {}).get("action", {}).get("name") == "cta_url"
        ]
        if links:
            return str(links[-1])
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError("no payment link came")


async def confirmed(asha: Customer) -> int:
    """Wait for the confirmation; returns how many the customer got."""
    for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):
        count = sum("✅" in str(m) for m in await asha.shop_messages())
        if count:
            return count
        await asyncio.sleep(POLL_SECONDS)
    return 0


async def test_paid_with_the_webhook_lost_the_return_confirms_the_order(
    sandbox: Sandbox,
) -> None:
    async with aiohttp.ClientSession() as session:
        asha = Customer(session, sandbox.url)
        page_url = await checkout(asha)
        page = await (await session.get(page_url)).text()
        assert "Webhook lost (pay)" in page

        # The button pays and the browser comes back to the shop; Razorpay sends no webhook.
        async with session.post(page_url + "/pay_webhook_lost") as back:
            assert back.status == 200
            assert back.url.path == "/payments/callback"
            assert "Payment received" in await back.text()

        assert await confirmed(asha) == 1


async def test_paid_with_webhook_and_return_lost_the_sweep_confirms_the_order(
    sandbox: Sandbox,
) -> None:
    async with aiohttp.ClientSession() as session:
        asha = Customer(session, sandbox.url)
        page_url = await checkout(asha)

        async with session.post(page_url + "/pay_all_lost") as left:
            assert left.url.path != "/payments/callback"
            assert "reconciliation sweep" in await left.text()
        assert not any("✅" in str(m) for m in await asha.shop_messages())

        sandbox.clock.advance(61)  # the sweep's first look at an order awaiting payment
        assert await sandbox.app[keys.RECONCILER].sweep_once() == 1
        assert await confirmed(asha) == 1
