"""The SQL behind reminders (`flows.reminders`), as operations for either backend.

A reminder is a row that waits in `due_at`. Planning one is an upsert on the customer's slot
(one pending per slot); firing one moves it from 'pending' to 'fired' and queues a
`ReminderDue` event for the customer in the same transaction. That UPDATE is the guard: two
processes that list the same due reminder both try it, and only one changes the row.
"""

from typing import assert_never

from pydantic import TypeAdapter

from flows.events import Event, ReminderDue
from flows.reminders import (
    CancelReminders,
    ReminderChange,
    ReminderFacts,
    ReminderOutcome,
    ReminderSlot,
    ScheduleReminder,
    SetReminders,
    StoppedBy,
)
from storage.query import Op, Query, Row
from storage.repository import Reminder

_EVENT: TypeAdapter[Event] = TypeAdapter(Event)

FIRE_BATCH = 200  # reminders fired per transaction; the timer comes back for the rest


_PLAN = """
INSERT INTO reminders (customer_key, slot, order_id, due_at, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (customer_key, slot) WHERE status = 'pending' DO UPDATE SET
    order_id = excluded.order_id, due_at = excluded.due_at, updated_at = excluded.updated_at
"""


def apply_change(change: ReminderChange, customer_key: str, now: int) -> Op[None]:
    """One change a step asked for, inside the step's transaction."""
    match change:
        case ScheduleReminder():
            yield Query(
                _PLAN, (customer_key, change.slot.value, change.order_id, change.due_at, now, now)
            )
        case CancelReminders():
            yield Query(
                "UPDATE reminders SET status = 'cancelled', note = ?, updated_at = ? "
                "WHERE customer_key = ? AND status = 'pending'",
                (change.reason, now, customer_key),
            )
        case SetReminders():
            stopped_by = None if change.stopped_by is None else change.stopped_by.value
            yield Query(
                "UPDATE customers SET reminders_stopped_by = ?, reminders_stopped_at = ? "
                "WHERE key = ?",
                (stopped_by, None if stopped_by is None else now, customer_key),
            )
        case ReminderOutcome():
            yield Query(
                "UPDATE reminders SET status = ?, note = ?, updated_at = ? "
                "WHERE id = ? AND status = 'fired'",
                ("sent" if change.sent else "skipped", change.note, now, change.reminder_id),
            )
        case _:
            assert_never(change)


# What `load_snapshot` adds to its customer query: the window, the customer's stop, the cap.
FACTS_COLUMNS = (
    "last_inbound_at, reminders_stopped_by, "
    "(SELECT COUNT(*) FROM reminders r WHERE r.customer_key = customers.key "
    "AND r.status = 'sent' AND r.fired_at >= COALESCE(customers.last_inbound_at, 0)) "
    "AS reminders_sent, "
    "(SELECT COUNT(*) FROM reminders p WHERE p.customer_key = customers.key "
    "AND p.status = 'pending') AS reminders_pending"
)


def facts(row: Row) -> ReminderFacts:
    stopped_by = row["reminders_stopped_by"]
    last = row["last_inbound_at"]
    return ReminderFacts(
        last_inbound_at=None if last is None else int(last),
        stopped_by=None if stopped_by is None else StoppedBy(stopped_by),
        sent_since_inbound=int(row["reminders_sent"]),
        pending=int(row["reminders_pending"]),
    )


_INSERT_DUE_EVENT = """
INSERT INTO events (source, dedupe_key, customer_key, order_id, event, raw, received_at)
VALUES ('reminder', ?, ?, ?, ?, ?, ?)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id
"""


def fire_due(now: int, limit: int = FIRE_BATCH) -> Op[list[int]]:
    """Fire every pending reminder due by `now` (up to `limit`): each becomes a `ReminderDue`
    event for its customer. When several of one customer's reminders are due at once (the
    shop was down, or the sandbox's clock jumped), only the latest fires: the others are
    skipped as overtaken, so nobody gets two reminders in one breath. Returns the ids of the
    events queued here."""
    due = yield Query(
        "SELECT id, customer_key FROM reminders WHERE status = 'pending' AND due_at <= ? "
        "ORDER BY due_at, id LIMIT ?",
        (now, limit),
    )
    latest: dict[str, int] = {}
    for row in due:
        latest[str(row["customer_key"])] = int(row["id"])
    event_ids: list[int] = []
    for row in due:
        reminder_id = int(row["id"])
        if latest[str(row["customer_key"])] != reminder_id:
            yield Query(
                "UPDATE reminders SET status = 'skipped', note = ?, updated_at = ? "
                "WHERE id = ? AND status = 'pending'",
                ("overtaken by a later reminder due at the same time", now, reminder_id),
            )
            continue
        fired = yield Query(
            "UPDATE reminders SET status = 'fired', fired_at = ?, updated_at = ? "
            "WHERE id = ? AND status = 'pending' RETURNING customer_key, slot, order_id",
            (now, now, reminder_id),
        )
        if not fired:
            continue  # cancelled, or fired by another process, since the listing
        reminder = fired[0]
        event = ReminderDue(
            reminder_id=reminder_id,
            slot=ReminderSlot(reminder["slot"]),
            order_id=reminder["order_id"],
        )
        body = _EVENT.dump_json(event).decode()
        inserted = yield Query(
            _INSERT_DUE_EVENT,
            (
                f"reminder:{reminder_id}",
                reminder["customer_key"],
                reminder["order_id"],
                body,
                body,
                now,
            ),
        )
        event_ids.extend(int(r[0]) for r in inserted)
    return event_ids


def next_due() -> Op[int | None]:
    rows = yield Query("SELECT MIN(due_at) AS due FROM reminders WHERE status = 'pending'")
    return None if not rows or rows[0]["due"] is None else int(rows[0]["due"])


def customer_reminders(customer_key: str) -> Op[list[Reminder]]:
    """Every reminder of one customer, oldest first (the sandbox and tests look at them)."""
    rows = yield Query(
        "SELECT id, customer_key, slot, order_id, due_at, status, note, fired_at "
        "FROM reminders WHERE customer_key = ? ORDER BY id",
        (customer_key,),
    )
    return [
        Reminder(
            id=int(row["id"]),
            customer_key=row["customer_key"],
            slot=ReminderSlot(row["slot"]),
            order_id=row["order_id"],
            due_at=int(row["due_at"]),
            status=row["status"],
            note=row["note"],
            fired_at=None if row["fired_at"] is None else int(row["fired_at"]),
        )
        for row in rows
    ]
