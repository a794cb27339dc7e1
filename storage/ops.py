"""The SQL behind every store, as operations (`storage.query.Op`) that run on either backend.

Each function here is a generator: it yields `Query` objects and receives their rows, so the
statements and the logic between them are written once. `SqliteStore` runs them inside its
group-committing writer or a reader's transaction; `PostgresStore` inside an asyncpg
transaction. The SQL sticks to what both dialects accept (ON CONFLICT, RETURNING, COALESCE,
partial indexes) and is written with `?` placeholders.

Reads that meet a row they cannot decode do not raise: they return it as `Unreadable`, and the
store sets it aside (a dead letter), so no single stored row can stop the shop.
"""

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, assert_never

from pydantic import TypeAdapter, ValidationError

from flows.effects import (
    AttachPaymentLink,
    CancelPaymentLink,
    ChooseCashOnDelivery,
    CreatePaymentLink,
    Effect,
    PlaceOrder,
    SetLanguage,
    SetOrderStatus,
)
from flows.events import Event
from flows.lifecycle import ALLOWED_TRANSITIONS
from flows.merchant import ORDER_STATUS_EVENTS, MerchantEvent, MerchantEventType, event_body
from flows.messages import OutgoingMessage
from flows.orders import (
    FulfilmentStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentLink,
    PaymentMethod,
)
from flows.reminders import ReminderChange
from flows.state import Conversation, Customer
from storage import reminder_ops, stock_ops
from storage.errors import UnknownEventError
from storage.query import Op, Query, Row
from storage.repository import (
    UNKNOWN_CUSTOMER_PREFIX,
    AlertStatus,
    CustomerSnapshot,
    DeadLetter,
    Job,
    Lane,
    MerchantAlert,
    NewEvent,
    OutboxMessage,
    StepResult,
    StoredEvent,
)

T = TypeVar("T")

_EVENT: TypeAdapter[Event] = TypeAdapter(Event)
_MESSAGE: TypeAdapter[OutgoingMessage] = TypeAdapter(OutgoingMessage)
_LINES: TypeAdapter[tuple[OrderLine, ...]] = TypeAdapter(tuple[OrderLine, ...])

_SOURCES: Mapping[OrderStatus, tuple[str, ...]] = {
    target: tuple(s.value for s, targets in ALLOWED_TRANSITIONS.items() if target in targets)
    for target in OrderStatus
}


def _select(columns: str, rest: str) -> str:
    """Join constant SQL pieces; values always travel as ? parameters, never in the text."""
    return f"SELECT {columns} {rest}"


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A stored row that no longer decodes (hand-edited, written by a buggy version, …)."""

    id: int
    key: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Listing(Generic[T]):
    """What a read of pending work found: the items to handle, and the rows to set aside."""

    items: list[T]
    unreadable: list[Unreadable]


def _decode_all(rows: Sequence[Row], decode: Any, key_column: str) -> "Listing[Any]":
    items: list[Any] = []
    unreadable: list[Unreadable] = []
    for row in rows:
        try:
            items.append(decode(row))
        except (ValidationError, ValueError, TypeError, KeyError) as error:
            unreadable.append(Unreadable(int(row["id"]), row[key_column], _reason(error)))
    return Listing(items, unreadable)


def _reason(error: Exception) -> str:
    return f"unreadable: {type(error).__name__}: {str(error)[:300]}"


# --- events ------------------------------------------------------------------------------------

EVENT_INSERT_INTO = """
INSERT INTO events (source, dedupe_key, customer_key, order_id, customer, event, raw,
                    received_at, processed_at, outcome)
