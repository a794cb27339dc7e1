"""The SQL of the order's life after payment: the merchant's actions (ship, deliver, cancel,
refund) and the provider's answers about refunds, as operations like those of `storage.ops`.

Each action reads the order in its transaction, asks `flows.lifecycle` whether it may happen,
and applies it with an UPDATE whose WHERE clause repeats the rule: of two clicks, two
processes or a retried command, one changes the order and the other finds it already done.
"""

import hashlib
import json
from collections.abc import Sequence

from flows.effects import CancelPaymentLink
from flows.lifecycle import (
    ALLOWED_TRANSITIONS,
    Notice,
    PaymentStatus,
    Ruling,
    Verdict,
    may_cancel,
    may_deliver,
    may_mark_paid,
    may_refund,
    may_ship,
    payment_status,
    refundable,
    sources,
)
from flows.merchant import MerchantEvent, MerchantEventType
from flows.messages import OutgoingMessage
from flows.money import format_money
from flows.notices import NotTold, customer_notice
from flows.orders import FulfilmentStatus, Order, OrderStatus
from flows.state import Customer
from storage import ops, stock_ops
from storage.query import Op, Query, Row
from storage.repository import (
    ActionKind,
    ActionResult,
    HistoryEntry,
    MerchantAction,
    NoticeContextFactory,
    Refund,
    RefundSettlement,
)

_F = FulfilmentStatus

_ORDER_AND_CUSTOMER = ops._select(
    ", ".join(f"o.{c.strip()}" for c in ops._ORDER_COLUMNS.split(","))
    + ", c.phone, c.user_id, c.last_inbound_at, c.language",
    "FROM orders o JOIN customers c ON c.key = o.customer_key WHERE o.id = ?",
)
_HISTORY = (
    "INSERT INTO order_status_history (order_id, status, at, reason, actor) VALUES (?, ?, ?, ?, ?)"
)


def _marks(values: Sequence[str]) -> str:
    return ", ".join("?" for _ in values)


def _move_fulfilment_sql(target: FulfilmentStatus, extra: str) -> str:
    """Set the fulfilment status (and `extra` columns) only from a status the table allows."""
    allowed = sources(target)
    return (
        f"UPDATE orders SET fulfilment_status = ?, {extra}updated_at = ? "  # noqa: S608 -- fixed
        f"WHERE id = ? AND fulfilment_status IN ({_marks(allowed)}) RETURNING id"
    )


_SHIP = _move_fulfilment_sql(
    _F.SHIPPED, "courier = ?, tracking_number = ?, tracking_url = ?, shipped_at = ?, "
)
_DELIVER = _move_fulfilment_sql(_F.DELIVERED, "delivered_at = ?, ")
_CANCEL = _move_fulfilment_sql(_F.CANCELLED, "")
_CANCEL_PAYMENT_SOURCES = tuple(
    s.value for s, targets in ALLOWED_TRANSITIONS.items() if OrderStatus.CANCELLED in targets
)
_CANCEL_PAYMENT = (
    "UPDATE orders SET status = 'cancelled', status_reason = ?, updated_at = ? "  # noqa: S608
    f"WHERE id = ? AND status IN ({_marks(_CANCEL_PAYMENT_SOURCES)})"
)
# The CHECK constraint (refunds_requested_total <= total) guards this too: belt and braces.
_RESERVE_REFUND = (
    "UPDATE orders SET refunds_requested_total = refunds_requested_total + ?, updated_at = ? "
    "WHERE id = ? AND status = 'paid' AND refunds_requested_total + ? <= total RETURNING id"
)
_REFUND_COLUMNS = (
    "id, order_id, amount, reason, status, idempotency_key, provider_refund_id, requested_by, "
    "requested_at, settled_at, failure"
)


class _Found:
    """The order an action is about, with what is needed to tell its customer."""

    def __init__(self, row: Row) -> None:
        self.order = ops._order(row)
        self.phone: str | None = row["phone"]
        self.user_id: str | None = row["user_id"]
        self.last_inbound_at: int | None = row["last_inbound_at"]
        self.language: str | None = row["language"]


def _find(order_id: str) -> Op[_Found | None]:
    rows = yield Query(_ORDER_AND_CUSTOMER, (order_id,))
    return _Found(rows[0]) if rows else None


