"""Payment-provider work that is not a conversation step: a webhook recorded together with the
job that must check it, and a payment that arrived for an order no longer taking one (refunded
at once). Operations like those of `storage.ops`, each run in one transaction."""

from flows.effects import SetOrderStatus
from flows.lifecycle import Notice, Verdict, refundable
from flows.merchant import MerchantEvent, MerchantEventType
from flows.orders import FulfilmentStatus, OrderStatus
from storage import lifecycle_ops, ops
from storage.query import Op, Query
from storage.repository import (
    ActionKind,
    ActionResult,
    LatePayment,
    MerchantAction,
    NewEvent,
)

# An order in one of these no longer takes a payment: one that still arrives is given back.
LATE_STATUSES = (OrderStatus.CANCELLED, OrderStatus.EXPIRED)


def record_event_and_job(event: NewEvent, job_kind: str, payload: str, now: int) -> Op[int | None]:
    """Insert-or-ignore the webhook and, if it is new and names an order we know, queue
    `job_kind` for that order in the same transaction. Returns the job's id (None for a
    duplicate or an unknown order): a crash loses neither, a redelivery adds neither."""
    event_id = yield from ops.insert_event(event, now)
    if event_id is None or event.order_id is None:
        return None
    rows = yield Query("SELECT customer_key FROM orders WHERE id = ?", (event.order_id,))
    if not rows:
        return None
    job = yield Query(
        "INSERT INTO jobs (kind, customer_key, order_id, event_id, payload, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (job_kind, rows[0]["customer_key"], event.order_id, event_id, payload, now),
    )
    return int(job[0]["id"])


def refund_late_payment(late: LatePayment) -> Op[ActionResult]:
    """A verified payment for a cancelled or expired order: record it (the order is paid, so
    the money is accounted for), cancel the order's fulfilment and refund all of it, tell the
    customer, and queue the merchant's alert, all at once. A repeat finds the order paid and
    changes nothing."""
    found = yield from lifecycle_ops._find(late.order_id)
    if found is None:
        return ActionResult(Verdict.REFUSED, f"no order {late.order_id}", None)
    order = found.order
    if order.status not in LATE_STATUSES:
        return ActionResult(
            Verdict.ALREADY, f"order {order.id} is {order.status.value}, not late", order
        )
    reason = (
        f"paid with {late.payment_id} after the order was {order.status.value}: "
        "refunded automatically"
    )
    paid = SetOrderStatus(
        order_id=order.id,
        status=OrderStatus.PAID,
        payment_id=late.payment_id,
        at=late.at,
        reason=reason,
    )
    if not (yield from ops._set_status(paid, late.at)):
        return ActionResult(Verdict.ALREADY, f"order {order.id} changed meanwhile", order)
    found = yield from lifecycle_ops._find(order.id)
    assert found is not None  # noqa: S101 -- read in this transaction a moment ago
    action = MerchantAction(
        kind=ActionKind.CANCEL,
        order_id=order.id,
        by=late.by,
        at=late.at,
        notice_context=late.notice_context,
        refund=True,
        reason=reason,
        request_key=f"late:{late.payment_id}",
    )
    if found.order.fulfilment is FulfilmentStatus.CANCELLED:
        # Cancelled by the shop before: cancelling again is refused, so refund alone, and tell
        # the customer again that the order stays cancelled (the refund notice follows).
        refund = yield from lifecycle_ops._refund(
            found, action, refundable(found.order), f"late:{late.payment_id}"
        )
        told = yield from lifecycle_ops._tell(
            found, found.order, Notice.CANCELLED, late.notice_context, late.at
        )
        result = ActionResult(
            refund.verdict,
            refund.message,
            refund.order,
            (*told, *refund.outbox_ids),
            refund.job_ids,
        )
    else:
        result = yield from lifecycle_ops._cancel(found, action)
    alert = MerchantEvent(
        type=MerchantEventType.LATE_PAYMENT_REFUNDED, order_id=order.id, at=late.at
    )
    yield from ops.notify(alert, late.alert_channels, late.at)
    return result