"""
_INSERT_EVENT = (  # constant pieces; values travel as ? parameters
    EVENT_INSERT_INTO  # noqa: S608
    + """VALUES (?, ?, COALESCE(?, (SELECT o.customer_key FROM orders o WHERE o.id = ?)),
        ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id
"""
)
_EVENT_COLUMNS = "id, source, customer_key, customer, order_id, event, received_at"


def record_events(events: Sequence[NewEvent], now: int) -> Op[list[int]]:
    ids: list[int] = []
    for event in events:
        event_id = yield from insert_event(event, now)
        if event_id is not None:
            ids.append(event_id)
    return ids


def insert_event(event: NewEvent, now: int, outcome: str | None = None) -> Op[int | None]:
    """Insert-or-ignore; a payment event's customer comes from the order it names. With an
    `outcome`, the event is stored already processed (its step commits with it)."""
    ignored = event.event is None  # logged only: born processed so recovery skips it
    if outcome is None and ignored:
        outcome = "ignored"
    rows = yield Query(
        _INSERT_EVENT,
        (
            event.source,
            event.dedupe_key,
            event.customer.key if event.customer else None,
            event.order_id,
            event.order_id,
            event.customer.model_dump_json() if event.customer else None,
            dump_event(event.event) if event.event is not None else None,
            event.raw,
            now,
            now if outcome is not None else None,
            outcome,
        ),
    )
    return int(rows[0][0]) if rows else None


def unprocessed_events(customer_key: str | None = None) -> Op[Listing[StoredEvent]]:
    if customer_key is None:
        query = Query(_select(_EVENT_COLUMNS, "FROM events WHERE processed_at IS NULL ORDER BY id"))
    elif customer_key.startswith(UNKNOWN_CUSTOMER_PREFIX):
        event_id = int(customer_key.removeprefix(UNKNOWN_CUSTOMER_PREFIX))
        query = Query(
            _select(_EVENT_COLUMNS, "FROM events WHERE id = ? AND processed_at IS NULL"),
            (event_id,),
        )
    else:
        query = Query(
            _select(
                _EVENT_COLUMNS,
                "FROM events WHERE customer_key = ? AND processed_at IS NULL ORDER BY id",
            ),
            (customer_key,),
        )
    rows = yield query
    return _decode_all(rows, _stored_event, "customer_key")


def get_event(event_id: int) -> Op[StoredEvent | Unreadable | None]:
    rows = yield Query(_select(_EVENT_COLUMNS, "FROM events WHERE id = ?"), (event_id,))
    if not rows:
        return None
    listing = _decode_all(rows, _stored_event, "customer_key")
    return listing.items[0] if listing.items else listing.unreadable[0]


def mark_event_processed(event_id: int, outcome: str, now: int) -> Op[None]:
    yield Query(
        "UPDATE events SET processed_at = ?, outcome = ? WHERE id = ? AND processed_at IS NULL",
        (now, outcome, event_id),
    )


def _stored_event(row: Row) -> StoredEvent:
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
    alert_channels: Sequence[str] = ()
    reminders: Sequence[ReminderChange] = ()
    paid_jobs: Sequence[str] = ()  # job kinds queued for an order the step marks paid


CUSTOMER_INSERT_INTO = """
INSERT INTO customers (key, phone, user_id, name, conversation, created_at, updated_at,
                       last_inbound_at)
"""
# Keeps known contact details an event lacks (a username-only event has no phone).
CUSTOMER_ON_CONFLICT = """
ON CONFLICT (key) DO UPDATE SET
    phone = COALESCE(excluded.phone, customers.phone),
    user_id = COALESCE(excluded.user_id, customers.user_id),
    name = COALESCE(excluded.name, customers.name),
    conversation = excluded.conversation,
    updated_at = excluded.updated_at,
    last_inbound_at = COALESCE(excluded.last_inbound_at, customers.last_inbound_at)
RETURNING key, phone, user_id
"""
_UPSERT_CUSTOMER = CUSTOMER_INSERT_INTO + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)" + CUSTOMER_ON_CONFLICT


def commit_step(step: Step) -> Op[StepResult]:
    source = yield from _claim_event(step.event_id, step.now)
    if source is None:
        return StepResult(outbox_ids=(), job_ids=())  # already processed: a replay
    return (yield from _apply_step(step, source))


def record_and_step(event: NewEvent, step: Step) -> Op[StepResult | None]:
    """A customer's message and its step in one transaction: the event is stored already
    processed, then the step is applied as `commit_step` applies it (`step.event_id` is
    ignored). None, having changed nothing, when the event was stored before (a
    redelivery)."""
    event_id = yield from insert_event(event, step.now, outcome="processed")
    if event_id is None:
        return None
    return (yield from _apply_step(dataclasses.replace(step, event_id=event_id), event.source))


def _apply_step(step: Step, source: str) -> Op[StepResult]:
    # Only a message from the customer opens WhatsApp's 24-hour window; a webhook does not.
    phone, user_id = yield from _upsert_customer(step, step.now if source == "whatsapp" else None)
    job_ids: list[int] = []
    alert_ids: list[int] = []
    paid_job_ids: list[int] = []
    for effect in step.effects:
        job_id = yield from _apply_effect(effect, step, alert_ids, paid_job_ids)
        if job_id is not None:
            job_ids.append(job_id)
    for change in step.reminders:
        yield from reminder_ops.apply_change(change, step.customer.key, step.now)
    outbox_ids: list[int] = []
    for message in step.messages:
        outbox_ids.append((yield from _queue_message(message, step, phone, user_id)))
    return StepResult(
        outbox_ids=tuple(outbox_ids),
        job_ids=tuple(job_ids),
        alert_ids=tuple(alert_ids),
        paid_job_ids=tuple(paid_job_ids),
    )


def _claim_event(event_id: int, now: int) -> Op[str | None]:
    """Mark the event processed and return its source; None if it already was. Doubles as
    the idempotency check: whichever process commits first wins, the other's step changes
    nothing."""
    claimed = yield Query(
        "UPDATE events SET processed_at = ?, outcome = 'processed' "
        "WHERE id = ? AND processed_at IS NULL RETURNING source",
        (now, event_id),
    )
    if claimed:
        return str(claimed[0]["source"])
    if not (yield Query("SELECT 1 FROM events WHERE id = ?", (event_id,))):
        raise UnknownEventError(f"no event with id {event_id}")
    return None


def dump_event(event: Event) -> str:
    return _EVENT.dump_json(event).decode()


def dump_message(message: OutgoingMessage) -> str:
    return _MESSAGE.dump_json(message).decode()


def _upsert_customer(step: Step, inbound_at: int | None) -> Op[tuple[str | None, str | None]]:
    """Save the customer, keeping known contact details the new event lacks; returns the
    phone and user id to address replies to."""
    rows = yield Query(_UPSERT_CUSTOMER, customer_values(step, inbound_at))
    return rows[0]["phone"], rows[0]["user_id"]


def customer_values(step: Step, inbound_at: int | None) -> tuple[object, ...]:
    """The values of `CUSTOMER_INSERT_INTO`'s columns for the step's customer."""
    c = step.customer
    conversation = step.conversation.model_dump_json()
    return (c.key, c.phone, c.user_id, c.name, conversation, step.now, step.now, inbound_at)


def _apply_effect(
    effect: Effect, step: Step, alert_ids: list[int], paid_job_ids: list[int]
) -> Op[int | None]:
    """Apply one effect; returns a job id for effects that call the payment provider, adds to
    `alert_ids` the merchant deliveries a status change queued, and to `paid_job_ids` the
    hand-offs (Shopify) queued for an order that became paid."""
    match effect:
        case PlaceOrder():
            yield from _insert_order(effect.order, step.now)
            if effect.hold:
                order = effect.order
                yield from stock_ops.hold(order.id, order.lines, effect.hold, step.now)
        case AttachPaymentLink():
            yield from _attach_link(effect, step.now)
        case SetOrderStatus():
            moved = yield from _set_status(effect, step.now)
            event_type = ORDER_STATUS_EVENTS.get(effect.status)
            if moved and event_type is not None and step.alert_channels:
                event = MerchantEvent(type=event_type, order_id=effect.order_id, at=effect.at)
                alert_ids.extend((yield from notify(event, step.alert_channels, step.now)))
            if moved and effect.status is OrderStatus.PAID:
                for kind in step.paid_jobs:
                    paid_job_ids.append((yield from _insert_paid_job(kind, effect, step)))
        case ChooseCashOnDelivery():
            if (yield from _choose_cod(effect)) and step.alert_channels:
                # A new order to pack, not a paid one: the merchant collects the money.
                event = MerchantEvent(
                    type=MerchantEventType.ORDER_PLACED, order_id=effect.order_id, at=effect.at
                )
                alert_ids.extend((yield from notify(event, step.alert_channels, step.now)))
        case CreatePaymentLink() | CancelPaymentLink():
            return (yield from _insert_job(effect, step))
        case SetLanguage():
            yield Query(
                "UPDATE customers SET language = ? WHERE key = ?",
                (effect.language, step.customer.key),
            )
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


def _insert_order(order: Order, now: int) -> Op[None]:
    # A plain INSERT: a second order with the same id is a bug and fails the step.
    link = order.link
    yield Query(
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
    yield Query(_INSERT_HISTORY, (order.id, order.status.value, order.created_at, "placed"))


def _attach_link(effect: AttachPaymentLink, now: int) -> Op[None]:
    # Only a pending order takes a link: a late link for a paid or cancelled order is stale.
    yield Query(
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


def _set_status(effect: SetOrderStatus, now: int) -> Op[bool]:
    """Apply the status change if the transition table allows it; returns whether it did."""
    sql = _SET_STATUS.get(effect.status)
    if sql is None:
        return False  # nothing may move into this status (pending_payment)
    paid_at = effect.at if effect.status is OrderStatus.PAID else None
    params = (effect.status.value, effect.reason, effect.payment_id, paid_at, now, effect.order_id)
    if not (yield Query(sql, (*params, *_SOURCES[effect.status]))):
        return False
    yield Query(_INSERT_HISTORY, (effect.order_id, effect.status.value, effect.at, effect.reason))
    yield from stock_ops.settle_holds(effect.order_id, effect.status, now)
    return True


def _insert_paid_job(kind: str, effect: SetOrderStatus, step: Step) -> Op[int]:
    """A hand-off of a paid order (e.g. "shopify_order"): its own job, so it never delays the
    customer's confirmation, queued in the step that marked the order paid, so never missed."""
    rows = yield Query(
        "INSERT INTO jobs (kind, customer_key, order_id, event_id, payload, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (kind, step.customer.key, effect.order_id, step.event_id, "{}", step.now),
    )
    return int(rows[0][0])


def _choose_cod(effect: ChooseCashOnDelivery) -> Op[bool]:
    """Confirm a pending order for payment on delivery; returns whether it changed."""
    moved = yield Query(
        "UPDATE orders SET payment_method = 'cod', status_reason = ?, updated_at = ? "
        "WHERE id = ? AND status = 'pending_payment' AND payment_method = 'link' RETURNING id",
        ("pay on delivery", effect.at, effect.order_id),
    )
    if not moved:
        return False
    yield Query(_INSERT_HISTORY, (effect.order_id, "cod_due", effect.at, "pay on delivery chosen"))
    return True


def _insert_job(effect: CreatePaymentLink | CancelPaymentLink, step: Step) -> Op[int]:
    rows = yield Query(
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
    )
    return int(rows[0][0])


def _queue_message(
    message: OutgoingMessage, step: Step, phone: str | None, user_id: str | None
) -> Op[int]:
    rows = yield Query(
        "INSERT INTO outbox (customer_key, event_id, recipient_phone, recipient_user_id, "
        "message, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (
            step.customer.key,
            step.event_id,
            phone,
            user_id,
            dump_message(message),
            step.now,
        ),
    )
    return int(rows[0][0])