def act_on_order(action: MerchantAction) -> Op[ActionResult]:
    found = yield from _find(action.order_id)
    if found is None:
        return ActionResult(Verdict.REFUSED, f"no order {action.order_id}", None)
    match action.kind:
        case ActionKind.SHIP:
            return (yield from _ship(found, action))
        case ActionKind.DELIVER:
            return (yield from _deliver(found, action))
        case ActionKind.CANCEL:
            return (yield from _cancel(found, action))
        case ActionKind.REFUND:
            if not action.request_key:
                # Two refunds of the same amount are two refunds unless the caller's request
                # (a form, a command, a message) says it is the same one.
                raise ValueError("a refund needs the request_key of the request that asked it")
            return (yield from _refund(found, action, action.amount or 0, action.request_key))
        case ActionKind.MARK_PAID:
            return (yield from _mark_paid(found, action))


def _not_done(ruling: Ruling, order: Order) -> ActionResult:
    return ActionResult(ruling.verdict, ruling.reason, order)


def _ship(found: _Found, action: MerchantAction) -> Op[ActionResult]:
    order = found.order
    ruling = may_ship(order)
    if ruling.verdict is not Verdict.DO:
        return _not_done(ruling, order)
    moved = yield Query(
        _SHIP,
        (
            _F.SHIPPED.value,
            action.courier,
            action.tracking_number,
            action.tracking_url,
            action.at,
            action.at,
            order.id,
            *sources(_F.SHIPPED),
        ),
    )
    if not moved:
        return ActionResult(Verdict.ALREADY, f"order {order.id} changed meanwhile", order)
    details = ", ".join(
        part for part in (action.courier, action.tracking_url or action.tracking_number) if part
    )
    yield Query(_HISTORY, (order.id, "shipped", action.at, details, action.by))
    shipped = order.model_copy(
        update={
            "fulfilment": _F.SHIPPED,
            "courier": action.courier,
            "tracking_number": action.tracking_number,
            "tracking_url": action.tracking_url,
            "shipped_at": action.at,
        }
    )
    outbox = yield from _tell(found, shipped, Notice.SHIPPED, action.notice_context, action.at)
    alerts = yield from _alert(MerchantEventType.ORDER_SHIPPED, order.id, action)
    return ActionResult(Verdict.DO, f"order {order.id} shipped", shipped, outbox, alert_ids=alerts)


def _deliver(found: _Found, action: MerchantAction) -> Op[ActionResult]:
    order = found.order
    ruling = may_deliver(order)
    if ruling.verdict is not Verdict.DO:
        return _not_done(ruling, order)
    moved = yield Query(
        _DELIVER,
        (_F.DELIVERED.value, action.at, action.at, order.id, *sources(_F.DELIVERED)),
    )
    if not moved:
        return ActionResult(Verdict.ALREADY, f"order {order.id} changed meanwhile", order)
    yield Query(_HISTORY, (order.id, "delivered", action.at, action.reason, action.by))
    delivered = order.model_copy(update={"fulfilment": _F.DELIVERED, "delivered_at": action.at})
    message = f"order {order.id} delivered"
    # The courier hands over the goods and takes the cash: one step for the merchant.
    cash_due = payment_status(order) is PaymentStatus.COD_DUE
    if cash_due and (yield from _collect_cash(order, action)):
        delivered = delivered.model_copy(update={"status": OrderStatus.PAID, "paid_at": action.at})
        message += f" and paid ({format_money(order.total, order.currency)} in cash)"
    outbox = yield from _tell(found, delivered, Notice.DELIVERED, action.notice_context, action.at)
    alerts = yield from _alert(MerchantEventType.ORDER_DELIVERED, order.id, action)
    return ActionResult(Verdict.DO, message, delivered, outbox, alert_ids=alerts)


_COLLECT_CASH = (
    "UPDATE orders SET status = 'paid', paid_at = ?, status_reason = ?, updated_at = ? "
    "WHERE id = ? AND status = 'pending_payment' AND payment_method = 'cod' RETURNING id"
)


def _collect_cash(order: Order, action: MerchantAction) -> Op[bool]:
    reason = (
        action.reason
        if action.kind is ActionKind.MARK_PAID and action.reason
        else ("cash collected on delivery")
    )
    moved = yield Query(_COLLECT_CASH, (action.at, reason, action.at, order.id))
    if moved:
        yield Query(_HISTORY, (order.id, "paid", action.at, reason, action.by))
    return bool(moved)


