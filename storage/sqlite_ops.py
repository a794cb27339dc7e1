"""The SQL behind `SqliteStore`, as synchronous functions of a connection.

Write functions run as units inside the writer's transaction (see `sqlite_engine`); read
functions run inside a reader's read transaction. The SQL sticks to what Postgres also
accepts (ON CONFLICT, RETURNING, COALESCE, partial indexes): a Postgres backend can reuse it
with only its placeholders changed.
Every statement with RETURNING is read to the end with fetchall: an unfinished statement
would block the RELEASE and COMMIT that follow.
"""

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, assert_never

from pydantic import TypeAdapter

from flows.effects import (
    AttachPaymentLink,
    CancelPaymentLink,
    CreatePaymentLink,
    Effect,
    PlaceOrder,
    SetOrderStatus,
)
from flows.events import Event
from flows.messages import OutgoingMessage
from flows.orders import Order, OrderLine, OrderStatus, PaymentLink
from flows.state import Conversation, Customer
from storage.errors import UnknownEventError
from storage.repository import (
    CustomerSnapshot,
    Job,
    NewEvent,
    OutboxMessage,
    StepResult,
    StoredEvent,
)

_EVENT: TypeAdapter[Event] = TypeAdapter(Event)
_MESSAGE: TypeAdapter[OutgoingMessage] = TypeAdapter(OutgoingMessage)
_LINES: TypeAdapter[tuple[OrderLine, ...]] = TypeAdapter(tuple[OrderLine, ...])

_S = OrderStatus
ALLOWED_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    _S.PENDING_PAYMENT: frozenset({_S.PAID, _S.EXPIRED, _S.CANCELLED, _S.FLAGGED}),
    # A payment can land after the link expired or was replaced: the money is real, record it.
    _S.EXPIRED: frozenset({_S.PAID, _S.FLAGGED}),
    _S.CANCELLED: frozenset({_S.PAID, _S.FLAGGED}),
    _S.PAID: frozenset(),
    _S.FLAGGED: frozenset(),
}
"""Order status changes storage applies; any other `SetOrderStatus` is skipped."""

_SOURCES: Mapping[OrderStatus, tuple[str, ...]] = {
    target: tuple(s.value for s, targets in ALLOWED_TRANSITIONS.items() if target in targets)
    for target in OrderStatus
}


def _select(columns: str, rest: str) -> str:
    """Join constant SQL pieces; values always travel as ? parameters, never in the text."""
    return f"SELECT {columns} {rest}"


# --- events ------------------------------------------------------------------------------------

_INSERT_EVENT = """
INSERT INTO events (source, dedupe_key, customer_key, order_id, customer, event, raw,
                    received_at, processed_at, outcome)
VALUES (?, ?, COALESCE(?, (SELECT o.customer_key FROM orders o WHERE o.id = ?)),
        ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id
"""
_EVENT_COLUMNS = "id, source, customer_key, customer, order_id, event, received_at"


def record_events(conn: sqlite3.Connection, events: Sequence[NewEvent], now: int) -> list[int]:
    ids = (insert_event(conn, event, now) for event in events)
    return [event_id for event_id in ids if event_id is not None]


def insert_event(conn: sqlite3.Connection, event: NewEvent, now: int) -> int | None:
    """Insert-or-ignore; a payment event's customer comes from the order it names."""
    ignored = event.event is None  # logged only: born processed so recovery skips it
    rows = conn.execute(
        _INSERT_EVENT,
        (
            event.source,
            event.dedupe_key,
            event.customer.key if event.customer else None,
            event.order_id,
            event.order_id,
            event.customer.model_dump_json() if event.customer else None,
            _EVENT.dump_json(event.event).decode() if event.event is not None else None,
            event.raw,
            now,
            now if ignored else None,
            "ignored" if ignored else None,
        ),
    ).fetchall()
    return int(rows[0][0]) if rows else None


def unprocessed_events(conn: sqlite3.Connection) -> list[StoredEvent]:
    rows = conn.execute(
        _select(_EVENT_COLUMNS, "FROM events WHERE processed_at IS NULL ORDER BY id")
    ).fetchall()
    return [_stored_event(row) for row in rows]


def get_event(conn: sqlite3.Connection, event_id: int) -> StoredEvent | None:
    row = conn.execute(
        _select(_EVENT_COLUMNS, "FROM events WHERE id = ?"),
        (event_id,),
    ).fetchone()
    return None if row is None else _stored_event(row)


