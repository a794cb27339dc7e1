"""Order status changes: storage applies only the allowed ones, so a late expiry or a
replayed webhook can never undo a payment."""

import pytest

from flows.effects import SetOrderStatus
from flows.orders import OrderStatus as S
from storage.repository import Store
from tests.storage.store_support import NOW, Shop

ALLOWED = {
    (S.PENDING_PAYMENT, S.PAID),
    (S.PENDING_PAYMENT, S.EXPIRED),
    (S.PENDING_PAYMENT, S.CANCELLED),
    (S.PENDING_PAYMENT, S.FLAGGED),
    (S.EXPIRED, S.PAID),
    (S.EXPIRED, S.FLAGGED),
    (S.CANCELLED, S.PAID),
    (S.CANCELLED, S.FLAGGED),
}
# How to reach each starting status from pending_payment.
ROUTE = {
    S.PENDING_PAYMENT: (),
    S.PAID: (S.PAID,),
    S.EXPIRED: (S.EXPIRED,),
    S.CANCELLED: (S.CANCELLED,),
    S.FLAGGED: (S.FLAGGED,),
}


def _set(status: S, at: int, payment_id: str | None = None) -> SetOrderStatus:
    return SetOrderStatus(
        order_id="ord_1", status=status, at=at, payment_id=payment_id, reason=f"to {status}"
    )


@pytest.mark.parametrize("start", list(S))
@pytest.mark.parametrize("target", list(S))
async def test_transition_table(shop: Shop, store: Store, start: S, target: S) -> None:
    c = shop.customer(1)
    await shop.place_order(c, "ord_1")
    await shop.step(c, effects=[_set(s, NOW + 10) for s in ROUTE[start]])
    before = await store.order_history("ord_1")

    await shop.step(c, effects=[_set(target, NOW + 20, payment_id="pay_9")])

    order = await store.get_order("ord_1")
    assert order is not None
    history = await store.order_history("ord_1")
    if (start, target) in ALLOWED:
        assert order.status is target
        assert history == [*before, (target.value, NOW + 20, f"to {target}")]
    else:
        assert order.status is start
        assert history == before


async def test_paid_records_payment_and_is_final(shop: Shop, store: Store) -> None:
    c = shop.customer(1)
    await shop.place_order(c, "ord_1")
    await shop.step(c, effects=[_set(S.EXPIRED, NOW + 5)])
    await shop.step(c, effects=[_set(S.PAID, NOW + 10, payment_id="pay_1")])
    await shop.step(c, effects=[_set(S.EXPIRED, NOW + 20), _set(S.FLAGGED, NOW + 30)])
    order = await store.get_order("ord_1")
    assert order is not None
    assert (order.status, order.payment_id, order.paid_at) == (S.PAID, "pay_1", NOW + 10)
    assert [status for status, _, _ in await store.order_history("ord_1")] == [
        "pending_payment",
        "expired",
        "paid",
    ]


async def test_status_change_for_unknown_order_is_skipped(shop: Shop, store: Store) -> None:
    result = await shop.step(shop.customer(1), effects=[_set(S.PAID, NOW)])
    assert result.outbox_ids  # the step itself still commits
    assert await store.order_history("ord_1") == []