# --- snapshot and orders ---------------------------------------------------------------------

_ORDER_COLUMNS = (
    "id, customer_key, lines, total, currency, address, status, link_id, link_url, "
    "link_expires_at, payment_id, created_at, paid_at, fulfilment_status, courier, "
    "tracking_number, tracking_url, shipped_at, delivered_at, refunded_total, "
    "refunds_requested_total, payment_method, shopify_order_id"
)


_OPEN_ORDER_ID = (
    "(SELECT o.id FROM orders o WHERE o.customer_key = customers.key "
    "AND o.status = 'pending_payment' AND o.payment_method = 'link' "
    "ORDER BY o.created_at DESC, o.id DESC LIMIT 1) "
    "AS open_order_id"
)
_CUSTOMER_COLUMNS = ", ".join(
    (
        "key, phone, user_id, name, conversation, language",
        reminder_ops.FACTS_COLUMNS,
        _OPEN_ORDER_ID,
    )
)
# Whether anything of the customer's is still waiting for a step (their events are stepped in
# order; a message arriving behind one must not be stepped before it). From a one-row table
# so that a customer with no row yet (a first message still pending) is asked too.
_PENDING_EVENTS = (
    "EXISTS (SELECT 1 FROM events e WHERE e.customer_key = asked.customer_key "
    "AND e.processed_at IS NULL) AS pending_events"
)
_FOR_ASKED_CUSTOMER = (
    "FROM (SELECT CAST(? AS TEXT) AS customer_key) AS asked "
    "LEFT JOIN customers ON customers.key = asked.customer_key"
)
SNAPSHOT_COLUMNS = f"{_CUSTOMER_COLUMNS}, {_PENDING_EVENTS}, {stock_ops.AVAILABLE_COLUMN}"
"""The columns of a customer's snapshot row, for a query whose rows name the customer asked
about `asked.customer_key` (see `load_snapshot`)."""
_LOAD_CUSTOMER = _select(f"{_CUSTOMER_COLUMNS}, {_PENDING_EVENTS}", _FOR_ASKED_CUSTOMER)
_LOAD_CUSTOMER_AND_STOCK = _select(SNAPSHOT_COLUMNS, _FOR_ASKED_CUSTOMER)


