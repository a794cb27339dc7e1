"""The dashboard's storage operations on both backends: its lists of orders filtered and paged
by the database, the counts on its tabs, search by order id or phone, the messages sent about
an order, the login rate limit's memory, and a form (an alert resent, a stock change) acted on
once."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from flows.effects import SetOrderStatus
from flows.messages import SendText
from flows.notices import NoticeContext, Templates
from flows.orders import OrderStatus
from flows.texts import Texts
from storage import open_store
from storage.repository import (
    ActionKind,
    FormUse,
    LoginAttempt,
    MerchantAction,
    OrderView,
    Store,
)
from tests.storage.store_support import NOW, Shop

HOUR = 3600


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = await open_store(database_url)
    yield store
    await store.close()


@pytest.fixture
def shop(store: Store) -> Shop:
    return Shop(store)


def notices(last_inbound_at: int | None) -> NoticeContext:
    return NoticeContext(Texts(), Templates(), last_inbound_at, NOW + 10 * HOUR)


async def act(store: Store, kind: ActionKind, order_id: str, **kw: object) -> None:
    await store.act_on_order(
        MerchantAction(
            kind=kind,
            order_id=order_id,
            by="admin",
            at=NOW + 10 * HOUR,
            notice_context=notices,
            **kw,  # type: ignore[arg-type]
        )
    )


async def pay(shop: Shop, n: int, order_id: str, at: int) -> None:
    paid = SetOrderStatus(
        order_id=order_id, status=OrderStatus.PAID, payment_id=f"pay_{order_id}", at=at
    )
    await shop.step(shop.customer(n), effects=[paid], messages=[], now=at)


async def a_shop_of_every_kind(shop: Shop) -> None:
    """Seven orders by seven customers: two to pack (paid at different times), one awaiting
    payment, one shipped, one delivered, one cancelled unpaid, one partly refunded."""
    for n, order_id in enumerate(
        ["pack_new", "pack_old", "awaiting", "shipped", "delivered", "cancelled", "refunded"], 1
    ):
        await shop.place_order(shop.customer(n), order_id, created_at=NOW + n * HOUR)
    await pay(shop, 1, "pack_new", NOW + 9 * HOUR)
    await pay(shop, 2, "pack_old", NOW + 8 * HOUR)
    for n, order_id in [(4, "shipped"), (5, "delivered"), (7, "refunded")]:
        await pay(shop, n, order_id, NOW + 8 * HOUR)
    store = shop.store
    await act(store, ActionKind.SHIP, "shipped", courier="DTDC")
    await act(store, ActionKind.DELIVER, "delivered")
    await act(store, ActionKind.CANCEL, "cancelled")
    await act(
        store,
        ActionKind.REFUND,
        "refunded",
        amount=10_000,
        reason="one was broken",
        request_key="form-1",
    )


async def ids(store: Store, view: OrderView, search: str | None = None) -> list[str]:
    page = await store.order_page(view, search, 0, 50)
    return [row.order.id for row in page.rows]


async def test_each_list_holds_its_orders_to_pack_oldest_paid_first(
    shop: Shop, store: Store
) -> None:
    await a_shop_of_every_kind(shop)

    # Paid at +8 h, +8 h (placed later) and +9 h.
    assert await ids(store, OrderView.TO_PACK) == ["pack_old", "refunded", "pack_new"]
    assert await ids(store, OrderView.AWAITING) == ["awaiting"]
    assert await ids(store, OrderView.SHIPPED) == ["delivered", "shipped"]
    assert await ids(store, OrderView.CANCELLED) == ["cancelled"]
    assert await ids(store, OrderView.REFUNDED) == ["refunded"]
    assert await ids(store, OrderView.ALL) == [
        "refunded",
        "cancelled",
        "delivered",
        "shipped",
        "awaiting",
        "pack_old",
        "pack_new",
    ]
    counts = await store.order_view_counts()
    assert counts == {
        OrderView.TO_PACK: 3,
        OrderView.AWAITING: 1,
        OrderView.SHIPPED: 2,
        OrderView.CANCELLED: 1,
        OrderView.REFUNDED: 1,
        OrderView.ALL: 7,
    }


async def test_a_row_carries_its_customer(shop: Shop, store: Store) -> None:
    await shop.place_order(shop.customer(3, name="Ravi"), "ord_1")
    [row] = (await store.order_page(OrderView.ALL, None, 0, 10)).rows
    assert row.customer is not None
    assert (row.customer.name, row.customer.phone) == ("Ravi", "919876500003")


async def test_search_by_order_id_in_any_case_or_by_digits_of_the_phone(
    shop: Shop, store: Store
) -> None:
    await a_shop_of_every_kind(shop)

    assert await ids(store, OrderView.ALL, "PACK_OLD") == ["pack_old"]
    assert await ids(store, OrderView.ALL, "  pack_old ") == ["pack_old"]
    assert await ids(store, OrderView.ALL, "pack") == []  # ids match whole
    # Customer 4's phone is 919876500004.
    assert await ids(store, OrderView.ALL, "+91 98765 00004") == ["shipped"]
    assert await ids(store, OrderView.ALL, "500004") == ["shipped"]
    assert await ids(store, OrderView.TO_PACK, "500004") == []  # search within the list
    assert await ids(store, OrderView.ALL, "%") == []  # no wildcard from the search box


async def test_pages_follow_each_other_without_gaps(shop: Shop, store: Store) -> None:
    for n in range(1, 8):
        await shop.place_order(shop.customer(n), f"ord_{n}", created_at=NOW + n)

    seen: list[str] = []
    offset = 0
    while True:
        page = await store.order_page(OrderView.ALL, None, offset, 3)
        seen += [row.order.id for row in page.rows]
        offset += 3
        if not page.more:
            break
    assert seen == [f"ord_{n}" for n in range(7, 0, -1)]
    assert offset == 9  # pages of 3, 3 and 1


async def test_messages_about_an_order_are_those_since_it_was_placed(
    shop: Shop, store: Store
) -> None:
    asha = shop.customer(1)
    await shop.step(asha, messages=[SendText(body="Welcome!")], now=NOW - HOUR)
    await shop.place_order(asha, "ord_1", created_at=NOW)
    await shop.step(asha, messages=[SendText(body="Pay here")], now=NOW + 60)

    messages = await store.order_messages("ord_1")

    texts = [m.message.body for m in messages if isinstance(m.message, SendText)]
    assert "Welcome!" not in texts
    assert "Pay here" in texts
    assert all(m.status == "pending" for m in messages)


async def test_after_the_next_order_only_messages_naming_the_order_are_its_own(
    shop: Shop, store: Store
) -> None:
    asha = shop.customer(1)
    await shop.place_order(asha, "ord_1", created_at=NOW)
    await shop.step(asha, messages=[SendText(body="Pay for ord_1 here")], now=NOW + 60)
    await shop.place_order(asha, "ord_2", created_at=NOW + HOUR)
    await shop.step(asha, messages=[SendText(body="Pay for ord_2 here")], now=NOW + HOUR + 60)
    await shop.step(asha, messages=[SendText(body="ord_1 is on its way")], now=NOW + 2 * HOUR)

    first = [m.message.body for m in await store.order_messages("ord_1") if m.message]
    second = [m.message.body for m in await store.order_messages("ord_2") if m.message]

    assert "Pay for ord_1 here" in first
    assert "ord_1 is on its way" in first
    assert "Pay for ord_2 here" not in first
    assert "Pay for ord_2 here" in second
    assert "Pay for ord_1 here" not in second


def attempt(client: str, at: int, *, per_client: int = 3, in_all: int = 5) -> LoginAttempt:
    return LoginAttempt(
        id=f"{client}-{at}",
        client=client,
        at=at,
        since=at - 900,
        per_client=per_client,
        in_all=in_all,
    )


async def test_login_attempts_are_limited_per_client_and_in_all_within_the_window(
    store: Store,
) -> None:
    allowed = [await store.login_attempt(attempt("10.0.0.1", NOW + i)) for i in range(5)]
    assert allowed == [True, True, True, False, False]  # 3 per client
    # Refused attempts are not counted: others still have room in the shared window.
    assert await store.login_attempt(attempt("10.0.0.2", NOW + 10))
    assert await store.login_attempt(attempt("10.0.0.3", NOW + 11))
    assert not await store.login_attempt(attempt("10.0.0.4", NOW + 12))  # 5 in all

    # A client that signs in is forgotten; everyone's old attempts leave the window.
    await store.forget_login_failures("10.0.0.1")
    assert await store.login_attempt(attempt("10.0.0.4", NOW + 13))
    assert await store.login_attempt(attempt("10.0.0.1", NOW + 2000))
    assert await store.login_attempt(attempt("10.0.0.1", NOW + 2001))


async def test_parallel_login_attempts_cannot_slip_past_the_limit(store: Store) -> None:
    results = await asyncio.gather(
        *(store.login_attempt(attempt("10.0.0.9", NOW + i, per_client=3)) for i in range(12))
    )
    # However they interleave, no more than the limit get through (under contention even
    # fewer: each refused one counted itself before it was taken out).
    assert sum(results) <= 3


async def test_a_form_resends_an_alert_once_however_often_it_is_sent(
    shop: Shop, store: Store
) -> None:
    await shop.place_order(shop.customer(1), "ord_1")
    paid = SetOrderStatus(order_id="ord_1", status=OrderStatus.PAID, payment_id="pay_1", at=NOW)
    await shop.step(shop.customer(1), effects=[paid], messages=[], alert_channels=["webhook"])
    [alert] = await store.order_alerts("ord_1")
    await store.record_alert_attempt(alert.id, alert.status.DELIVERED, None, NOW, NOW)

    first = await store.resend_alert_once("form-token-aaaaaaaa", alert.id, NOW + 5)
    again = await store.resend_alert_once("form-token-aaaaaaaa", alert.id, NOW + 6)
    other = await store.resend_alert_once("form-token-bbbbbbbb", 999_999, NOW + 7)

    assert (first, again, other) == (FormUse.DONE, FormUse.ALREADY, FormUse.UNKNOWN)
    [resent] = await store.order_alerts("ord_1")
    assert resent.status.value == "pending"
    assert resent.next_attempt_at == NOW + 5


async def test_a_stock_form_sent_twice_at_once_changes_the_count_once(store: Store) -> None:
    await store.seed_stock({"chai": 5}, NOW)

    racing = await asyncio.gather(
        *(store.add_stock_once("stock-form-aaaaaaaa", "chai", 3, "admin", NOW) for _ in range(4))
    )
    set_twice = [
        await store.set_stock_once("stock-form-bbbbbbbb", "chai", 20, "admin", NOW + 1),
        await store.set_stock_once("stock-form-bbbbbbbb", "chai", 20, "admin", NOW + 2),
    ]

    uses = sorted(result.use for result in racing if result is not None)
    assert uses == [FormUse.ALREADY] * 3 + [FormUse.DONE]
    assert [result.use for result in set_twice] == [FormUse.DONE, FormUse.ALREADY]
    [level] = await store.stock_levels()
    assert (level.on_hand, level.updated_at, level.updated_by) == (20, NOW + 1, "admin")


async def test_a_stock_form_refused_below_zero_is_not_used_up(store: Store) -> None:
    await store.seed_stock({"chai": 5}, NOW)

    refused = await store.add_stock_once("stock-form-cccccccc", "chai", -6, "admin", NOW)
    corrected = await store.add_stock_once("stock-form-cccccccc", "chai", -5, "admin", NOW + 1)

    assert refused is None
    assert corrected is not None
    assert corrected.use is FormUse.DONE
    assert corrected.level is not None
    assert corrected.level.on_hand == 0
