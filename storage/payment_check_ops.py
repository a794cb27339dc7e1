"""The SQL of the payment reconciliation sweep and of the payment-signal record, as operations
like those of `storage.ops`: which orders awaiting payment are due to be asked about at the
provider, what each answer was, and when the provider's webhooks and our own checks last
confirmed anything (for /healthz)."""

from storage.query import Op, Query
from storage.repository import PaymentCheckDue, PaymentSignals

_POLLED_AT = "payments.last_polled_confirmation_at"
SIGNAL_KEYS = {"polled_confirmation": _POLLED_AT}


def payment_checks_due(now: int, first_after: int, limit: int) -> Op[list[PaymentCheckDue]]:
    """Orders awaiting payment, with a link, whose next check is due: never checked and older
    than `first_after` seconds, or checked and scheduled for now or earlier. Oldest first."""
    rows = yield Query(
        "SELECT o.id, o.link_id, o.created_at, o.link_expires_at, "
        "COALESCE(c.checks, 0) AS checks "
        "FROM orders o LEFT JOIN payment_checks c ON c.order_id = o.id "
        "WHERE o.status = 'pending_payment' AND o.payment_method = 'link' "
        "AND o.link_id IS NOT NULL "
        "AND ((c.order_id IS NULL AND o.created_at + ? <= ?) OR c.next_check_at <= ?) "
        "ORDER BY o.created_at, o.id LIMIT ?",
        (first_after, now, now, limit),
    )
    return [
        PaymentCheckDue(
            order_id=str(row["id"]),
            link_id=str(row["link_id"]),
            created_at=int(row["created_at"]),
            link_expires_at=(
                int(row["link_expires_at"]) if row["link_expires_at"] is not None else None
            ),
            checks=int(row["checks"]),
        )
        for row in rows
    ]


def record_payment_check(
    order_id: str, state: str, checked_at: int, next_check_at: int | None
) -> Op[None]:
    """Count one check of an order and when to ask next (None: that was the last time)."""
    yield Query(
        "INSERT INTO payment_checks (order_id, checks, last_checked_at, last_state, "
        "next_check_at) VALUES (?, 1, ?, ?, ?) "
        "ON CONFLICT (order_id) DO UPDATE SET checks = payment_checks.checks + 1, "
        "last_checked_at = excluded.last_checked_at, last_state = excluded.last_state, "
        "next_check_at = excluded.next_check_at",
        (order_id, checked_at, state, next_check_at),
    )


def request_payment_check(order_id: str, at: int) -> Op[None]:
    """Ask for a check of this order by `at` at the latest (the customer came back from the
    payment page): kept before the provider is called, so a crash mid-way loses nothing."""
    yield Query(
        "INSERT INTO payment_checks (order_id, checks, next_check_at) VALUES (?, 0, ?) "
        "ON CONFLICT (order_id) DO UPDATE SET next_check_at = CASE "
        "WHEN payment_checks.next_check_at IS NULL "
        "OR payment_checks.next_check_at > excluded.next_check_at "
        "THEN excluded.next_check_at ELSE payment_checks.next_check_at END",
        (order_id, at),
    )


def note_payment_signal(kind: str, at: int) -> Op[None]:
    """Remember when one of our own checks last confirmed a payment the webhook had not; a
    time never moves backwards. (When a webhook last came is read from the events.)"""
    yield Query(
        "INSERT INTO shop_meta (key, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
        "updated_at = excluded.updated_at WHERE shop_meta.updated_at <= excluded.updated_at",
        (SIGNAL_KEYS[kind], str(at), at),
    )


def payment_signals() -> Op[PaymentSignals]:
    # The predicate is the partial index's (migration 0012), so this is one index probe.
    webhooks = yield Query(
        "SELECT MAX(received_at) AS at FROM events "
        "WHERE source IN ('razorpay', 'stripe', 'paystack')"
    )
    polled = yield Query("SELECT updated_at FROM shop_meta WHERE key = ?", (_POLLED_AT,))
    last_webhook = webhooks[0]["at"] if webhooks else None
    return PaymentSignals(
        last_webhook_at=None if last_webhook is None else int(last_webhook),
        last_polled_confirmation_at=int(polled[0]["updated_at"]) if polled else None,
    )