def load_snapshot(
    customer_key: str,
    order_id: str | None,
    recent_orders: int = 0,
    with_stock: bool = True,
    row: Row | None = None,
) -> Op[CustomerSnapshot]:
    """The customer, their conversation and orders, and (`with_stock`) the stock counts as
    this customer sees them: their open order's holds are theirs. `row`: the customer's
    `SNAPSHOT_COLUMNS`, if read already (with a claim), which saves the first statement."""
    if row is None:
        query = _LOAD_CUSTOMER_AND_STOCK if with_stock else _LOAD_CUSTOMER
        row = (yield Query(query, (customer_key,)))[0]
    snapshot = yield from _customer_snapshot(row, customer_key, order_id, recent_orders)
    if not with_stock:
        return snapshot
    open_order = snapshot.open_order
    stock = yield from stock_ops.stock_for_customer(
        row["stock_available"], open_order.id if open_order else None
    )
    return dataclasses.replace(snapshot, stock=stock)


def _customer_snapshot(
    row: Row, customer_key: str, order_id: str | None, recent_orders: int
) -> Op[CustomerSnapshot]:
    """One statement for most steps (a customer without an order in play), two otherwise:
    the customer (with their reminder facts and the id of their open order), then the orders
    the step needs. `recent_orders`: how many of the customer's newest orders to load too
    (0: none; only the `orders` list needs them)."""
    if row["key"] is None:  # a new customer: no orders either (an order's step saved them)
        return CustomerSnapshot(
            None,
            Conversation(),
            open_order=None,
            event_order=None,
            pending_events=bool(row["pending_events"]),
        )
    open_order_id = row["open_order_id"]
    orders: dict[str, Order] = {}
    if open_order_id is not None or order_id is not None:
        rows = yield Query(
            _select(_ORDER_COLUMNS, "FROM orders WHERE customer_key = ? AND id IN (?, ?)"),
            (customer_key, open_order_id, order_id),
        )
        orders = {order.id: order for order in map(_order, rows)}
    recent: list[Order] = []
    if recent_orders > 0:
        recent = yield from customer_orders(customer_key, recent_orders)
    return CustomerSnapshot(
        customer=_customer(row),
        conversation=_conversation(row),
        open_order=orders.get(open_order_id) if open_order_id is not None else None,
        event_order=orders.get(order_id) if order_id is not None else None,
        language=row["language"],
        recent_orders=tuple(recent),
        reminders=reminder_ops.facts(row),
        pending_events=bool(row["pending_events"]),
    )