def mark_event_processed(conn: sqlite3.Connection, event_id: int, outcome: str, now: int) -> None:
    conn.execute(
        "UPDATE events SET processed_at = ?, outcome = ? WHERE id = ? AND processed_at IS NULL",
        (now, outcome, event_id),
    )


def _stored_event(row: sqlite3.Row) -> StoredEvent:
    return StoredEvent(
        id=row["id"],
        source=row["source"],
        customer_key=row["customer_key"],
        customer=None if row["customer"] is None else Customer.model_validate_json(row["customer"]),
        order_id=row["order_id"],
        event=None if row["event"] is None else _EVENT.validate_json(row["event"]),
        received_at=row["received_at"],
    )


# --- one step ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    event_id: int
    customer: Customer
    conversation: Conversation
    messages: Sequence[OutgoingMessage]
    effects: Sequence[Effect]
    now: int


_UPSERT_CUSTOMER = """
INSERT INTO customers (key, phone, user_id, name, conversation, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET
    phone = COALESCE(excluded.phone, customers.phone),
    user_id = COALESCE(excluded.user_id, customers.user_id),
    name = COALESCE(excluded.name, customers.name),
    conversation = excluded.conversation,
    updated_at = excluded.updated_at
RETURNING phone, user_id
"""


def commit_step(conn: sqlite3.Connection, step: Step) -> StepResult:
    if not _claim_event(conn, step.event_id, step.now):
        return StepResult(outbox_ids=(), job_ids=())  # already processed: a replay
    phone, user_id = _upsert_customer(conn, step)
    job_ids = [_apply_effect(conn, effect, step) for effect in step.effects]
    outbox_ids = [_queue_message(conn, m, step, phone, user_id) for m in step.messages]
    return StepResult(
        outbox_ids=tuple(outbox_ids), job_ids=tuple(i for i in job_ids if i is not None)
    )


def _claim_event(conn: sqlite3.Connection, event_id: int, now: int) -> bool:
    """Mark the event processed; False if it already was. Doubles as the idempotency check."""
    claimed = conn.execute(
        "UPDATE events SET processed_at = ?, outcome = 'processed' "
        "WHERE id = ? AND processed_at IS NULL RETURNING id",
        (now, event_id),
    ).fetchall()
    if claimed:
        return True
    if conn.execute("SELECT 1 FROM events WHERE id = ?", (event_id,)).fetchone() is None:
        raise UnknownEventError(f"no event with id {event_id}")
    return False


def _upsert_customer(conn: sqlite3.Connection, step: Step) -> tuple[str | None, str | None]:
    """Save the customer, keeping known contact details the new event lacks; returns the
    phone and user id to address replies to."""
    c = step.customer
    row = conn.execute(
        _UPSERT_CUSTOMER,
        (
            c.key,
            c.phone,
            c.user_id,
            c.name,
            step.conversation.model_dump_json(),
            step.now,
            step.now,
        ),
    ).fetchall()[0]
    return row["phone"], row["user_id"]


def _apply_effect(conn: sqlite3.Connection, effect: Effect, step: Step) -> int | None:
    """Apply one effect; returns a job id for effects that call the payment provider."""
    match effect:
        case PlaceOrder():
            _insert_order(conn, effect.order, step.now)
        case AttachPaymentLink():
            _attach_link(conn, effect, step.now)
        case SetOrderStatus():
            _set_status(conn, effect, step.now)
        case CreatePaymentLink() | CancelPaymentLink():
            return _insert_job(conn, effect, step)
        case _:
            assert_never(effect)
    return None


