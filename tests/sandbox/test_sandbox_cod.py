"""Cash on delivery in the sandbox, over HTTP as the chat page uses it: with
`cash_on_delivery = true` the chat shows "Pay on delivery" beside "Pay now", and /sandbox/orders
shows the order confirmed with its cash due."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

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
from tests.support.ports import free_port


async def order_summary(asha: Customer) -> dict[str, Any]:
    """The order summary with its buttons (it follows "preparing your payment link")."""
    for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):
        for message in reversed(await asha.shop_messages()):
            if "Pay now" in str(message.get("interactive", {}).get("action", {})):
                return message
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError("no order summary came")


@pytest.fixture
async def cod_shop_url(tmp_path: Path) -> AsyncIterator[str]:
    config = (REPO_ROOT / "config.toml").read_text(encoding="utf-8")
    config = config.replace("cash_on_delivery = false", "cash_on_delivery = true")
    (tmp_path / "config.toml").write_text(config, encoding="utf-8")
    port = free_port()
    env = {"PORT": str(port), "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}"}
    settings = sandbox_settings(load_settings(env))
    await migrate(settings.database_url)
    runner = web.AppRunner(create_app(settings, load_shop_config(tmp_path / "config.toml")))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_the_chat_offers_pay_on_delivery_and_the_orders_page_shows_the_cash_due(
    cod_shop_url: str,
) -> None:
    async with aiohttp.ClientSession() as session:
        asha = Customer(session, cod_shop_url)
        welcome = await asha.say("hi")
        categories = await asha.tap(welcome, "browse")
        products = await asha.tap(categories, ".")
        product = await asha.tap(products, ".")
        added = await asha.tap(product, r"^\s*1\s*$")
        await asha.tap(added, "checkout")
        await asha.say("12 MG Road, Bengaluru 560001")
        summary = await order_summary(asha)
        titles = [b["reply"]["title"] for b in summary["interactive"]["action"]["buttons"]]
        assert titles == ["Pay now", "Pay on delivery", "Cancel order"]

        confirmed = await asha.tap(summary, "pay on delivery")
        assert "in cash when it is delivered" in str(confirmed)

        async with session.get(f"{cod_shop_url}/sandbox/orders") as response:
            page = await response.text()
        assert "cash on delivery · cod_due" in page
        assert "pay on delivery chosen" in page