def _mark_paid(found: _Found, action: MerchantAction) -> Op[ActionResult]:
    order = found.order
    ruling = may_mark_paid(order)
    if ruling.verdict is not Verdict.DO:
        return _not_done(ruling, order)
    if not (yield from _collect_cash(order, action)):
        return ActionResult(Verdict.ALREADY, f"order {order.id} changed meanwhile", order)
    paid = order.model_copy(update={"status": OrderStatus.PAID, "paid_at": action.at})
    total = format_money(order.total, order.currency)
    return ActionResult(Verdict.DO, f"order {order.id} paid: {total} in cash", paid)


def _cancel(found: _Found, action: MerchantAction) -> Op[ActionResult]:
    order = found.order
    ruling = may_cancel(order, action.refund)
    if ruling.verdict is Verdict.DO and action.refund and refundable(order) > 0:
        ruling = may_refund(order, refundable(order))  # both or neither: check before writing
    if ruling.verdict is not Verdict.DO:
        return _not_done(ruling, order)
    moved = yield Query(_CANCEL, (_F.CANCELLED.value, action.at, order.id, *sources(_F.CANCELLED)))
    if not moved:
        return ActionResult(Verdict.ALREADY, f"order {order.id} changed meanwhile", order)
    reason = action.reason or "cancelled by the shop"
    job_ids: list[int] = []
    update: dict[str, object] = {"fulfilment": _F.CANCELLED}
    if order.status is OrderStatus.PENDING_PAYMENT:
        yield Query(_CANCEL_PAYMENT, (reason, action.at, order.id, *_CANCEL_PAYMENT_SOURCES))
        update["status"] = OrderStatus.CANCELLED
        if order.link is not None and not order.cash_on_delivery:
            # The existing cancel job: the customer cannot pay it. (A cash-on-delivery
            # order's link was cancelled when the customer chose to pay in cash.)
            cancel = CancelPaymentLink(order_id=order.id, link_id=order.link.id)
            job_ids.append(
                (yield from _insert_job(cancel.kind, order, cancel.model_dump_json(), action.at))
            )
    yield Query(_HISTORY, (order.id, "cancelled", action.at, reason, action.by))
    # Cancelled before it went out: its units are back for sale.
    yield from stock_ops.return_units(order.id, action.at)
    cancelled = order.model_copy(update=update)
    outbox = yield from _tell(found, cancelled, Notice.CANCELLED, action.notice_context, action.at)
    message = f"order {order.id} cancelled"
    if action.refund and refundable(order) > 0:
        # One cancel per order, so one refund per cancel: its key needs no caller's request.
        key = action.request_key or f"{order.id}:cancel"
        refund = yield from _refund(found, action, refundable(order), key)
        # The merchant hears of the cancel with the refund asked for (refunds_requested_total).
        alerts = yield from _alert(MerchantEventType.ORDER_CANCELLED, order.id, action)
        return ActionResult(
            refund.verdict if refund.verdict is Verdict.REFUSED else Verdict.DO,
            f"{message}; {refund.message}",
            refund.order.model_copy(update=update) if refund.order else cancelled,
            (*outbox, *refund.outbox_ids),
            (*job_ids, *refund.job_ids),
            alerts,
        )
    alerts = yield from _alert(MerchantEventType.ORDER_CANCELLED, order.id, action)
    return ActionResult(Verdict.DO, message, cancelled, outbox, tuple(job_ids), alerts)


def _alert(
    event_type: MerchantEventType, order_id: str, action: MerchantAction
) -> Op[tuple[int, ...]]:
    """Queue the merchant's deliveries of what this action did, in its transaction. Ship,
    deliver and cancel each happen once to an order, so the type alone makes the event once."""
    if not action.alert_channels:
        return ()
    event = MerchantEvent(type=event_type, order_id=order_id, at=action.at)
    return tuple((yield from ops.notify(event, action.alert_channels, action.at)))


def provider_key(request_key: str) -> str:
    """The provider's idempotency key for a refund request: 32 characters of [0-9a-f], which
    Razorpay's X-Refund-Idempotency accepts (10+ of [A-Za-z0-9_-]); the same request, the
    same key, on every attempt."""
    return hashlib.sha256(request_key.encode()).hexdigest()[:32]


