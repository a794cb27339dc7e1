"""The SQL behind the merchant's dashboard (`/admin`), as operations like those of
`storage.ops`: its lists of orders (filtered in SQL, paged), the messages sent about an order,
the login rate limit's memory, and forms acted on once (an alert sent again, a stock change).

The lists filter on the same columns `flows.lifecycle` reads (payment status, fulfilment
status, refund totals); `OrderView` names each list.
"""

import json
from collections.abc import Mapping

from pydantic import ValidationError

from flows.state import Customer
from storage import ops, stock_ops
from storage.errors import StockBelowZeroError
from storage.query import Op, Query, Row
from storage.repository import (
    FormUse,
    LoginAttempt,
    OrderPage,
    OrderRow,
    OrderView,
    SentMessage,
    StockForm,
)

_V = OrderView
VIEW_WHERE: Mapping[OrderView, str] = {
    _V.TO_PACK: (
        "o.status = 'paid' AND o.fulfilment_status = 'unfulfilled' "
        "AND o.refunds_requested_total < o.total"
    ),
    _V.AWAITING: "o.status = 'pending_payment'",
    _V.SHIPPED: "o.fulfilment_status IN ('shipped', 'delivered')",
    _V.CANCELLED: "(o.fulfilment_status = 'cancelled' OR o.status IN ('cancelled', 'expired'))",
    _V.REFUNDED: "(o.refunds_requested_total > 0 OR o.refunded_total > 0)",
    _V.ALL: "1 = 1",
}
"""Each list as a WHERE clause over `orders o` (constant SQL: values travel as parameters)."""

_ORDER_BY = {
    # Packing goes oldest first: the customer who paid first gets their parcel first.
    _V.TO_PACK: "o.paid_at ASC, o.created_at ASC, o.id ASC",
}
_NEWEST_FIRST = "o.created_at DESC, o.id DESC"

_ROW_COLUMNS = (
    ", ".join(f"o.{c.strip()}" for c in ops._ORDER_COLUMNS.split(","))
    + ", c.key AS c_key, c.phone AS c_phone, c.user_id AS c_user_id, c.name AS c_name"
)
_FROM = "FROM orders o LEFT JOIN customers c ON c.key = o.customer_key"


def search_clause(search: str | None) -> tuple[str, tuple[object, ...]]:
    """The WHERE addition for a search box's text: an order id matches whole (in any case);
    a number ("98765", "+91 98765 43210") matches anywhere in the customer's phone."""
    text = (search or "").strip()
    if not text:
        return "", ()
    compact = text.replace("+", "").replace(" ", "").replace("-", "")
    if compact.isdigit():
        return " AND (UPPER(o.id) = ? OR c.phone LIKE ?)", (text.upper(), f"%{compact}%")
    return " AND UPPER(o.id) = ?", (text.upper(),)


def order_page(view: OrderView, search: str | None, offset: int, limit: int) -> Op[OrderPage]:
    clause, params = search_clause(search)
    where = VIEW_WHERE[view] + clause
    order_by = _ORDER_BY.get(view, _NEWEST_FIRST)
    rows = yield Query(
        ops._select(_ROW_COLUMNS, f"{_FROM} WHERE {where} ORDER BY {order_by} LIMIT ? OFFSET ?"),
        (*params, limit + 1, offset),
    )
    found = tuple(_order_row(row) for row in rows[:limit])
    return OrderPage(rows=found, more=len(rows) > limit)


def _order_row(row: Row) -> OrderRow:
    customer = None
    if row["c_key"] is not None:
        customer = Customer(
            key=row["c_key"], phone=row["c_phone"], user_id=row["c_user_id"], name=row["c_name"]
        )
    return OrderRow(order=ops._order(row), customer=customer)


def order_view_counts() -> Op[dict[OrderView, int]]:
    sums = ", ".join(
        f"SUM(CASE WHEN {where} THEN 1 ELSE 0 END) AS n_{view.value}"
        for view, where in VIEW_WHERE.items()
    )
    rows = yield Query(ops._select(sums, "FROM orders o"), ())
    return {view: int(rows[0][f"n_{view.value}"] or 0) for view in OrderView}


_ORDER_MESSAGES = (
    "SELECT m.id, m.message, m.status, m.attempts, m.last_error, m.created_at, m.sent_at "
    "FROM outbox m JOIN orders o ON o.customer_key = m.customer_key "
    "WHERE o.id = ? AND m.created_at >= o.created_at AND ("
    # Until the customer's next order, everything (checkout, link, confirmation); after it,
    # only what names this order (its shipping note, its refund).
    "m.created_at < COALESCE((SELECT MIN(n.created_at) FROM orders n "
    "WHERE n.customer_key = o.customer_key AND n.created_at > o.created_at), ?) "
    "OR m.message LIKE '%' || o.id || '%') ORDER BY m.id LIMIT ?"
)
_NO_NEXT_ORDER = 2**62


