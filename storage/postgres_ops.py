"""Operations Postgres runs as one statement where SQLite runs several.

Each is the same change as the portable operation it stands for (`storage.ops`), written with
data-modifying CTEs, which SQLite does not have: on Postgres every statement is a round trip
and costs the bot's process about as much CPU as the database's, so the commonest write of all
goes from three statements to one. The column lists and conflict rules are `ops`'s own.
"""

from collections.abc import Sequence

from storage import ops
from storage.query import Op, Query
from storage.repository import NewEvent, StepResult

# Constant pieces only; every value travels as a ? parameter.
_RECORD_AND_REPLY = f"""
WITH recorded AS (
{ops.EVENT_INSERT_INTO}
    VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, 'processed')
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id
), saved AS (
{ops.CUSTOMER_INSERT_INTO}
    SELECT ?, ?, ?, ?, ?, ?, ?, ? FROM recorded
{ops.CUSTOMER_ON_CONFLICT}
), queued AS (
    INSERT INTO outbox (customer_key, event_id, recipient_phone, recipient_user_id, message,
                        created_at)
    SELECT ?, recorded.id, saved.phone, saved.user_id, reply.message, ?
    FROM recorded, saved, unnest(?::text[]) WITH ORDINALITY AS reply (message, n)
    ORDER BY reply.n
    RETURNING id
)
SELECT (SELECT id FROM recorded) AS event_id,
       ARRAY(SELECT id FROM queued ORDER BY id) AS outbox_ids
"""  # noqa: S608


SNAPSHOTS_OF_KEYS = f"""
SELECT asked.customer_key, {ops.SNAPSHOT_COLUMNS}
FROM unnest(?::text[]) AS asked (customer_key)
LEFT JOIN customers ON customers.key = asked.customer_key
"""  # noqa: S608
"""`ops.load_snapshot`'s first statement for many customers at once: what the lock
connection reads right after granting a batch of inline steps' claims."""


def record_and_reply(event: NewEvent, step: ops.Step) -> Op[StepResult | None]:
    """`ops.record_and_step` for a step with messages only (no effects, no reminder changes:
    the usual answer to a customer's message), in one statement."""
    if step.effects or step.reminders or event.event is None or event.customer is None:
        raise ValueError("record_and_reply takes a customer's message and a step of messages")
    inbound_at = step.now if event.source == "whatsapp" else None
    [row] = yield Query(
        _RECORD_AND_REPLY,
        (
            # the event, stored already processed
            event.source,
            event.dedupe_key,
            event.customer.key,
            event.customer.model_dump_json(),
            ops.dump_event(event.event),
            event.raw,
            step.now,
            step.now,
            # the customer and their conversation
            *ops.customer_values(step, inbound_at),
            # the replies, in order
            step.customer.key,
            step.now,
            [ops.dump_message(message) for message in step.messages],
        ),
    )
    if row["event_id"] is None:
        return None  # recorded before: a redelivery
    return StepResult(outbox_ids=tuple(int(i) for i in row["outbox_ids"]), job_ids=())


_MARK_SENT_MANY = """
UPDATE outbox SET status = 'sent', wamid = sent.wamid, sent_at = sent.at,
                  attempts = outbox.attempts + 1
FROM unnest(?::bigint[], ?::text[], ?::bigint[]) AS sent (id, wamid, at)
WHERE outbox.id = sent.id AND outbox.status = 'pending'
"""


def mark_sent_many(marks: Sequence[ops.SentMark]) -> Op[None]:
    """`ops.mark_sent_many` in one statement."""
    yield Query(
        _MARK_SENT_MANY,
        (
            [mark.outbox_id for mark in marks],
            [mark.wamid for mark in marks],
            [mark.at for mark in marks],
        ),
    )
