"""The storage interface the bot depends on. Backends: `storage.sqlite.SqliteStore`."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from flows.effects import Effect
from flows.events import Event
from flows.messages import OutgoingMessage
from flows.orders import Order
from flows.state import Conversation, Customer


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An inbound event to record. `dedupe_key` is unique across all sources, e.g.
    `whatsapp:<wamid>`, `razorpay:<event id>`, `job:<job id>`."""

    source: str  # "whatsapp" | "razorpay" | "job"
    dedupe_key: str
    raw: str  # the provider's JSON for this event, kept for audit and replay
    event: Event | None  # None for provider events we only log (e.g. refund.processed)
    customer: Customer | None = None  # known for WhatsApp events
    order_id: str | None = None  # for payment events: our order id (provider reference id)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    id: int
    source: str
    customer_key: str | None  # None when a payment event names an order we do not know
    customer: Customer | None
    order_id: str | None
    event: Event | None
    received_at: int


@dataclass(frozen=True, slots=True)
class CustomerSnapshot:
    """What the runner loads under the customer's lock before calling the machine."""

    customer: Customer | None  # None for a customer never seen before
    conversation: Conversation
    open_order: Order | None  # newest order in pending_payment
    event_order: Order | None  # the order the event names (only if it belongs to this customer)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    customer_key: str
    recipient_phone: str | None
    recipient_user_id: str | None
    message: OutgoingMessage
    attempts: int


@dataclass(frozen=True, slots=True)
class Job:
    """A call to the payment provider that a committed step asked for."""

    id: int
    kind: str  # "create_payment_link" | "cancel_payment_link"
    customer_key: str
    order_id: str
    payload: dict[str, object] = field(default_factory=dict)  # the effect's fields
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class StepResult:
    outbox_ids: tuple[int, ...]
    job_ids: tuple[int, ...]


class Store(Protocol):
    async def ping(self) -> None:
        """Raise if the database does not answer."""

    # --- inbound events (dj-stripe: store every event, process it once) ---------------------
    async def record_events(self, events: Sequence[NewEvent], now: int) -> list[int]:
        """Insert-or-ignore in one transaction; returns the ids of the events that were new.
        Payment events get their customer_key from the order they name. Events with
        `event=None` are stored already processed."""

    async def unprocessed_events(self) -> list[StoredEvent]:
        """Every event not yet processed, oldest first (crash recovery on start)."""

    async def get_event(self, event_id: int) -> StoredEvent | None: ...

    async def mark_event_processed(self, event_id: int, outcome: str, now: int) -> None:
        """For events that end without a step (unknown order, no customer)."""

    # --- one step of one customer, atomically --------------------------------------------------
    async def load_snapshot(self, customer_key: str, order_id: str | None) -> CustomerSnapshot: ...

    async def commit_step(
        self,
        *,
        event_id: int,
        customer: Customer,
        conversation: Conversation,
        messages: Sequence[OutgoingMessage],
        effects: Sequence[Effect],
        now: int,
    ) -> StepResult:
        """In one transaction: save the customer and conversation, apply order effects, queue
        provider calls as jobs and messages in the outbox, mark the event processed. If the
        event was already processed, change nothing and return empty ids."""

    # --- outbox ---------------------------------------------------------------------------------
    async def pending_outbox(self) -> list[OutboxMessage]:
        """Unsent messages, oldest first."""

    async def get_outbox(self, outbox_id: int) -> OutboxMessage | None: ...

    async def mark_sent(self, outbox_id: int, wamid: str, now: int) -> None: ...

    async def mark_failed(self, outbox_id: int, error: str, now: int) -> None:
        """Give up on a message: it is not retried again."""

    async def record_attempt(self, outbox_id: int, error: str) -> None:
        """Count a failed attempt that will be retried."""

    # --- jobs -----------------------------------------------------------------------------------
    async def pending_jobs(self) -> list[Job]: ...

    async def get_job(self, job_id: int) -> Job | None: ...

    async def finish_job(self, job_id: int, outcome: NewEvent | None, now: int) -> int | None:
        """Mark the job done and record its outcome event in one transaction; returns the new
        event id (None if there was no outcome or it was a duplicate)."""

    # --- orders ---------------------------------------------------------------------------------
    async def get_order(self, order_id: str) -> Order | None: ...

    async def list_orders(self, limit: int = 100) -> list[Order]: ...

    async def order_history(self, order_id: str) -> list[tuple[str, int, str]]:
        """(status, at, reason) rows, oldest first."""

    async def close(self) -> None: ...