def customer_orders(customer_key: str, limit: int) -> Op[list[Order]]:
    """The customer's newest orders, newest first: at most `limit`, read by an index."""
    rows = yield Query(
        _select(
            _ORDER_COLUMNS,
            "FROM orders WHERE customer_key = ? ORDER BY created_at DESC, id DESC LIMIT ?",
        ),
        (customer_key, limit),
    )
    return [_order(row) for row in rows]


def _conversation(row: Row) -> Conversation:
    """A conversation that no longer decodes starts afresh rather than stopping the customer:
    the cart is lost, the orders (their own rows) are not."""
    try:
        return Conversation.model_validate_json(row["conversation"])
    except ValidationError:
        return Conversation()


def get_order(order_id: str) -> Op[Order | None]:
    rows = yield Query(_select(_ORDER_COLUMNS, "FROM orders WHERE id = ?"), (order_id,))
    return _order(rows[0]) if rows else None


def list_orders(limit: int) -> Op[list[Order]]:
    rows = yield Query(
        _select(_ORDER_COLUMNS, "FROM orders ORDER BY created_at DESC, id DESC LIMIT ?"),
        (limit,),
    )
    return [_order(row) for row in rows]


def order_history(order_id: str) -> Op[list[tuple[str, int, str]]]:
    rows = yield Query(
        "SELECT status, at, reason FROM order_status_history WHERE order_id = ? ORDER BY at, id",
        (order_id,),
    )
    return [(str(r["status"]), int(r["at"]), str(r["reason"])) for r in rows]


def _customer(row: Row) -> Customer:
    return Customer(key=row["key"], phone=row["phone"], user_id=row["user_id"], name=row["name"])


def _order(row: Row) -> Order:
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
        fulfilment=FulfilmentStatus(row["fulfilment_status"]),
        courier=row["courier"],
        tracking_number=row["tracking_number"],
        tracking_url=row["tracking_url"],
        shipped_at=row["shipped_at"],
        delivered_at=row["delivered_at"],
        refunded_total=row["refunded_total"],
        refunds_requested_total=row["refunds_requested_total"],
        shopify_order_id=row["shopify_order_id"],
        payment_method=PaymentMethod(row["payment_method"]),
    )


# --- outbox ------------------------------------------------------------------------------------

_OUTBOX_COLUMNS = "id, customer_key, recipient_phone, recipient_user_id, message, attempts"


def pending_outbox(customer_key: str | None = None) -> Op[Listing[OutboxMessage]]:
    if customer_key is None:
        query = Query(_select(_OUTBOX_COLUMNS, "FROM outbox WHERE status = 'pending' ORDER BY id"))
    else:
        query = Query(
            _select(
                _OUTBOX_COLUMNS,
                "FROM outbox WHERE customer_key = ? AND status = 'pending' ORDER BY id",
            ),
            (customer_key,),
        )
    rows = yield query
    return _decode_all(rows, _outbox_message, "customer_key")


def get_outbox(outbox_id: int) -> Op[OutboxMessage | Unreadable | None]:
    rows = yield Query(
        _select(_OUTBOX_COLUMNS, "FROM outbox WHERE id = ? AND status = 'pending'"),
        (outbox_id,),
    )
    if not rows:
        return None
    listing = _decode_all(rows, _outbox_message, "customer_key")
    return listing.items[0] if listing.items else listing.unreadable[0]