def _refund(
    found: _Found, action: MerchantAction, amount: int, request_key: str
) -> Op[ActionResult]:
    order = found.order
    key = provider_key(request_key)
    if (yield Query("SELECT id FROM refunds WHERE idempotency_key = ?", (key,))):
        return ActionResult(
            Verdict.ALREADY, f"this refund of order {order.id} was asked for already", order
        )
    ruling = may_refund(order, amount)
    if ruling.verdict is not Verdict.DO:
        return _not_done(ruling, order)
    reserved = yield Query(_RESERVE_REFUND, (amount, action.at, order.id, amount))
    if not reserved:
        return ActionResult(Verdict.REFUSED, f"order {order.id} changed meanwhile", order)
    rows = yield Query(
        "INSERT INTO refunds (order_id, amount, reason, idempotency_key, requested_by, "
        "requested_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (order.id, amount, action.reason, key, action.by, action.at),
    )
    refund_id = int(rows[0]["id"])
    yield Query(
        _HISTORY,
        (
            order.id,
            "refund requested",
            action.at,
            _refund_words(amount, order.currency, action.reason),
            action.by,
        ),
    )
    payload = json.dumps(
        {
            "refund_id": refund_id,
            "payment_id": order.payment_id,
            "amount": amount,
            "currency": order.currency,
            "idempotency_key": key,
        }
    )
    job_id = yield from _insert_job("refund", order, payload, action.at)
    asked = order.model_copy(
        update={"refunds_requested_total": order.refunds_requested_total + amount}
    )
    return ActionResult(
        Verdict.DO,
        f"refund of {format_money(amount, order.currency)} for order {order.id} asked for",
        asked,
        (),
        (job_id,),
    )


def _refund_words(amount: int, currency: str, reason: str) -> str:
    return format_money(amount, currency) + (f": {reason}" if reason else "")


def _insert_job(kind: str, order: Order, payload: str, now: int) -> Op[int]:
    rows = yield Query(
        "INSERT INTO jobs (kind, customer_key, order_id, payload, created_at) "
        "VALUES (?, ?, ?, ?, ?) RETURNING id",
        (kind, order.customer_key, order.id, payload, now),
    )
    return int(rows[0]["id"])


def _tell(
    found: _Found,
    order: Order,
    notice: Notice,
    context: NoticeContextFactory,
    now: int,
    amount: int = 0,
) -> Op[tuple[int, ...]]:
    """Queue the customer's notice, or record in the history why they could not be told."""
    message: OutgoingMessage | NotTold = customer_notice(
        notice, order, context(found.last_inbound_at), amount, found.language
    )
    if isinstance(message, NotTold):
        yield Query(_HISTORY, (order.id, "customer not told", now, message.reason, None))
        return ()
    rows = yield Query(
        "INSERT INTO outbox (customer_key, recipient_phone, recipient_user_id, message, "
        "created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        (
            order.customer_key,
            found.phone,
            found.user_id,
            ops._MESSAGE.dump_json(message).decode(),
            now,
        ),
    )
    return (int(rows[0]["id"]),)


# --- refunds: the provider's answers -------------------------------------------------------------


def record_refund_answer(refund_id: int, provider_refund_id: str, answer: str) -> Op[None]:
    yield Query(
        "UPDATE refunds SET provider_refund_id = COALESCE(provider_refund_id, ?), "
        "provider_answer = ? WHERE id = ?",
        (provider_refund_id, answer[:4000], refund_id),
    )


