"""The whole sandbox with PAYMENT_PROVIDER=stripe or paystack: the customer chats, opens the
stand-in's checkout page, taps Pay (or Fail, or Let it expire) and the shop hears it through the
signed webhook the real provider would send; the browser comes back to the shop's callback; a
refund settles from the stand-in's webhook a moment later."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web

from bot import keys
from bot.app import create_app
from bot.sandbox import sandbox_settings
from bot.settings import load_settings
from bot.shop_config import load_shop_config
from flows.lifecycle import PaymentStatus, payment_status
from flows.orders import OrderStatus
from storage.migrate import migrate
from tests.fixtures_path import REPO_ROOT
from tests.sandbox.test_sandbox_merchant_loop import (
    POLL_SECONDS,
    WAIT_SECONDS,
    Customer,
)
from tests.support.ports import free_port


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(int(WAIT_SECONDS / POLL_SECONDS)):
        if await check():
            return
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError("did not happen in time")


class Sandbox:
    def __init__(self, app: web.Application, url: str, session: aiohttp.ClientSession) -> None:
        self.app = app
        self.url = url
        self.session = session
        self.asha = Customer(session, url)

    async def link(self) -> tuple[str, str]:
        """Chat until the payment link arrives; its order id and its path on this server."""
        welcome = await self.asha.say("hi")
        products = await self.asha.tap(await self.asha.tap(welcome, "browse"), ".")
        added = await self.asha.tap(await self.asha.tap(products, "."), r"^\s*1\s*$")
        await self.asha.tap(added, "checkout")
        await self.asha.say("12 MG Road, Bengaluru 560001")
        summaries: list[dict[str, Any]] = []

        async def summarised() -> bool:
            # "Your link is on its way" comes first; the summary once the link exists.
            summaries[:] = [
                m
                for m in await self.asha.shop_messages()
                if "Pay now" in str(m.get("interactive", {}).get("action", {}))
            ]
            return bool(summaries)

        await eventually(summarised)
        await self.asha.tap(summaries[-1], "pay now")
        found: list[str] = []

        async def arrived() -> bool:
            found[:] = [
                m["interactive"]["action"]["parameters"]["url"]
                for m in await self.asha.shop_messages()
                if m.get("interactive", {}).get("action", {}).get("name") == "cta_url"
            ]
            return bool(found)

        await eventually(arrived)
        [order] = await self.app[keys.STORE].list_orders()
        return order.id, urlsplit(found[-1]).path

    async def press(self, page: str, action: str) -> aiohttp.ClientResponse:
        async with self.session.get(self.url + page) as shown:
            assert shown.status == 200
            assert "Pay ₹" in await shown.text()
        async with self.session.post(f"{self.url}{page}/{action}", allow_redirects=False) as done:
            return done

    async def order_status(self, order_id: str) -> Any:
        order = await self.app[keys.STORE].get_order(order_id)
        assert order is not None
        return order


@pytest.fixture(params=["stripe", "paystack"])
async def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Sandbox]:
    port = free_port()
    env = {
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "PAYMENT_PROVIDER": request.param,
    }
    settings = sandbox_settings(load_settings(env))
    await migrate(settings.database_url)
    app = create_app(settings, load_shop_config(REPO_ROOT / "config.toml"))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession() as session:
        yield Sandbox(app, f"http://127.0.0.1:{port}", session)
    await runner.cleanup()


async def test_pay_on_the_stand_in_confirms_the_order_and_a_refund_settles(
    sandbox: Sandbox,
) -> None:
    order_id, page = await sandbox.link()
    provider = sandbox.app[keys.SETTINGS].provider.value
    assert page.startswith(f"/sandbox/{provider}/pay/")

    paid = await sandbox.press(page, "pay")
    assert paid.status == 302
    back = urlsplit(paid.headers["Location"])
    assert back.path == "/payments/callback"
    assert f"provider={provider}" in back.query

    async def confirmed() -> bool:
        return any("✅" in str(m) for m in await sandbox.asha.shop_messages())

    await eventually(confirmed)
    order = await sandbox.order_status(order_id)
    assert order.status is OrderStatus.PAID

    result = await sandbox.app[keys.MERCHANT].refund(order_id, order.total, by="test")
    assert result.message.startswith("refund of")

    async def refunded() -> bool:
        return payment_status(await sandbox.order_status(order_id)) is PaymentStatus.REFUNDED

    await eventually(refunded)


async def test_fail_and_expire_on_the_stand_in(sandbox: Sandbox) -> None:
    order_id, page = await sandbox.link()
    provider = sandbox.app[keys.SETTINGS].provider.value

    expired = await sandbox.press(page, "expire")
    assert expired.status == 303
    if provider == "stripe":

        async def told() -> bool:
            return (await sandbox.order_status(order_id)).status is OrderStatus.EXPIRED

        await eventually(told)
    else:
        # Paystack sends nothing when a transaction is abandoned: the order stays open.
        assert "expired-quiet" in expired.headers["Location"]
        assert (await sandbox.order_status(order_id)).status is OrderStatus.PENDING_PAYMENT


async def test_a_lost_webhook_leaves_the_order_open_but_the_providers_api_says_paid(
    sandbox: Sandbox,
) -> None:
    order_id, page = await sandbox.link()

    paid = await sandbox.press(page, "lost")
    assert paid.status == 302  # the browser still comes back to the shop

    order = await sandbox.order_status(order_id)
    assert order.status is OrderStatus.PENDING_PAYMENT  # no webhook: nothing confirmed it
    assert order.link is not None
    check = await sandbox.app[keys.PAYMENTS].check_payment(order.link.id, order_id)
    assert (check.state, check.amount_paid) == ("paid", order.total)
    assert check.order_id == order_id


async def test_a_lost_webhook_is_confirmed_once_when_the_customer_comes_back(
    sandbox: Sandbox,
) -> None:
    order_id, page = await sandbox.link()
    paid = await sandbox.press(page, "lost")

    # The customer's browser follows the redirect back to the shop: the shop asks the
    # provider's API (never the page's word) and confirms the order there and then.
    async with sandbox.session.get(paid.headers["Location"]) as back:
        assert back.status == 200
        assert "Payment received" in await back.text()

    async def confirmed() -> bool:  # the step that confirms it runs just after the answer
        return (await sandbox.order_status(order_id)).status is OrderStatus.PAID

    await eventually(confirmed)

    async def receipted() -> bool:
        return any("✅" in str(m) for m in await sandbox.asha.shop_messages())

    await eventually(receipted)
    receipts = [m for m in await sandbox.asha.shop_messages() if "✅" in str(m)]
    assert len(receipts) == 1