def mark_sent(outbox_id: int, wamid: str, now: int) -> Op[None]:
    yield Query(
        "UPDATE outbox SET status = 'sent', wamid = ?, sent_at = ?, attempts = attempts + 1 "
        "WHERE id = ? AND status = 'pending'",
        (wamid, now, outbox_id),
    )


@dataclass(frozen=True, slots=True)
class SentMark:
    outbox_id: int
    wamid: str
    at: int


def mark_sent_many(marks: Sequence[SentMark]) -> Op[None]:
    for mark in marks:
        yield from mark_sent(mark.outbox_id, mark.wamid, mark.at)


def mark_failed(outbox_id: int, error: str, now: int) -> Op[None]:
    yield Query(
        "UPDATE outbox SET status = 'failed', last_error = ?, failed_at = ?, "
        "attempts = attempts + 1 WHERE id = ? AND status = 'pending'",
        (error, now, outbox_id),
    )


def record_attempt(outbox_id: int, error: str) -> Op[None]:
    yield Query(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ? "
        "WHERE id = ? AND status = 'pending'",
        (error, outbox_id),
    )


def _outbox_message(row: Row) -> OutboxMessage:
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


def pending_jobs(order_id: str | None = None) -> Op[Listing[Job]]:
    if order_id is None:
        query = Query(_select(_JOB_COLUMNS, "FROM jobs WHERE status = 'pending' ORDER BY id"))
    else:
        query = Query(
            _select(
                _JOB_COLUMNS, "FROM jobs WHERE order_id = ? AND status = 'pending' ORDER BY id"
            ),
            (order_id,),
        )
    rows = yield query
    return _decode_all(rows, _job, "order_id")


def get_job(job_id: int) -> Op[Job | Unreadable | None]:
    rows = yield Query(
        _select(_JOB_COLUMNS, "FROM jobs WHERE id = ? AND status = 'pending'"), (job_id,)
    )
    if not rows:
        return None
    listing = _decode_all(rows, _job, "order_id")
    return listing.items[0] if listing.items else listing.unreadable[0]


def finish_job(job_id: int, outcome: NewEvent | None, now: int) -> Op[int | None]:
    done = yield Query(
        "UPDATE jobs SET status = 'done', attempts = attempts + 1, done_at = ? "
        "WHERE id = ? AND status = 'pending' RETURNING id",
        (now, job_id),
    )
    if not done or outcome is None:
        return None  # already finished (a retry after a crash), or nothing to feed back
    return (yield from insert_event(outcome, now))


def _job(row: Row) -> Job:
    payload = json.loads(row["payload"])
    if not isinstance(payload, dict):
        raise TypeError(f"job payload is a {type(payload).__name__}, not an object")
    return Job(
        id=row["id"],
        kind=row["kind"],
        customer_key=row["customer_key"],
        order_id=row["order_id"],
        payload=payload,
        attempts=row["attempts"],
    )


# --- merchant alerts ----------------------------------------------------------------------------

_ALERT_COLUMNS = (
    "id, channel, event_type, order_id, webhook_id, body, status, attempts, last_error, "
    "next_attempt_at, created_at, delivered_at, resends"
)
_RESEND_ALERT = (
    "UPDATE merchant_alerts SET status = 'pending', attempts = 0, "  # noqa: S608 -- constants
    "resends = resends + 1, next_attempt_at = ?, updated_at = ?, delivered_at = NULL, "
    "dead_letter = NULL "
    "WHERE id = ? RETURNING " + _ALERT_COLUMNS
)
_INSERT_ALERT = """
INSERT INTO merchant_alerts (channel, event_type, order_id, dedupe_key, webhook_id, body,
                             next_attempt_at, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (channel, dedupe_key) DO NOTHING
RETURNING id
"""


def notify(
    event: MerchantEvent, channels: Sequence[str], now: int, refund_amount: int | None = None
) -> Op[list[int]]:
    """Queue one delivery of `event` per channel, due now, inside the caller's transaction;
    returns the ids of the new ones. An event already queued (the same order, type and
    occurrence) is not queued again. The body is the order as it is in this transaction."""
    orders = yield Query(_select(_ORDER_COLUMNS, "FROM orders WHERE id = ?"), (event.order_id,))
    if not orders:
        return []
    order = _order(orders[0])
    customers = yield Query(
        "SELECT key, phone, user_id, name FROM customers WHERE key = ?", (order.customer_key,)
    )
    customer = _customer(customers[0]) if customers else None
    body = json.dumps(event_body(event, order, customer, refund_amount), ensure_ascii=False)
    webhook_id = "msg_" + hashlib.sha256(event.dedupe_key.encode()).hexdigest()[:32]
    ids: list[int] = []
    for channel in channels:
        rows = yield Query(
            _INSERT_ALERT,
            (
                channel,
                event.type.value,
                event.order_id,
                event.dedupe_key,
                webhook_id,
                body,
                now,
                now,
                now,
            ),
        )
        ids.extend(int(row[0]) for row in rows)
    return ids


