"""`python -m bot orders …` against a running shop: the merchant lists, ships, refunds and
exports from a terminal, through the same service as everything else. The command runs in
its own thread (its own event loop, as in its own process) next to the shop's fakes."""

import asyncio
import csv
import io
import time
from typing import Any

import pytest

from bot import keys
from bot.cli import main
from flows.catalog import ShopConfig
from flows.orders import FulfilmentStatus
from tests.conftest import REPO
from tests.merchant.test_channels import SECRET
from tests.support.harness import FakeClock, Shop, button_ids, running_shop, text_of
from tests.test_order_lifecycle_end_to_end import paid_order
from tests.test_shop_end_to_end import ADDRESS, ASHA, shop_until_pay_now


def env_of(shop: Shop) -> dict[str, str]:
    settings = shop.settings
    secret: Any = settings.razorpay_webhook_secret[0]
    token: Any = settings.whatsapp_access_token
    key: Any = settings.razorpay_key_secret
    return {
        "DATABASE_URL": settings.database_url,
        "BOT_CONFIG": str(REPO / "config.toml"),
        "WHATSAPP_ACCESS_TOKEN": token.get_secret_value(),
        "WHATSAPP_PHONE_NUMBER_ID": settings.whatsapp_phone_number_id or "",
        "WHATSAPP_APP_SECRET": "app-secret",
        "WHATSAPP_VERIFY_TOKEN": "verify",
        "WHATSAPP_API_BASE": settings.whatsapp_api_base,
        "RAZORPAY_KEY_ID": settings.razorpay_key_id or "",
        "RAZORPAY_KEY_SECRET": key.get_secret_value(),
        "RAZORPAY_WEBHOOK_SECRET": secret.get_secret_value(),
        "RAZORPAY_API_BASE": settings.razorpay_api_base,
        "RETRY_BASE_SECONDS": "0.01",
    }


def now() -> FakeClock:
    """The command reads the machine's clock: the customer wrote just now by it too (inside
    WhatsApp's 24-hour window)."""
    return FakeClock(time.time())


async def orders(shop: Shop, *argv: str) -> int:
    return await asyncio.to_thread(main, ["orders", *argv], env_of(shop))


async def test_ship_from_the_command_line_tells_the_customer(
    database_url: str, shop_config: ShopConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_shop(database_url, shop_config, clock=now()) as shop:
        order_id = await paid_order(shop)

        assert await orders(shop, "list", "--status", "paid") == 0
        assert order_id in capsys.readouterr().out

        code = await orders(shop, "ship", order_id, "--courier", "DTDC", "--tracking", "AWB9")
        assert code == 0
        assert capsys.readouterr().out == f"order {order_id} shipped\n"
        assert "Tracking: AWB9" in text_of(shop.last_reply(ASHA))  # sent by the command

        assert await orders(shop, "ship", order_id) == 0  # run again: done once
        assert capsys.readouterr().out.startswith("already done:")
        order = await shop.app[keys.STORE].get_order(order_id)
        assert order is not None
        assert order.fulfilment is FulfilmentStatus.SHIPPED


async def test_an_action_from_the_command_line_queues_the_merchants_alerts(
    database_url: str, shop_config: ShopConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = {
        "MERCHANT_WEBHOOK_URL": "http://127.0.0.1:9/merchant",
        "MERCHANT_WEBHOOK_SECRET": SECRET,
        "MERCHANT_WEBHOOK_ALLOW_PRIVATE": "1",
        "OWNER_WHATSAPP": "919900000077",
    }
    async with running_shop(database_url, shop_config, clock=now(), extra_env=hook) as shop:
        order_id = await paid_order(shop)
        env = {**env_of(shop), **hook}

        assert await asyncio.to_thread(main, ["orders", "deliver", order_id], env) == 0

        alerts = await shop.app[keys.STORE].order_alerts(order_id)
        delivered = sorted(a.channel for a in alerts if a.event_type == "order.delivered")
        assert delivered == ["webhook", "whatsapp:919900000077"]  # the bot's worker sends them


async def test_refund_in_rupees_and_cancel_asks_for_a_refund(
    database_url: str, shop_config: ShopConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_shop(database_url, shop_config, clock=now()) as shop:
        order_id = await paid_order(shop)

        assert await orders(shop, "cancel", order_id) == 4
        assert "refund it to cancel it" in capsys.readouterr().err

        refund = ("refund", order_id, "--amount", "12.50", "--request-id", "r1")
        assert await orders(shop, *refund) == 0
        assert await orders(shop, *refund) == 0  # a retry: the same request id
        assert "asked for already" in capsys.readouterr().out
        assert await orders(shop, "refund", order_id, "--amount", "1000") == 4
        refunds = [body for _, path, body in shop.razorpay.requests if path.endswith("/refund")]
        assert [body["amount"] for body in refunds] == [1250]
        # Another run without an id is another refund, even of the same amount.
        assert await orders(shop, "refund", order_id, "--amount", "12.50") == 0
        refunds = [body for _, path, body in shop.razorpay.requests if path.endswith("/refund")]
        assert [body["amount"] for body in refunds] == [1250, 1250]

        assert await orders(shop, "show", order_id) == 0
        shown = capsys.readouterr().out
        assert "refund requested [cli:" in shown
        assert "Refund #1: ₹12.50 pending" in shown
        assert "Refund #2: ₹12.50 pending" in shown


async def test_export_is_a_csv_a_spreadsheet_reads(
    database_url: str, shop_config: ShopConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_shop(database_url, shop_config, clock=now()) as shop:
        order_id = await paid_order(shop)
        capsys.readouterr()

        assert await orders(shop, "export") == 0

        rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
        assert rows == [
            {
                "order_id": order_id,
                "date": rows[0]["date"],
                "customer_name": "Asha",
                "phone": ASHA,
                "address": ADDRESS,
                "items": "2 x Masala Chai 250 g",
                "total": "498.00",
                "currency": "INR",
                "payment_status": "paid",
                "fulfilment_status": "unfulfilled",
                "courier": "",
                "tracking": "",
            }
        ]


async def test_a_cash_on_delivery_order_is_marked_paid_from_the_command_line(
    database_url: str, shop_config: ShopConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    checkout = shop_config.checkout.model_copy(update={"cash_on_delivery": True})
    config = shop_config.model_copy(update={"checkout": checkout})
    async with running_shop(database_url, config, clock=now()) as shop:
        summary = await shop_until_pay_now(shop)
        order_id = str(shop.razorpay.created[0]["reference_id"])
        await shop.tap(ASHA, button_ids(summary)["Pay on delivery"])
        await shop.settle()

        assert await orders(shop, "list", "--status", "cod_due") == 0
        assert order_id in capsys.readouterr().out

        assert await orders(shop, "paid", order_id, "--reason", "cash at the counter") == 0
        assert capsys.readouterr().out == f"order {order_id} paid: ₹498.00 in cash\n"
        assert await orders(shop, "paid", order_id) == 0  # run again: done once
        assert capsys.readouterr().out.startswith("already done:")
        history = await shop.app[keys.STORE].order_history(order_id)
        assert ("paid", "cash at the counter") in [(s, r) for s, _, r in history]
