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
    recorded, inbound_at = _recorded(event, step)
    [row] = yield Query(
        _RECORD_AND_REPLY,
        (
            *recorded,  # the event, stored already processed
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


def _recorded(event: NewEvent, step: ops.Step) -> tuple[tuple[object, ...], int | None]:
    """The event's values (source, dedupe key, customer key, customer, event, raw, received
    at), and when the customer last wrote (now, for a WhatsApp message)."""
    if step.effects or step.reminders or event.event is None or event.customer is None:
        raise ValueError("record_and_reply takes a customer's message and a step of messages")
    recorded = (
        event.source,
        event.dedupe_key,
        event.customer.key,
        event.customer.model_dump_json(),
        ops.dump_event(event.event),
        event.raw,
        step.now,
    )
    return recorded, step.now if event.source == "whatsapp" else None


# The same change for many customers at once: one row of `asked` per customer's message, the
# replies of all of them in one array, each naming its message by `asked.n`.
_RECORD_AND_REPLY_MANY = f"""
WITH asked AS (
    SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                         ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
                         ?::bigint[])
    WITH ORDINALITY AS a (source, dedupe_key, event_customer_key, event_customer, event, raw,
                          at, customer_key, phone, user_id, name, conversation,
                          inbound_at, n)
), recorded AS (
{ops.EVENT_INSERT_INTO}
    SELECT source, dedupe_key, event_customer_key, NULL, event_customer, event, raw, at, at,
           'processed'
    FROM asked ORDER BY n
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING id, dedupe_key
), saved AS (
{ops.CUSTOMER_INSERT_INTO}
    SELECT asked.customer_key, asked.phone, asked.user_id, asked.name, asked.conversation,
           asked.at, asked.at, asked.inbound_at
    FROM asked JOIN recorded ON recorded.dedupe_key = asked.dedupe_key
    ORDER BY asked.n
{ops.CUSTOMER_ON_CONFLICT}
), queued AS (
    INSERT INTO outbox (customer_key, event_id, recipient_phone, recipient_user_id, message,
                        created_at)
    SELECT asked.customer_key, recorded.id, saved.phone, saved.user_id, reply.message, asked.at
    FROM unnest(?::bigint[], ?::text[]) WITH ORDINALITY AS reply (asked_n, message, m)
    JOIN asked ON asked.n = reply.asked_n
    JOIN recorded ON recorded.dedupe_key = asked.dedupe_key
    JOIN saved ON saved.key = asked.customer_key
    ORDER BY reply.m
    RETURNING id, event_id
)
SELECT recorded.id AS event_id,
       ARRAY(SELECT id FROM queued WHERE queued.event_id = recorded.id ORDER BY id) AS outbox_ids
FROM asked LEFT JOIN recorded ON recorded.dedupe_key = asked.dedupe_key
ORDER BY asked.n
"""  # noqa: S608


def record_and_reply_many(
    steps: Sequence[tuple[NewEvent, ops.Step]],
) -> Op[list[StepResult | None]]:
    """`record_and_reply` for the messages of many customers, in one statement, in order:
    what the writer runs when several are waiting at once. Two of one customer's messages
    cannot be in it (the customer's row would change twice): the statement fails, and the
    writer runs each alone."""
    columns: list[list[object]] = [[] for _ in range(13)]
    reply_of: list[int] = []
    replies: list[str] = []
    for n, (event, step) in enumerate(steps, start=1):
        recorded, inbound_at = _recorded(event, step)
        key, phone, user_id, name, conversation, *_ = ops.customer_values(step, inbound_at)
        for column, value in zip(
            columns,
            (*recorded, key, phone, user_id, name, conversation, inbound_at),
            strict=True,
        ):
            column.append(value)
        for message in step.messages:
            reply_of.append(n)
            replies.append(ops.dump_message(message))
    rows = yield Query(_RECORD_AND_REPLY_MANY, (*columns, reply_of, replies))
    return [
        None
        if row["event_id"] is None  # recorded before: a redelivery
        else StepResult(outbox_ids=tuple(int(i) for i in row["outbox_ids"]), job_ids=())
        for row in rows
    ]


def mark_sent_in_one(marks: Sequence[Sequence[ops.SentMark]]) -> Op[list[None]]:
    """Several `mark_sent_many` as one statement."""
    yield from mark_sent_many([mark for group in marks for mark in group])
    return [None for _ in marks]


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