def due_alerts(channel: str | None, now: int) -> Op[Listing[MerchantAlert]]:
    if channel is None:
        query = Query(
            _select(
                _ALERT_COLUMNS,
                "FROM merchant_alerts WHERE status = 'pending' AND next_attempt_at <= ? "
                "ORDER BY id",
            ),
            (now,),
        )
    else:
        query = Query(
            _select(
                _ALERT_COLUMNS,
                "FROM merchant_alerts WHERE channel = ? AND status = 'pending' "
                "AND next_attempt_at <= ? ORDER BY id",
            ),
            (channel, now),
        )
    rows = yield query
    return _decode_all(rows, _merchant_alert, "channel")


def next_alert_due() -> Op[int | None]:
    rows = yield Query(
        "SELECT MIN(next_attempt_at) AS due FROM merchant_alerts WHERE status = 'pending'"
    )
    return None if not rows or rows[0]["due"] is None else int(rows[0]["due"])


def record_alert_attempt(
    alert_id: int, status: AlertStatus, error: str | None, next_attempt_at: int, now: int
) -> Op[None]:
    yield Query(
        "UPDATE merchant_alerts SET status = ?, attempts = attempts + 1, last_error = ?, "
        "next_attempt_at = ?, updated_at = ?, delivered_at = ? "
        "WHERE id = ? AND status = 'pending'",
        (
            status.value,
            None if error is None else error[:1000],
            next_attempt_at,
            now,
            now if status is AlertStatus.DELIVERED else None,
            alert_id,
        ),
    )


def order_alerts(order_id: str) -> Op[list[MerchantAlert]]:
    rows = yield Query(
        _select(_ALERT_COLUMNS, "FROM merchant_alerts WHERE order_id = ? ORDER BY id"),
        (order_id,),
    )
    return [_merchant_alert(row) for row in rows]


def recent_alerts(limit: int) -> Op[list[MerchantAlert]]:
    rows = yield Query(
        _select(_ALERT_COLUMNS, "FROM merchant_alerts ORDER BY id DESC LIMIT ?"), (limit,)
    )
    return [_merchant_alert(row) for row in rows]


def resend_alert(alert_id: int, now: int) -> Op[MerchantAlert | None]:
    """Pending again, due now, on a fresh schedule; the body and webhook id stay, and
    `resends` counts it (an email sent again needs a Message-ID of its own)."""
    rows = yield Query(_RESEND_ALERT, (now, now, alert_id))
    return _merchant_alert(rows[0]) if rows else None


def last_message_from(phone: str) -> Op[int | None]:
    """A customer is keyed by the phone or by WhatsApp's user id: look under both."""
    rows = yield Query(
        "SELECT MAX(received_at) AS at FROM events WHERE source = 'whatsapp' AND "
        "(customer_key = ? OR customer_key IN (SELECT key FROM customers WHERE phone = ?))",
        (phone, phone),
    )
    return None if not rows or rows[0]["at"] is None else int(rows[0]["at"])


def _merchant_alert(row: Row) -> MerchantAlert:
    return MerchantAlert(
        id=int(row["id"]),
        channel=row["channel"],
        event_type=row["event_type"],
        order_id=row["order_id"],
        webhook_id=row["webhook_id"],
        body=row["body"],
        status=AlertStatus(row["status"]),
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
        next_attempt_at=int(row["next_attempt_at"]),
        created_at=int(row["created_at"]),
        delivered_at=None if row["delivered_at"] is None else int(row["delivered_at"]),
        resends=int(row["resends"]),
    )


# --- work by key, for sweeps and fresh starts ---------------------------------------------------

_PENDING_KEYS = {
    Lane.EVENTS: (
        # The literal is UNKNOWN_CUSTOMER_PREFIX (checked by a test): a payment event for an
        # order we do not know has no customer and is its own key.
        "SELECT COALESCE(customer_key, 'event:' || id) AS key, "
        "MIN(id) AS first_id FROM events WHERE processed_at IS NULL AND received_at < ? "
        "GROUP BY 1 ORDER BY first_id LIMIT ?"
    ),
    Lane.OUTBOX: (
        "SELECT customer_key AS key, MIN(id) AS first_id FROM outbox "
        "WHERE status = 'pending' AND created_at < ? GROUP BY customer_key "
        "ORDER BY first_id LIMIT ?"
    ),
    Lane.JOBS: (
        "SELECT order_id AS key, MIN(id) AS first_id FROM jobs "
        "WHERE status = 'pending' AND created_at < ? GROUP BY order_id ORDER BY first_id LIMIT ?"
    ),
    # For alerts the time is when a delivery is next due, not when it was queued.
    Lane.ALERTS: (
        "SELECT channel AS key, MIN(id) AS first_id FROM merchant_alerts "
        "WHERE status = 'pending' AND next_attempt_at < ? GROUP BY channel "
        "ORDER BY first_id LIMIT ?"
    ),
}
PENDING_KEYS_LIMIT = 1000  # per sweep; the next sweep takes the rest


