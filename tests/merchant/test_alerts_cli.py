"""`python -m bot alerts list|resend`: the merchant reads the delivery log and sends one
again from the command line."""

import asyncio

import pytest

from bot.cli import main
from flows.effects import SetOrderStatus
from flows.orders import OrderStatus
from storage import open_store
from storage.repository import AlertStatus
from tests.storage.store_support import NOW, Shop


async def paid_order_with_a_failed_webhook(database_url: str) -> int:
    store = await open_store(database_url)
    try:
        shop = Shop(store)
        asha = shop.customer(1)
        await shop.place_order(asha, "ord_1")
        paid = SetOrderStatus(
            order_id="ord_1", status=OrderStatus.PAID, at=NOW, payment_id="pay_1", reason="paid"
        )
        result = await shop.step(asha, effects=[paid], alert_channels=["webhook", "email"])
        webhook_id = result.alert_ids[0]
        await store.record_alert_attempt(webhook_id, AlertStatus.FAILED, "HTTP 410", NOW, NOW)
        return webhook_id
    finally:
        await store.close()


async def test_list_shows_each_delivery_and_resend_queues_it_again(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    webhook_id = await paid_order_with_a_failed_webhook(database_url)
    env = {"DATABASE_URL": database_url}

    assert await _main(["alerts", "list", "ord_1"], env) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 2
    assert f"#{webhook_id} " in listed[0]
    assert "webhook  failed after 1 attempt(s)  (HTTP 410)" in listed[0]
    assert "email  pending after 0 attempt(s)" in listed[1]

    assert await _main(["alerts", "resend", str(webhook_id)], env) == 0
    assert "queued again" in capsys.readouterr().out
    assert await _main(["alerts", "list"], env) == 0
    assert "webhook  pending after 0 attempt(s)" in capsys.readouterr().out

    assert await _main(["alerts", "resend", "999"], env) == 1
    assert "no alert #999" in capsys.readouterr().err


async def _main(argv: list[str], env: dict[str, str]) -> int:
    """The command runs its own event loop: keep it off the test's."""
    return await asyncio.to_thread(main, argv, env)
