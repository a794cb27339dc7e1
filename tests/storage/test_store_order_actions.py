"""The merchant's actions on an order, on both backends: applied once, in the history with who,
the customer told (or why not), refunds never above what was paid."""

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from flows.effects import SetOrderStatus
from flows.lifecycle import Verdict
from flows.messages import SendTemplate, SendText
from flows.notices import NoticeContext, TemplateRef, Templates
from flows.orders import FulfilmentStatus, OrderStatus
from flows.texts import Texts
from storage import migrate, open_store
from storage.repository import (
    ActionKind,
    HistoryEntry,
    MerchantAction,
    RefundSettlement,
    Store,
)
from tests.storage.store_support import NOW, Shop

LATER = NOW + 3600
TEMPLATES = Templates(order_shipped=TemplateRef(name="order_shipped", language="en_US"))


def notices(last_inbound_at: int | None) -> NoticeContext:
    return NoticeContext(Texts(), TEMPLATES, last_inbound_at, LATER)


def action(kind: ActionKind, order_id: str = "ord_1", **kw: object) -> MerchantAction:
    return MerchantAction(
        kind=kind,
        order_id=order_id,
        by="cli:asha",
        at=LATER,
        notice_context=notices,
        **kw,  # type: ignore[arg-type]
    )


def refund(amount: int, request_key: str, **kw: object) -> MerchantAction:
    return action(ActionKind.REFUND, amount=amount, request_key=request_key, **kw)


async def paid_order(shop: Shop, order_id: str = "ord_1") -> None:
    c = shop.customer(1)
    await shop.place_order(c, order_id)  # a text from the customer at NOW: window open
    paid = SetOrderStatus(order_id=order_id, status=OrderStatus.PAID, payment_id="pay_1", at=NOW)
    await shop.step(c, effects=[paid], messages=[])


async def test_ship_is_applied_once_and_tells_the_customer(shop: Shop, store: Store) -> None:
    await paid_order(shop)
    ship = action(ActionKind.SHIP, courier="DTDC", tracking_number="AWB123")

    first = await store.act_on_order(ship)
    again = await store.act_on_order(ship)  # a double click

    assert first.verdict is Verdict.DO
    assert again.verdict is Verdict.ALREADY
    order = await store.get_order("ord_1")
    assert order is not None
    assert (order.fulfilment, order.courier, order.tracking_number, order.shipped_at) == (
        FulfilmentStatus.SHIPPED,
        "DTDC",
        "AWB123",
        LATER,
    )
    timeline = await store.order_timeline("ord_1")
    assert timeline[-1] == HistoryEntry("shipped", LATER, "DTDC, AWB123", "cli:asha")
    (told,) = first.outbox_ids
    sent = await store.get_outbox(told)
    assert sent is not None
    assert isinstance(sent.message, SendText)
    assert "Courier: DTDC" in sent.message.body
    assert sent.recipient_phone == shop.customer(1).phone


async def test_outside_the_window_a_template_or_a_note_why_not(shop: Shop, store: Store) -> None:
    await paid_order(shop)
    late = MerchantAction(
        kind=ActionKind.SHIP,
        order_id="ord_1",
        by="cli:asha",
        at=LATER,
        notice_context=lambda last: NoticeContext(Texts(), TEMPLATES, last, NOW + 86_400),
    )
    shipped = await store.act_on_order(late)
    sent = await store.get_outbox(shipped.outbox_ids[0])
    assert sent is not None
    assert sent.message == SendTemplate(
        name="order_shipped", language="en_US", body_parameters=("ord_1", "-", "-")
    )

    delivered = await store.act_on_order(
        MerchantAction(
            kind=ActionKind.DELIVER,
            order_id="ord_1",
            by="cli:asha",
            at=LATER,
            notice_context=lambda last: NoticeContext(Texts(), TEMPLATES, last, NOW + 86_400),
        )
    )
    assert delivered.verdict is Verdict.DO
    assert delivered.outbox_ids == ()
    last = (await store.order_timeline("ord_1"))[-1]
    assert (last.status, last.reason) == (
        "customer not told",
        "outside the 24-hour window and no [templates] order_delivered in config.toml",
    )


async def test_an_unpaid_order_cancels_with_its_link(shop: Shop, store: Store) -> None:
    c = shop.customer(1)
    await shop.place_order(c, "ord_1")
    result = await store.act_on_order(action(ActionKind.CANCEL))
    order = await store.get_order("ord_1")
    assert order is not None
    assert (order.status, order.fulfilment) == (OrderStatus.CANCELLED, FulfilmentStatus.CANCELLED)
    assert result.verdict is Verdict.DO


async def test_a_paid_order_is_cancelled_only_with_a_refund(shop: Shop, store: Store) -> None:
    await paid_order(shop)
    refused = await store.act_on_order(action(ActionKind.CANCEL))
    assert refused.verdict is Verdict.REFUSED
    assert "refund it" in refused.message

    both = await store.act_on_order(action(ActionKind.CANCEL, refund=True, reason="out of stock"))
    assert both.verdict is Verdict.DO
    (refund,) = await store.refunds("ord_1")
    assert (refund.amount, refund.status, refund.requested_by) == (50_000, "pending", "cli:asha")
    assert len(both.job_ids) == 1