def settle_refund(settlement: RefundSettlement) -> Op[ActionResult]:
    if settlement.refund_id is not None:
        where, key = "id = ?", settlement.refund_id
    else:
        where, key = "provider_refund_id = ?", settlement.provider_refund_id  # type: ignore[assignment]
    rows = yield Query(
        "UPDATE refunds SET status = ?, settled_at = ?, failure = ?, "  # noqa: S608 -- fixed
        "provider_refund_id = COALESCE(provider_refund_id, ?) "
        f"WHERE {where} AND status = 'pending' RETURNING id, order_id, amount",
        (
            settlement.status,
            settlement.at,
            settlement.failure,
            settlement.provider_refund_id,
            key,
        ),
    )
    if not rows:
        return ActionResult(Verdict.ALREADY, "no pending refund by that id", None)
    order_id, amount = str(rows[0]["order_id"]), int(rows[0]["amount"])
    refund_row_id = int(rows[0]["id"])
    currencies = yield Query("SELECT currency FROM orders WHERE id = ?", (order_id,))
    words = format_money(amount, str(currencies[0]["currency"]) if currencies else "INR")
    if settlement.status == "processed":
        yield Query(
            "UPDATE orders SET refunded_total = refunded_total + ?, updated_at = ? WHERE id = ?",
            (amount, settlement.at, order_id),
        )
        yield Query(_HISTORY, (order_id, "refunded", settlement.at, words, settlement.by))
    else:
        yield Query(
            "UPDATE orders SET refunds_requested_total = refunds_requested_total - ?, "
            "updated_at = ? WHERE id = ?",
            (amount, settlement.at, order_id),
        )
        yield Query(
            _HISTORY,
            (order_id, "refund failed", settlement.at, settlement.failure or "", settlement.by),
        )
    found = yield from _find(order_id)
    if found is None:  # cannot happen: a refund row names its order by a foreign key
        raise LookupError(f"refund for a missing order {order_id}")
    if settlement.status != "processed":
        return ActionResult(Verdict.DO, f"refund of {words} for {order_id} failed", found.order)
    outbox = yield from _tell(
        found, found.order, Notice.REFUNDED, settlement.notice_context, settlement.at, amount
    )
    alerts: list[int] = []
    if settlement.alert_channels:
        # A second partial refund is another event: the refund's id tells them apart.
        event = MerchantEvent(
            type=MerchantEventType.ORDER_REFUNDED,
            order_id=order_id,
            at=settlement.at,
            occurrence=str(refund_row_id),
        )
        alerts = yield from ops.notify(event, settlement.alert_channels, settlement.at, amount)
    return ActionResult(
        Verdict.DO,
        f"refund of {words} for {order_id} processed",
        found.order,
        outbox,
        alert_ids=tuple(alerts),
    )


# --- reading -------------------------------------------------------------------------------------


def refunds(order_id: str) -> Op[list[Refund]]:
    rows = yield Query(
        ops._select(_REFUND_COLUMNS, "FROM refunds WHERE order_id = ? ORDER BY id"), (order_id,)
    )
    return [Refund(**{name: row[name] for name in _REFUND_FIELDS}) for row in rows]


_REFUND_FIELDS = tuple(c.strip() for c in _REFUND_COLUMNS.split(","))


def order_timeline(order_id: str) -> Op[list[HistoryEntry]]:
    rows = yield Query(
        "SELECT status, at, reason, actor FROM order_status_history WHERE order_id = ? "
        "ORDER BY at, id",
        (order_id,),
    )
    return [HistoryEntry(r["status"], int(r["at"]), r["reason"], r["actor"]) for r in rows]


def customer_of(order_id: str) -> Op[Customer | None]:
    rows = yield Query(
        "SELECT c.key, c.phone, c.user_id, c.name FROM customers c "
        "JOIN orders o ON o.customer_key = c.key WHERE o.id = ?",
        (order_id,),
    )
    return ops._customer(rows[0]) if rows else None


SEARCH_LIMIT_ROWS = 10_000  # a listing never reads more; filters on payment status run here


def search_orders(statuses: Sequence[str], search: str | None, limit: int) -> Op[list[Order]]:
    columns = ", ".join(f"o.{c.strip()}" for c in ops._ORDER_COLUMNS.split(","))
    if search:
        pattern = "%" + search.replace("%", "").replace("_", "") + "%"
        rows = yield Query(
            ops._select(
                columns,
                "FROM orders o JOIN customers c ON c.key = o.customer_key "
                "WHERE o.id = ? OR c.phone LIKE ? ORDER BY o.created_at DESC, o.id DESC LIMIT ?",
            ),
            (search, pattern, SEARCH_LIMIT_ROWS),
        )
    else:
        rows = yield Query(
            ops._select(columns, "FROM orders o ORDER BY o.created_at DESC, o.id DESC LIMIT ?"),
            (SEARCH_LIMIT_ROWS,),
        )
    wanted = set(statuses)
    found: list[Order] = []
    for row in rows:
        order = ops._order(row)
        if wanted and not wanted & {payment_status(order).value, order.fulfilment.value}:
            continue
        found.append(order)
        if len(found) == limit:
            break
    return found