def order_messages(order_id: str, limit: int) -> Op[list[SentMessage]]:
    """The messages queued to the order's customer about it, oldest first."""
    rows = yield Query(_ORDER_MESSAGES, (order_id, _NO_NEXT_ORDER, limit))
    return [_sent_message(row) for row in rows]


def _sent_message(row: Row) -> SentMessage:
    try:
        message = ops._MESSAGE.validate_json(row["message"])
    except (ValidationError, json.JSONDecodeError):
        message = None
    return SentMessage(
        id=int(row["id"]),
        message=message,
        status=str(row["status"]),
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
        created_at=int(row["created_at"]),
        sent_at=None if row["sent_at"] is None else int(row["sent_at"]),
    )


# --- the login rate limit ------------------------------------------------------------------------


def record_login_attempt(attempt: LoginAttempt) -> Op[None]:
    yield Query("DELETE FROM admin_login_attempts WHERE at < ?", (attempt.since,))
    yield Query(
        "INSERT INTO admin_login_attempts (attempt, client, at) VALUES (?, ?, ?)",
        (attempt.id, attempt.client, attempt.at),
    )


def login_attempts_over_limit(attempt: LoginAttempt) -> Op[bool]:
    rows = yield Query(
        "SELECT COUNT(*) AS n, SUM(CASE WHEN client = ? THEN 1 ELSE 0 END) AS mine "
        "FROM admin_login_attempts WHERE at >= ?",
        (attempt.client, attempt.since),
    )
    mine, everyone = int(rows[0]["mine"] or 0), int(rows[0]["n"])
    return mine > attempt.per_client or everyone > attempt.in_all


def drop_login_attempt(attempt_id: str) -> Op[None]:
    yield Query("DELETE FROM admin_login_attempts WHERE attempt = ?", (attempt_id,))


def forget_login_failures(client: str) -> Op[None]:
    yield Query("DELETE FROM admin_login_attempts WHERE client = ?", (client,))


# --- forms acted on once -------------------------------------------------------------------------

FORM_TOKENS_KEPT_SECONDS = 7 * 24 * 60 * 60
"""A form's token is remembered this long; a dashboard page is not left open longer."""


def _use_form(token: str, now: int) -> Op[bool]:
    """True the first time a token is used; False on every later submission."""
    yield Query("DELETE FROM admin_form_uses WHERE used_at < ?", (now - FORM_TOKENS_KEPT_SECONDS,))
    rows = yield Query(
        "INSERT INTO admin_form_uses (token, used_at) VALUES (?, ?) "
        "ON CONFLICT (token) DO NOTHING RETURNING token",
        (token, now),
    )
    return bool(rows)


def resend_alert_once(form_token: str, alert_id: int, now: int) -> Op[FormUse]:
    """The token and the resend commit together: a crash between them cannot lose one."""
    exists = yield Query("SELECT id FROM merchant_alerts WHERE id = ?", (alert_id,))
    if not exists:
        return FormUse.UNKNOWN
    if not (yield from _use_form(form_token, now)):
        return FormUse.ALREADY
    yield from ops.resend_alert(alert_id, now)
    return FormUse.DONE


def set_stock_once(
    form_token: str, product_id: str, on_hand: int, by: str, now: int
) -> Op[StockForm]:
    """The token and the new count commit together."""
    if not (yield from _use_form(form_token, now)):
        return StockForm(FormUse.ALREADY)
    return StockForm(FormUse.DONE, (yield from stock_ops.set_stock(product_id, on_hand, by, now)))


def add_stock_once(
    form_token: str, product_id: str, change: int, by: str, now: int
) -> Op[StockForm]:
    """The token is used first: of two submissions of one form racing on Postgres, the second
    waits on the token's unique key and then finds it taken. A change that would go below zero
    raises, so the token's use is rolled back with it and the form, corrected, can be sent."""
    if not (yield from _use_form(form_token, now)):
        return StockForm(FormUse.ALREADY)
    level = yield from stock_ops.add_stock(product_id, change, by, now)
    if level is None:
        raise StockBelowZeroError(f"{product_id}: cannot take away {-change}")
    return StockForm(FormUse.DONE, level)
