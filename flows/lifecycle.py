"""The order's life after checkout, as pure rules: which status changes are allowed, and what
the merchant's actions (ship, deliver, cancel, refund) may do to an order.

An order has two separate statuses. Its payment status (`Order.status`, refined by the refunds
into `PaymentStatus`) says where the money is; its fulfilment status says where the goods are.
Storage applies the tables below inside the transaction that changes an order (as the WHERE
clause of the UPDATE), so every caller — the chat, webhooks, the CLI, a dashboard — goes
through them and a late or repeated request can never undo a later state.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from flows.money import format_money
from flows.orders import FulfilmentStatus, Order, OrderStatus

_S = OrderStatus
ALLOWED_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    _S.PENDING_PAYMENT: frozenset({_S.PAID, _S.EXPIRED, _S.CANCELLED, _S.FLAGGED}),
    # A payment can land after the link expired or was replaced: the money is real, record it.
    _S.EXPIRED: frozenset({_S.PAID, _S.FLAGGED}),
    _S.CANCELLED: frozenset({_S.PAID, _S.FLAGGED}),
    _S.PAID: frozenset(),
    _S.FLAGGED: frozenset(),
}
"""Payment status changes storage applies; any other `SetOrderStatus` is skipped. Refunds do
not change this status: they add up in `Order.refunded_total` (see `payment_status`)."""

_F = FulfilmentStatus
FULFILMENT_TRANSITIONS: Mapping[FulfilmentStatus, frozenset[FulfilmentStatus]] = {
    # Delivered straight from unfulfilled: a customer who collects from the shop.
    _F.UNFULFILLED: frozenset({_F.SHIPPED, _F.DELIVERED, _F.CANCELLED}),
    _F.SHIPPED: frozenset({_F.DELIVERED}),
    _F.DELIVERED: frozenset(),
    _F.CANCELLED: frozenset(),
}
"""Fulfilment status changes storage applies; the merchant's actions are checked against it."""


def sources(target: FulfilmentStatus) -> tuple[str, ...]:
    """The fulfilment statuses an order may move to `target` from (for a guarded UPDATE)."""
    return tuple(s.value for s, targets in FULFILMENT_TRANSITIONS.items() if target in targets)


class PaymentStatus(StrEnum):
    """What the merchant and the customer see of the money, refunds included."""

    AWAITING = "awaiting"
    COD_DUE = "cod_due"  # confirmed for cash on delivery: the merchant collects, then marks it
    PAID = "paid"
    PARTLY_REFUNDED = "partly_refunded"
    REFUNDED = "refunded"
    FLAGGED = "flagged"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


_FROM_ORDER_STATUS = {
    _S.PENDING_PAYMENT: PaymentStatus.AWAITING,
    _S.PAID: PaymentStatus.PAID,
    _S.FLAGGED: PaymentStatus.FLAGGED,
    _S.EXPIRED: PaymentStatus.EXPIRED,
    _S.CANCELLED: PaymentStatus.CANCELLED,
}


def payment_status(order: Order) -> PaymentStatus:
    if order.status is _S.PENDING_PAYMENT and order.cash_on_delivery:
        return PaymentStatus.COD_DUE
    if order.status is _S.PAID and order.refunded_total > 0:
        if order.refunded_total >= order.total:
            return PaymentStatus.REFUNDED
        return PaymentStatus.PARTLY_REFUNDED
    return _FROM_ORDER_STATUS[order.status]


# --- the merchant's actions ----------------------------------------------------------------------


class Verdict(StrEnum):
    DO = "do"  # allowed: apply it
    ALREADY = "already"  # the order is already there: a double click, a retried command
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Ruling:
    verdict: Verdict
    reason: str = ""


_DO = Ruling(Verdict.DO)


def _refused(reason: str) -> Ruling:
    return Ruling(Verdict.REFUSED, reason)


def _fulfilment_move(order: Order, target: FulfilmentStatus) -> Ruling:
    if order.fulfilment is target:
        return Ruling(Verdict.ALREADY, f"order {order.id} is already {target.value}")
    if target not in FULFILMENT_TRANSITIONS[order.fulfilment]:
        return _refused(f"order {order.id} is {order.fulfilment.value}; it cannot be {target}")
    return _DO


def _confirmed(order: Order) -> bool:
    """Paid, or confirmed for payment on delivery: the goods may go out."""
    return order.status is _S.PAID or payment_status(order) is PaymentStatus.COD_DUE


def may_ship(order: Order) -> Ruling:
    if not _confirmed(order):
        return _refused(f"order {order.id} is not paid ({payment_status(order).value})")
    return _fulfilment_move(order, _F.SHIPPED)


def may_deliver(order: Order) -> Ruling:
    """Delivering a cash-on-delivery order also marks it paid: the cash came at the door."""
    if not _confirmed(order):
        return _refused(f"order {order.id} is not paid ({payment_status(order).value})")
    return _fulfilment_move(order, _F.DELIVERED)


def may_mark_paid(order: Order) -> Ruling:
    """The merchant collected the cash of a cash-on-delivery order."""
    if order.status is _S.PAID:
        return Ruling(Verdict.ALREADY, f"order {order.id} is already paid")
    if payment_status(order) is not PaymentStatus.COD_DUE:
        return _refused(
            f"order {order.id} is not a cash-on-delivery order awaiting its cash "
            f"({payment_status(order).value}): online payments are confirmed by the provider"
        )
    if order.fulfilment is _F.CANCELLED:
        return _refused(f"order {order.id} is cancelled")
    return _DO


def may_cancel(order: Order, refund_requested: bool) -> Ruling:
    """An unpaid order is cancelled (its link too); a paid one only together with a refund of
    what is left, so the merchant never keeps money for goods they will not send."""
    if order.fulfilment is _F.CANCELLED:
        return Ruling(Verdict.ALREADY, f"order {order.id} is already cancelled")
    if order.status in (_S.EXPIRED, _S.CANCELLED):
        return _fulfilment_move(order, _F.CANCELLED)
    if order.status is _S.PAID and not refund_requested and refundable(order) > 0:
        return _refused(f"order {order.id} is paid: refund it to cancel it")
    if order.status is _S.FLAGGED:
        return _refused(f"order {order.id} is flagged: check the payment first")
    return _fulfilment_move(order, _F.CANCELLED)


def refundable(order: Order) -> int:
    """What may still be refunded: paid minus every refund asked for and not failed."""
    if order.status is not _S.PAID:
        return 0
    return order.total - order.refunds_requested_total


def may_refund(order: Order, amount: int) -> Ruling:
    if order.status is not _S.PAID or order.payment_id is None:
        return _refused(f"order {order.id} has no payment to refund")
    if amount <= 0:
        return _refused("a refund must be more than zero")
    left = refundable(order)
    if amount > left:
        return _refused(
            f"order {order.id}: {format_money(amount, order.currency)} is more than what is "
            f"left to refund ({format_money(left, order.currency)})"
        )
    return _DO


class Notice(StrEnum):
    """What the customer is told about their order; each has a text and may have a template."""

    SHIPPED = "order_shipped"
    DELIVERED = "order_delivered"
    CANCELLED = "order_cancelled"
    REFUNDED = "order_refunded"


WINDOW_SECONDS = 24 * 60 * 60
"""WhatsApp's customer service window: free-form messages only this long after the
customer's last message; after it, only approved templates."""


def window_open(last_inbound_at: int | None, now: int) -> bool:
    return last_inbound_at is not None and now - last_inbound_at < WINDOW_SECONDS