_INSERT_ORDER = """
INSERT INTO orders (id, customer_key, lines, total, currency, address, status,
                    link_id, link_url, link_expires_at, payment_id, created_at, paid_at,
                    updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_HISTORY = (
    "INSERT INTO order_status_history (order_id, status, at, reason) VALUES (?, ?, ?, ?)"
)


def _insert_order(conn: sqlite3.Connection, order: Order, now: int) -> None:
    # A plain INSERT: a second order with the same id is a bug and fails the step.
    link = order.link
    conn.execute(
        _INSERT_ORDER,
        (
            order.id,
            order.customer_key,
            _LINES.dump_json(order.lines).decode(),
            order.total,
            order.currency,
            order.address,
            order.status.value,
            link.id if link else None,
            link.url if link else None,
            link.expires_at if link else None,
            order.payment_id,
            order.created_at,
            order.paid_at,
            now,
        ),
    )
    conn.execute(_INSERT_HISTORY, (order.id, order.status.value, order.created_at, "placed"))


def _attach_link(conn: sqlite3.Connection, effect: AttachPaymentLink, now: int) -> None:
    # Only a pending order takes a link: a late link for a paid or cancelled order is stale.
    conn.execute(
        "UPDATE orders SET link_id = ?, link_url = ?, link_expires_at = ?, updated_at = ? "
        "WHERE id = ? AND status = 'pending_payment'",
        (effect.link.id, effect.link.url, effect.link.expires_at, now, effect.order_id),
    )


def _set_status_sql(sources: tuple[str, ...]) -> str:
    marks = ", ".join("?" for _ in sources)
    return (
        "UPDATE orders SET status = ?, status_reason = ?, "  # noqa: S608 -- adds only "?" marks
        "payment_id = COALESCE(?, payment_id), paid_at = COALESCE(?, paid_at), updated_at = ? "
        f"WHERE id = ? AND status IN ({marks}) RETURNING id"
    )


# The WHERE clause is the transition table: an update from any other status matches no row.
_SET_STATUS = {target: _set_status_sql(s) for target, s in _SOURCES.items() if s}


def _set_status(conn: sqlite3.Connection, effect: SetOrderStatus, now: int) -> None:
    sql = _SET_STATUS.get(effect.status)
    if sql is None:
        return  # nothing may move into this status (pending_payment)
    paid_at = effect.at if effect.status is OrderStatus.PAID else None
    params = (effect.status.value, effect.reason, effect.payment_id, paid_at, now, effect.order_id)
    if conn.execute(sql, (*params, *_SOURCES[effect.status])).fetchall():
        conn.execute(
            _INSERT_HISTORY, (effect.order_id, effect.status.value, effect.at, effect.reason)
        )


def _insert_job(
    conn: sqlite3.Connection, effect: CreatePaymentLink | CancelPaymentLink, step: Step
) -> int:
    row = conn.execute(
        "INSERT INTO jobs (kind, customer_key, order_id, event_id, payload, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (
            effect.kind,
            step.customer.key,
            effect.order_id,
            step.event_id,
            effect.model_dump_json(),
            step.now,
        ),
    ).fetchall()[0]
    return int(row[0])


def _queue_message(
    conn: sqlite3.Connection,
    message: OutgoingMessage,
    step: Step,
    phone: str | None,
    user_id: str | None,
) -> int:
    row = conn.execute(
        "INSERT INTO outbox (customer_key, event_id, recipient_phone, recipient_user_id, "
        "message, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (
            step.customer.key,
            step.event_id,
            phone,
            user_id,
            _MESSAGE.dump_json(message).decode(),
            step.now,
        ),
    ).fetchall()[0]
    return int(row[0])


# --- snapshot and orders ---------------------------------------------------------------------

_ORDER_COLUMNS = (
    "id, customer_key, lines, total, currency, address, status, link_id, link_url, "
    "link_expires_at, payment_id, created_at, paid_at"
)


def load_snapshot(
    conn: sqlite3.Connection, customer_key: str, order_id: str | None
) -> CustomerSnapshot:
    row = conn.execute(
        "SELECT key, phone, user_id, name, conversation FROM customers WHERE key = ?",
        (customer_key,),
    ).fetchone()
    open_order = conn.execute(
        _select(
            _ORDER_COLUMNS,
            "FROM orders WHERE customer_key = ? AND status = 'pending_payment' "
            "ORDER BY created_at DESC, id DESC LIMIT 1",
        ),
        (customer_key,),
    ).fetchone()
    event_order = None
    if order_id is not None:
        event_order = conn.execute(
            _select(_ORDER_COLUMNS, "FROM orders WHERE id = ? AND customer_key = ?"),
            (order_id, customer_key),
        ).fetchone()
    return CustomerSnapshot(
        customer=None if row is None else _customer(row),
        conversation=(
            Conversation() if row is None else Conversation.model_validate_json(row["conversation"])
        ),
        open_order=None if open_order is None else _order(open_order),
        event_order=None if event_order is None else _order(event_order),
    )


def get_order(conn: sqlite3.Connection, order_id: str) -> Order | None:
    row = conn.execute(
        _select(_ORDER_COLUMNS, "FROM orders WHERE id = ?"),
        (order_id,),
    ).fetchone()
    return None if row is None else _order(row)


def list_orders(conn: sqlite3.Connection, limit: int) -> list[Order]:
    rows = conn.execute(
        _select(_ORDER_COLUMNS, "FROM orders ORDER BY created_at DESC, id DESC LIMIT ?"),
        (limit,),
    ).fetchall()
    return [_order(row) for row in rows]


def order_history(conn: sqlite3.Connection, order_id: str) -> list[tuple[str, int, str]]:
    rows = conn.execute(
        "SELECT status, at, reason FROM order_status_history WHERE order_id = ? ORDER BY at, id",
        (order_id,),
    ).fetchall()
    return [(str(r["status"]), int(r["at"]), str(r["reason"])) for r in rows]


def _customer(row: sqlite3.Row) -> Customer:
    return Customer(key=row["key"], phone=row["phone"], user_id=row["user_id"], name=row["name"])


def _order(row: sqlite3.Row) -> Order:
    link = None
    if row["link_id"] is not None:
        link = PaymentLink(
            id=row["link_id"], url=row["link_url"], expires_at=row["link_expires_at"]
        )
    return Order(
        id=row["id"],
        customer_key=row["customer_key"],
        lines=_LINES.validate_json(row["lines"]),
        total=row["total"],
        currency=row["currency"],
        address=row["address"],
        status=OrderStatus(row["status"]),
        link=link,
        payment_id=row["payment_id"],
        created_at=row["created_at"],
        paid_at=row["paid_at"],
    )


# --- outbox ------------------------------------------------------------------------------------

_OUTBOX_COLUMNS = "id, customer_key, recipient_phone, recipient_user_id, message, attempts"


def pending_outbox(conn: sqlite3.Connection) -> list[OutboxMessage]:
    rows = conn.execute(
        _select(_OUTBOX_COLUMNS, "FROM outbox WHERE status = 'pending' ORDER BY id")
    ).fetchall()
    return [_outbox_message(row) for row in rows]


def get_outbox(conn: sqlite3.Connection, outbox_id: int) -> OutboxMessage | None:
    row = conn.execute(
        _select(_OUTBOX_COLUMNS, "FROM outbox WHERE id = ? AND status = 'pending'"),
        (outbox_id,),
    ).fetchone()
    return None if row is None else _outbox_message(row)


def mark_sent(conn: sqlite3.Connection, outbox_id: int, wamid: str, now: int) -> None:
    conn.execute(
        "UPDATE outbox SET status = 'sent', wamid = ?, sent_at = ?, attempts = attempts + 1 "
        "WHERE id = ? AND status = 'pending'",
        (wamid, now, outbox_id),
    )


def mark_failed(conn: sqlite3.Connection, outbox_id: int, error: str, now: int) -> None:
    conn.execute(
        "UPDATE outbox SET status = 'failed', last_error = ?, failed_at = ?, "
        "attempts = attempts + 1 WHERE id = ? AND status = 'pending'",
        (error, now, outbox_id),
    )


def record_attempt(conn: sqlite3.Connection, outbox_id: int, error: str) -> None:
    conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ? "
        "WHERE id = ? AND status = 'pending'",
        (error, outbox_id),
    )


def _outbox_message(row: sqlite3.Row) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        customer_key=row["customer_key"],
        recipient_phone=row["recipient_phone"],
        recipient_user_id=row["recipient_user_id"],
        message=_MESSAGE.validate_json(row["message"]),
        attempts=row["attempts"],
    )


# --- jobs --------------------------------------------------------------------------------------

_JOB_COLUMNS = "id, kind, customer_key, order_id, payload, attempts"


def pending_jobs(conn: sqlite3.Connection) -> list[Job]:
    rows = conn.execute(
        _select(_JOB_COLUMNS, "FROM jobs WHERE status = 'pending' ORDER BY id")
    ).fetchall()
    return [_job(row) for row in rows]


def get_job(conn: sqlite3.Connection, job_id: int) -> Job | None:
    row = conn.execute(
        _select(_JOB_COLUMNS, "FROM jobs WHERE id = ? AND status = 'pending'"),
        (job_id,),
    ).fetchone()
    return None if row is None else _job(row)


def finish_job(
    conn: sqlite3.Connection, job_id: int, outcome: NewEvent | None, now: int
) -> int | None:
    done = conn.execute(
        "UPDATE jobs SET status = 'done', attempts = attempts + 1, done_at = ? "
        "WHERE id = ? AND status = 'pending' RETURNING id",
        (now, job_id),
    ).fetchall()
    if not done or outcome is None:
        return None  # already finished (a retry after a crash), or nothing to feed back
    return insert_event(conn, outcome, now)


def _job(row: sqlite3.Row) -> Job:
    payload: dict[str, Any] = json.loads(row["payload"])
    return Job(
        id=row["id"],
        kind=row["kind"],
        customer_key=row["customer_key"],
        order_id=row["order_id"],
        payload=payload,
        attempts=row["attempts"],
    )


def ping(conn: sqlite3.Connection) -> None:
    conn.execute("SELECT 1").fetchall()