def pending_keys(lane: Lane, created_before: int) -> Op[list[str]]:
    rows = yield Query(_PENDING_KEYS[lane], (created_before, PENDING_KEYS_LIMIT))
    return [str(row["key"]) for row in rows]


# --- set-aside items ---------------------------------------------------------------------------

_DEAD_LETTER = {
    Lane.EVENTS: (
        "UPDATE events SET processed_at = ?, outcome = 'dead letter', dead_letter = ? "
        "WHERE id = ? AND processed_at IS NULL"
    ),
    Lane.OUTBOX: (
        "UPDATE outbox SET status = 'failed', failed_at = ?, dead_letter = ?, "
        "last_error = 'set aside' WHERE id = ? AND status = 'pending'"
    ),
    Lane.JOBS: (
        "UPDATE jobs SET status = 'done', done_at = ?, dead_letter = ? "
        "WHERE id = ? AND status = 'pending'"
    ),
    Lane.ALERTS: (
        "UPDATE merchant_alerts SET status = 'failed', updated_at = ?, dead_letter = ?, "
        "last_error = 'set aside' WHERE id = ? AND status = 'pending'"
    ),
}


# Postgres only (`= ANY` of an array): the pending work of every key a batch of claims got,
# read on the claiming connection right after the claims (storage/postgres.py), so a worker
# that claims a customer needs no second round trip to learn what to do.
PENDING_OF_KEYS: Mapping[Lane, str] = {
    Lane.EVENTS: _select(
        _EVENT_COLUMNS,
        "FROM events WHERE customer_key = ANY(?) AND processed_at IS NULL ORDER BY id",
    ),
    Lane.OUTBOX: _select(
        _OUTBOX_COLUMNS,
        "FROM outbox WHERE customer_key = ANY(?) AND status = 'pending' ORDER BY id",
    ),
}


def decode_pending(lane: Lane, rows: Sequence[Row]) -> Listing[Any]:
    """Rows a `PENDING_OF_KEYS` query returned for one key, as its worker would read them."""
    decode = _stored_event if lane is Lane.EVENTS else _outbox_message
    return _decode_all(rows, decode, "customer_key")


def dead_letter(lane: Lane, item_id: int, reason: str, now: int) -> Op[None]:
    yield Query(_DEAD_LETTER[lane], (now, reason[:1000], item_id))


def dead_letters(limit: int) -> Op[list[DeadLetter]]:
    rows = yield Query(
        "SELECT 'events' AS lane, id, customer_key AS key, dead_letter AS reason, "
        "processed_at AS at FROM events WHERE dead_letter IS NOT NULL "
        "UNION ALL SELECT 'outbox', id, customer_key, dead_letter, failed_at FROM outbox "
        "WHERE dead_letter IS NOT NULL "
        "UNION ALL SELECT 'jobs', id, order_id, dead_letter, done_at FROM jobs "
        "WHERE dead_letter IS NOT NULL "
        "UNION ALL SELECT 'alerts', id, channel, dead_letter, updated_at FROM merchant_alerts "
        "WHERE dead_letter IS NOT NULL "
        "ORDER BY at DESC, id DESC LIMIT ?",
        (limit,),
    )
    return [
        DeadLetter(Lane(row["lane"]), int(row["id"]), row["key"], row["reason"], int(row["at"]))
        for row in rows
    ]


# --- which mode uses the database ----------------------------------------------------------------


def bind_mode(mode: str, now: int) -> Op[str | None]:
    """Record `mode` as the database's; returns the other mode if the database already holds
    orders made in it (the caller refuses to start), else None."""
    rows = yield Query("SELECT value FROM shop_meta WHERE key = 'mode'")
    recorded = str(rows[0]["value"]) if rows else None
    if recorded not in (None, mode) and (yield Query("SELECT 1 FROM orders LIMIT 1")):
        return recorded
    yield Query(
        "INSERT INTO shop_meta (key, value, updated_at) VALUES ('mode', ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (mode, now),
    )
    return None


def ping() -> Op[None]:
    yield Query("SELECT 1")


# --- hand-offs ------------------------------------------------------------------------------------


def record_shopify_order(order_id: str, shopify_order_id: str) -> Op[bool]:
    """Keep the Shopify order our order became; False if it already had one (kept as is)."""
    rows = yield Query(
        "UPDATE orders SET shopify_order_id = ? WHERE id = ? AND shopify_order_id IS NULL "
        "RETURNING id",
        (shopify_order_id, order_id),
    )
    return bool(rows)
