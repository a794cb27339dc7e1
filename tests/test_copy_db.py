"""`python -m bot copy-db`: a shop that started on SQLite moves to Postgres with everything —
customers, conversations, orders and their history, events, and the messages and payment
calls still pending — and carries on there."""

import asyncio
from pathlib import Path

import pytest

from bot import keys
from bot.cli import main
from flows.catalog import ShopConfig
from flows.effects import CreatePaymentLink, PlaceOrder
from flows.events import TextReceived
from flows.messages import SendText
from flows.orders import Order, OrderLine
from flows.state import Conversation, Customer
from storage import open_store
from storage.repository import NewEvent, Store
from tests.support.harness import running_shop
from tests.test_shop_end_to_end import ASHA, shop_until_pay_now

ROHAN = "919812300002"
NOW = 1_790_000_100


async def a_shop_with_history(sqlite_url: str, shop_config: ShopConfig) -> None:
    """Asha pays for an order; Rohan's message, his reply and his payment link are pending."""
    async with running_shop(sqlite_url, shop_config) as shop:
        await shop_until_pay_now(shop)
        link = shop.razorpay.created[-1]
        await shop.post_razorpay(shop.razorpay.paid_webhook(link["id"]))
        await shop.settle()
    store = await open_store(sqlite_url)  # no workers: what it records stays pending
    try:
        rohan = Customer(key=ROHAN, phone=ROHAN, name="Rohan")
        (first,) = await store.record_events([text_event(rohan, "wamid.r1")], NOW)
        order = Order(
            id="ord_rohan",
            customer_key=ROHAN,
            lines=(OrderLine(product_id="tea", name="Tea", unit_price=100, quantity=3),),
            total=300,
            created_at=NOW,
        )
        await store.commit_step(
            event_id=first,
            customer=rohan,
            conversation=Conversation(),
            messages=[SendText(body="Your order is ready to pay")],
            effects=[
                PlaceOrder(order=order),
                CreatePaymentLink(order_id="ord_rohan", expire_by=NOW + 1800),
            ],
            now=NOW,
        )
        await store.record_events([text_event(rohan, "wamid.r2")], NOW + 1)
    finally:
        await store.close()


async def copy_db(source: str, target: str) -> int:
    """The command as a merchant types it (it runs its own event loop: off this one)."""
    return await asyncio.to_thread(main, ["copy-db", "--from", source, "--to", target])


def text_event(customer: Customer, wamid: str) -> NewEvent:
    return NewEvent(
        source="whatsapp",
        dedupe_key=f"whatsapp:{wamid}",
        raw="{}",
        event=TextReceived(message_id=wamid, text="hello"),
        customer=customer,
    )


async def everything(store: Store) -> dict[str, object]:
    orders = await store.list_orders(limit=1000)
    return {
        "orders": orders,
        "history": {o.id: await store.order_history(o.id) for o in orders},
        "customers": [await store.load_snapshot(key, None) for key in (ASHA, ROHAN)],
        "events": await store.unprocessed_events(),
        "outbox": await store.pending_outbox(),
        "jobs": await store.pending_jobs(),
    }


async def test_a_sqlite_shop_moves_to_postgres_whole_and_carries_on(
    tmp_path: Path, postgres_url: str, shop_config: ShopConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    await a_shop_with_history(sqlite_url, shop_config)
    source = await open_store(sqlite_url)
    before = await everything(source)
    await source.close()

    assert await copy_db(sqlite_url, postgres_url) == 0
    assert "orders" in capsys.readouterr().out

    target = await open_store(postgres_url)
    try:
        assert await everything(target) == before
        for pending in ("events", "outbox", "jobs"):
            assert before[pending], pending  # pending work moved too
        # New rows continue after the copied ids.
        (new_id,) = await target.record_events(
            [text_event(Customer(key=ASHA, phone=ASHA), "wamid.after-move")], NOW + 5
        )
        assert new_id > max(e.id for e in before["events"])  # type: ignore[attr-defined]
    finally:
        await target.close()

    # The moved shop serves: Rohan's pending message is answered after the move.
    async with running_shop(postgres_url, shop_config) as shop:
        await shop.settle()
        assert shop.replies(ROHAN)
        assert await shop.app[keys.STORE].unprocessed_events() == []


async def test_copy_refuses_a_target_that_holds_data(
    tmp_path: Path, postgres_url: str, shop_config: ShopConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    await a_shop_with_history(sqlite_url, shop_config)
    assert await copy_db(sqlite_url, postgres_url) == 0
    capsys.readouterr()

    assert await copy_db(sqlite_url, postgres_url) == 2
    assert "already holds data" in capsys.readouterr().err


def test_copy_takes_sqlite_to_postgres_only(capsys: pytest.CaptureFixture[str]) -> None:
    pg = "postgres://u:secret@127.0.0.1:1/shop"
    assert main(["copy-db", "--from", pg, "--to", pg]) == 2
    err = capsys.readouterr().err
    assert "--from must be a SQLite URL" in err
    assert "secret" not in err