async def test_partial_refunds_add_up_and_never_exceed_the_payment(
    shop: Shop, store: Store
) -> None:
    await paid_order(shop)
    first = await store.act_on_order(refund(20_000, "form-1", reason="one"))
    retried = await store.act_on_order(refund(20_000, "form-1", reason="one"))
    too_much = await store.act_on_order(refund(30_001, "form-2", reason="two"))
    rest = await store.act_on_order(refund(30_000, "form-3", reason="two"))

    assert [r.verdict for r in (first, retried, too_much, rest)] == [
        Verdict.DO,
        Verdict.ALREADY,
        Verdict.REFUSED,
        Verdict.DO,
    ]
    refunds = await store.refunds("ord_1")
    assert [r.amount for r in refunds] == [20_000, 30_000]
    assert len({r.idempotency_key for r in refunds}) == 2
    order = await store.get_order("ord_1")
    assert order is not None
    assert order.refunds_requested_total == 50_000


async def test_a_processed_refund_counts_once_and_a_failed_one_frees_its_amount(
    shop: Shop, store: Store
) -> None:
    await paid_order(shop)
    await store.act_on_order(refund(20_000, "form-1", reason="one"))
    await store.act_on_order(refund(10_000, "form-2", reason="two"))
    one, two = await store.refunds("ord_1")
    await store.record_refund_answer(one.id, "rfnd_1", '{"status": "pending"}')

    def settle(status: str, **kw: object) -> RefundSettlement:
        return RefundSettlement(
            status=status, at=LATER, by="razorpay", notice_context=notices, **kw
        )  # type: ignore[arg-type]

    processed = await store.settle_refund(settle("processed", provider_refund_id="rfnd_1"))
    repeated = await store.settle_refund(settle("processed", provider_refund_id="rfnd_1"))
    failed = await store.settle_refund(settle("failed", refund_id=two.id, failure="no balance"))

    assert [processed.verdict, repeated.verdict, failed.verdict] == [
        Verdict.DO,
        Verdict.ALREADY,
        Verdict.DO,
    ]
    order = await store.get_order("ord_1")
    assert order is not None
    assert (order.refunded_total, order.refunds_requested_total) == (20_000, 20_000)
    (told,) = processed.outbox_ids
    sent = await store.get_outbox(told)
    assert sent is not None
    assert isinstance(sent.message, SendText)
    assert "₹200.00" in sent.message.body


async def test_a_fully_refunded_order_refuses_any_more(shop: Shop, store: Store) -> None:
    await paid_order(shop)
    await store.act_on_order(refund(50_000, "form-1"))
    order = await store.get_order("ord_1")
    assert order is not None
    assert order.refunds_requested_total == order.total
    refused = await store.act_on_order(refund(1, "form-2", reason="more"))
    assert refused.verdict is Verdict.REFUSED


@pytest.mark.parametrize(
    ("statuses", "search", "expected"),
    [
        ((), None, ["ord_2", "ord_1"]),
        (("paid",), None, ["ord_1"]),
        (("awaiting",), None, ["ord_2"]),
        (("unfulfilled",), None, ["ord_2", "ord_1"]),
        ((), "ord_2", ["ord_2"]),
        ((), "0002", ["ord_2"]),  # part of the second customer's phone
    ],
)
async def test_search_orders(
    shop: Shop, store: Store, statuses: tuple[str, ...], search: str | None, expected: list[str]
) -> None:
    await paid_order(shop)
    await shop.place_order(shop.customer(2), "ord_2", created_at=NOW + 5)
    found = await store.search_orders(statuses, search, 50)
    assert [o.id for o in found] == expected


async def test_the_customers_last_message_opens_the_window(shop: Shop, store: Store) -> None:
    await paid_order(shop)  # the last step was a payment: the text before it counts
    closed = await store.act_on_order(
        MerchantAction(
            kind=ActionKind.SHIP,
            order_id="ord_1",
            by="cli:asha",
            at=LATER,
            notice_context=lambda last: NoticeContext(Texts(), Templates(), last, LATER),
        )
    )
    assert closed.outbox_ids  # NOW (the text) is one hour before LATER: inside the window


async def test_the_database_itself_refuses_more_refunded_than_paid(
    db_url: str, db_path: Path
) -> None:
    """The last guard, below the rules: even a hand-written UPDATE cannot record it."""
    await migrate(db_url)
    store = await open_store(db_url)
    try:
        await paid_order(Shop(store))
    finally:
        await store.close()
    with closing(sqlite3.connect(db_path)) as conn:
        for column in ("refunds_requested_total", "refunded_total"):
            with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
                conn.execute(f"UPDATE orders SET {column} = total + 1")  # noqa: S608


async def test_two_equal_refunds_asked_by_two_requests_are_two_refunds(
    shop: Shop, store: Store
) -> None:
    await paid_order(shop)
    one = await store.act_on_order(refund(10_000, "wamid.A", reason="jar broken"))
    two = await store.act_on_order(refund(10_000, "wamid.B", reason="jar broken"))
    retried = await store.act_on_order(refund(10_000, "wamid.B", reason="jar broken"))

    assert [one.verdict, two.verdict, retried.verdict] == [
        Verdict.DO,
        Verdict.DO,
        Verdict.ALREADY,
    ]
    assert [r.amount for r in await store.refunds("ord_1")] == [10_000, 10_000]


async def test_a_refund_without_the_request_that_asked_it_is_a_bug(
    shop: Shop, store: Store
) -> None:
    await paid_order(shop)
    with pytest.raises(ValueError, match="request_key"):
        await store.act_on_order(action(ActionKind.REFUND, amount=10_000, reason="one"))
    assert await store.refunds("ord_1") == []
