"""The storage interface the bot depends on. Backends: `storage.sqlite.SqliteStore` (one
process, a file) and `storage.postgres.PostgresStore` (any number of processes on one server)."""

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from flows.effects import Effect
from flows.events import Event
from flows.lifecycle import Verdict
from flows.messages import OutgoingMessage
from flows.notices import NoticeContext
from flows.orders import Order
from flows.reminders import ReminderChange, ReminderFacts, ReminderSlot
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
    language: str | None = None  # the language the customer chose; None: not chosen
    recent_orders: tuple[Order, ...] = ()  # newest first; loaded only when asked for
    reminders: ReminderFacts = field(default_factory=ReminderFacts)  # window, stop, cap
    # Units of each counted product this customer can have (their open order's holds included).
    stock: Mapping[str, int] = field(default_factory=dict)
    # Some event of this customer's is recorded and not yet stepped (its own, for the runner).
    pending_events: bool = False


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


class Lane(StrEnum):
    """The kinds of durable work. Events and outbox messages are keyed by customer (one at a
    time, in order, per customer); jobs by order id; merchant alerts by channel."""

    EVENTS = "events"
    OUTBOX = "outbox"
    JOBS = "jobs"
    ALERTS = "alerts"  # deliveries to the merchant, keyed by channel


class ClaimRead(StrEnum):
    """What a store may read together with a claim, for the holder's first look."""

    PENDING = "pending"  # the key's pending work (`unprocessed_events`, `pending_outbox`)
    SNAPSHOT = "snapshot"  # the customer's snapshot (`load_snapshot`): the inline step's read
    NOTHING = "nothing"


UNKNOWN_CUSTOMER_PREFIX = "event:"
"""Key of a payment event whose order we do not know: it has no customer and runs alone."""


def event_key(customer_key: str | None, event_id: int) -> str:
    return customer_key or f"{UNKNOWN_CUSTOMER_PREFIX}{event_id}"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A stored item set aside because it cannot be handled (unreadable, or failing every
    time): it no longer blocks anything and stays for the merchant to look at."""

    lane: Lane
    id: int
    key: str | None
    reason: str
    at: int


DeadLetterHook = Callable[[DeadLetter], None]
"""Told of every item a store sets aside as it happens (the bot logs it as an error)."""


@dataclass(frozen=True, slots=True)
class StepResult:
    outbox_ids: tuple[int, ...]
    job_ids: tuple[int, ...]
    alert_ids: tuple[int, ...] = ()  # merchant deliveries the step queued
    paid_job_ids: tuple[int, ...] = ()  # hand-offs (Shopify) of an order the step paid


class AlertStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # given up after the last scheduled attempt, or refused for good
    SKIPPED = "skipped"  # nothing to send on this channel now (an owner's window is closed)


@dataclass(frozen=True, slots=True)
class MerchantAlert:
    """One delivery of one merchant event on one channel."""

    id: int
    channel: str
    event_type: str
    order_id: str
    webhook_id: str  # Standard Webhooks `webhook-id`: the same on every attempt
    body: str  # the event's JSON, exactly as a webhook sends it
    status: AlertStatus
    attempts: int
    last_error: str | None
    next_attempt_at: int
    created_at: int
    delivered_at: int | None
    resends: int = 0  # times the merchant asked for it again ("alerts resend", "send again")


class ActionKind(StrEnum):
    SHIP = "ship"
    DELIVER = "deliver"
    CANCEL = "cancel"
    REFUND = "refund"
    MARK_PAID = "paid"  # the cash of a cash-on-delivery order was collected


NoticeContextFactory = Callable[[int | None], NoticeContext]
"""Given the customer's last inbound time, what a notice to them needs (wording, templates,
now): storage reads that time in the action's transaction."""


@dataclass(frozen=True, slots=True)
class MerchantAction:
    """One thing the merchant does to an order, checked against `flows.lifecycle` and applied
    in one transaction. `by` says who, for the order's history ("cli:asha", "admin:…")."""

    kind: ActionKind
    order_id: str
    by: str
    at: int
    notice_context: NoticeContextFactory
    courier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    amount: int | None = None  # refund: paise; None with cancel-and-refund: what is left
    reason: str = ""
    refund: bool = False  # cancel: refund what was paid as well
    request_key: str | None = None  # refund: the same key is the same refund (a retry)
    # Where the merchant hears about the change (order.shipped, …): one delivery per channel,
    # queued in the action's transaction.
    alert_channels: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class ActionResult:
    verdict: Verdict
    message: str  # what happened, in words, for the CLI and the dashboard
    order: Order | None
    outbox_ids: tuple[int, ...] = ()
    job_ids: tuple[int, ...] = ()
    alert_ids: tuple[int, ...] = ()  # merchant deliveries the action queued


@dataclass(frozen=True, slots=True)
class Refund:
    id: int
    order_id: str
    amount: int
    reason: str
    status: str  # "pending" | "processed" | "failed"
    idempotency_key: str
    provider_refund_id: str | None
    requested_by: str
    requested_at: int
    settled_at: int | None
    failure: str | None


@dataclass(frozen=True, slots=True)
class RefundSettlement:
    """The provider's final word on a refund: from its answer to the call, or a webhook."""

    status: str  # "processed" | "failed"
    at: int
    by: str  # "razorpay", …
    notice_context: NoticeContextFactory
    refund_id: int | None = None  # ours, when the provider echoes it (notes) or we called
    provider_refund_id: str | None = None
    failure: str | None = None
    alert_channels: Sequence[str] = ()  # a processed refund tells the merchant (order.refunded)


@dataclass(frozen=True, slots=True)
class LatePayment:
    """A verified payment for an order that no longer takes one: it is refunded at once."""

    order_id: str
    payment_id: str  # the provider's id for the payment (Paystack: the reference)
    at: int
    by: str  # the provider's name, for the order's history
    notice_context: NoticeContextFactory
    alert_channels: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class StockLevel:
    """One counted product: what the shop has, and how much of it is held for orders that
    await payment."""

    product_id: str
    on_hand: int
    held: int
    updated_at: int
    updated_by: str  # "config" (the starting count), "cli:<user>", "admin:<user>", …

    @property
    def available(self) -> int:
        """What customers can still order (never below zero, even if the shop set a count
        lower than what is held)."""
        return max(0, self.on_hand - self.held)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    status: str
    at: int
    reason: str
    actor: str | None


@dataclass(frozen=True, slots=True)
class Reminder:
    """One planned reminder (`flows.reminders`) and what became of it."""

    id: int
    customer_key: str
    slot: ReminderSlot
    order_id: str | None
    due_at: int
    status: str  # pending | fired | sent | skipped | cancelled
    note: str | None
    fired_at: int | None


class OrderView(StrEnum):
    """The dashboard's lists of orders. `TO_PACK` (paid, nothing shipped, not refunded in
    full) is what the merchant opens it for; it lists the oldest first, the others newest
    first."""

    TO_PACK = "to_pack"
    AWAITING = "awaiting"  # payment link sent, not paid
    SHIPPED = "shipped"  # shipped or delivered
    CANCELLED = "cancelled"  # cancelled by the merchant, or the link cancelled or expired
    REFUNDED = "refunded"  # any refund asked for (pending, processed or partial)
    ALL = "all"


@dataclass(frozen=True, slots=True)
class OrderRow:
    """One order of a dashboard list, with who placed it."""

    order: Order
    customer: Customer | None


@dataclass(frozen=True, slots=True)
class OrderPage:
    rows: tuple[OrderRow, ...]
    more: bool  # another page follows


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message the shop queued to a customer (the outbox row), for an order's page."""

    id: int
    message: OutgoingMessage | None  # None when the stored JSON no longer decodes
    status: str  # "pending" | "sent" | "failed"
    attempts: int
    last_error: str | None
    created_at: int
    sent_at: int | None


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    id: str  # random, unique
    client: str  # the client's address
    at: int
    since: int  # the start of the rate limit's window
    per_client: int  # attempts allowed from one client in the window
    in_all: int  # attempts allowed from everyone together in the window


class FormUse(StrEnum):
    """What became of a dashboard form submitted with a one-time token."""

    DONE = "done"
    ALREADY = "already"  # the same form was submitted before: nothing done again
    UNKNOWN = "unknown"  # the thing it names does not exist


@dataclass(frozen=True, slots=True)
class StockForm:
    """What became of a stock change sent from a dashboard form with a one-time token."""

    use: FormUse  # DONE: changed; ALREADY: this form was sent before, nothing done again
    level: StockLevel | None = None  # the count after the change (DONE)


@dataclass(frozen=True, slots=True)
class PaymentCheckDue:
    """An order awaiting payment that the reconciliation sweep should ask the provider about."""

    order_id: str
    link_id: str
    created_at: int
    link_expires_at: int | None
    checks: int  # how often it was asked about before


@dataclass(frozen=True, slots=True)
class PaymentSignals:
    """When a signed payment webhook last arrived, and when one of our own checks (the
    callback's or the sweep's) last confirmed a payment: the sign of a missing webhook."""

    last_webhook_at: int | None
    last_polled_confirmation_at: int | None


class Store(Protocol):
    @property
    def shared(self) -> bool:
        """True when other processes may work on the same database at once (Postgres). Workers
        then `claim` a key before handling it and read its work from the store, in order."""

    def claim(
        self, lane: Lane, key: str, *, read: ClaimRead = ClaimRead.PENDING
    ) -> AbstractAsyncContextManager[bool]:
        """Hold `key` of `lane` for this process while the context is open; yields False when
        another process holds it (the asker tries again shortly: see `bot.keyed`). A holder
        that dies lets go at once. Always True on a store that is not `shared`. A store may
        read with the claim what `read` says the holder will look at first (the key's
        pending work, or the customer's snapshot), so that it costs no round trip of its own."""

    async def pending_keys(self, lane: Lane, created_before: int | None = None) -> list[str]:
        """Keys with pending work in `lane` (created before the given time, if any), the key
        of the oldest work first: what a sweep or a fresh start hands to the workers."""

    async def ping(self) -> None:
        """Raise if the database does not answer."""

    def describe(self) -> dict[str, object]:
        """What this store is, for the start-up log: backend, where, how many connections a
        process may open (never a password)."""

    async def bind_mode(self, mode: str, now: int) -> None:
        """Record which mode (live or sandbox) uses this database; raise `ModeMismatchError`
        if it holds orders made in the other mode."""

    # --- set-aside items ------------------------------------------------------------------------
    async def dead_letter(self, lane: Lane, item_id: int, reason: str, now: int) -> None:
        """Set a pending item aside: it is no longer pending and is listed by `dead_letters`."""

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Items set aside, newest first."""

    # --- inbound events (dj-stripe: store every event, process it once) ---------------------
    async def record_events(self, events: Sequence[NewEvent], now: int) -> list[int]:
        """Insert-or-ignore in one transaction; returns the ids of the events that were new.
        Payment events get their customer_key from the order they name. Events with
        `event=None` are stored already processed."""

    async def unprocessed_events(self, customer_key: str | None = None) -> list[StoredEvent]:
        """Every event not yet processed (of one customer key, if given), oldest first.
        Unreadable rows are set aside (see `dead_letter`), never raised."""

    async def get_event(self, event_id: int) -> StoredEvent | None: ...

    async def mark_event_processed(self, event_id: int, outcome: str, now: int) -> None:
        """For events that end without a step (unknown order, no customer)."""

    # --- one step of one customer, atomically --------------------------------------------------
    async def load_snapshot(
        self,
        customer_key: str,
        order_id: str | None,
        recent_orders: int = 0,
        *,
        with_stock: bool = True,
    ) -> CustomerSnapshot:
        """The customer, their conversation, their open order, the order `order_id` names (if
        theirs), their language, when `recent_orders` > 0 that many of their newest orders,
        and the stock counts (`with_stock=False` skips them: a shop that counts none)."""
        ...

    async def customer_orders(self, customer_key: str, limit: int) -> list[Order]:
        """The customer's newest orders, newest first, at most `limit`."""
        ...

    async def commit_step(
        self,
        *,
        event_id: int,
        customer: Customer,
        conversation: Conversation,
        messages: Sequence[OutgoingMessage],
        effects: Sequence[Effect],
        now: int,
        alert_channels: Sequence[str] = (),
        reminders: Sequence[ReminderChange] = (),
        paid_jobs: Sequence[str] = (),
    ) -> StepResult:
        """In one transaction: save the customer and conversation, apply order effects, queue
        provider calls as jobs, messages in the outbox and, for an order event the merchant
        hears about, one delivery per channel in `alert_channels`; apply the step's changes to
        the customer's reminders; for an order this step marks paid, one job of each kind in
        `paid_jobs`; mark the event processed. If the event was already processed, change
        nothing and return empty ids."""

    async def record_and_step(
        self,
        event: NewEvent,
        *,
        customer: Customer,
        conversation: Conversation,
        messages: Sequence[OutgoingMessage],
        effects: Sequence[Effect],
        now: int,
        alert_channels: Sequence[str] = (),
        reminders: Sequence[ReminderChange] = (),
        paid_jobs: Sequence[str] = (),
    ) -> StepResult | None:
        """Record `event` already processed and save its step as `commit_step` does, in one
        transaction. Returns None, having saved nothing, when the event was recorded before (a
        redelivery); raises as `commit_step` does, saving nothing either."""

    # --- outbox ---------------------------------------------------------------------------------
    async def pending_outbox(self, customer_key: str | None = None) -> list[OutboxMessage]:
        """Unsent messages (to one customer, if given), oldest first; unreadable ones are set
        aside."""

    async def get_outbox(self, outbox_id: int) -> OutboxMessage | None: ...

    async def mark_sent(self, outbox_id: int, wamid: str, now: int) -> None: ...

    async def mark_failed(self, outbox_id: int, error: str, now: int) -> None:
        """Give up on a message: it is not retried again."""

    async def record_attempt(self, outbox_id: int, error: str) -> None:
        """Count a failed attempt that will be retried."""

    # --- jobs -----------------------------------------------------------------------------------
    async def pending_jobs(self, order_id: str | None = None) -> list[Job]:
        """Jobs not yet done (of one order, if given), oldest first; unreadable ones are set
        aside."""

    async def get_job(self, job_id: int) -> Job | None: ...

    async def finish_job(self, job_id: int, outcome: NewEvent | None, now: int) -> int | None:
        """Mark the job done and record its outcome event in one transaction; returns the new
        event id (None if there was no outcome or it was a duplicate)."""

    # --- merchant alerts ------------------------------------------------------------------------
    async def due_alerts(self, channel: str | None, now: int) -> list[MerchantAlert]:
        """Pending deliveries whose next attempt is due (on one channel, if given), oldest
        first."""

    async def next_alert_due(self) -> int | None:
        """When the earliest pending delivery is due; None when nothing is pending."""

    async def record_alert_attempt(
        self,
        alert_id: int,
        status: AlertStatus,
        error: str | None,
        next_attempt_at: int,
        now: int,
    ) -> None:
        """Count one attempt of a pending delivery and record where it stands: delivered,
        failed, skipped, or pending again at `next_attempt_at`."""

    async def order_alerts(self, order_id: str) -> list[MerchantAlert]:
        """Every delivery about one order, oldest first: the order's delivery log."""

    async def recent_alerts(self, limit: int = 50) -> list[MerchantAlert]:
        """The newest deliveries, newest first."""

    async def resend_alert(self, alert_id: int, now: int) -> MerchantAlert | None:
        """Queue a delivery again, due now, with the same body and webhook id; None for an
        unknown id."""

    async def last_message_from(self, phone: str) -> int | None:
        """When this phone number last wrote to the shop on WhatsApp (Unix seconds)."""

    # --- reminders ------------------------------------------------------------------------------
    async def fire_due_reminders(self, now: int) -> list[int]:
        """Turn pending reminders due by `now` into `ReminderDue` events, each exactly once
        however many processes ask at the same time; returns the new event ids."""

    async def next_reminder_due(self) -> int | None:
        """When the earliest pending reminder is due; None when none is pending."""

    async def customer_reminders(self, customer_key: str) -> list[Reminder]:
        """Every reminder of one customer, oldest first."""

    # --- orders ---------------------------------------------------------------------------------
    async def get_order(self, order_id: str) -> Order | None: ...

    async def list_orders(self, limit: int = 100) -> list[Order]: ...

    async def order_history(self, order_id: str) -> list[tuple[str, int, str]]:
        """(status, at, reason) rows, oldest first."""

    async def order_timeline(self, order_id: str) -> list[HistoryEntry]:
        """The order's history with who did each step, oldest first."""

    async def search_orders(
        self, statuses: Sequence[str], search: str | None, limit: int
    ) -> list[Order]:
        """Newest first. `statuses`: payment (`PaymentStatus`) or fulfilment status values,
        any of them matching; `search`: an order id or (part of) a customer's phone."""

    async def customer_of(self, order_id: str) -> Customer | None: ...

    # --- the merchant's actions -----------------------------------------------------------------
    async def act_on_order(self, action: MerchantAction) -> ActionResult:
        """Apply one action if `flows.lifecycle` allows it, with its history row, the customer's
        notice (outbox) and, for refunds, the provider call (a job), in one transaction."""

    async def refunds(self, order_id: str) -> list[Refund]: ...

    async def record_refund_answer(
        self, refund_id: int, provider_refund_id: str, answer: str
    ) -> None:
        """Keep the provider's answer to the refund call (its refund id, the raw body)."""

    async def settle_refund(self, settlement: RefundSettlement) -> ActionResult:
        """Move a pending refund to processed or failed (once: a repeat changes nothing); a
        processed refund adds up on the order and tells the customer, a failed one frees its
        amount to be refunded again."""

    async def record_shopify_order(self, order_id: str, shopify_order_id: str) -> bool:
        """Keep the Shopify order an order became; False if it already had one."""

    # --- payment-provider work outside a conversation step ---------------------------------------
    async def record_event_and_job(
        self, event: NewEvent, job_kind: str, payload: str, now: int
    ) -> int | None:
        """Record a webhook and, if it is new and names a known order, queue `job_kind` for
        that order in the same transaction; returns the new job's id."""

    async def refund_late_payment(self, late: LatePayment) -> ActionResult:
        """A verified payment for a cancelled or expired order: mark it paid, cancel it and
        refund all of it (a refund job), tell the customer and queue the merchant's alert,
        in one transaction. A repeat changes nothing."""

    # --- stock ----------------------------------------------------------------------------------
    async def seed_stock(self, starting: Mapping[str, int], now: int) -> list[str]:
        """Give each product without a stock row its starting count (config.toml's `stock`);
        a product that has one keeps its live count. Returns the products seeded."""

    async def stock_levels(self) -> list[StockLevel]:
        """Every counted product, by id."""

    async def set_stock(self, product_id: str, on_hand: int, by: str, now: int) -> StockLevel:
        """Set what the shop has of a product (held units stay held)."""

    async def add_stock(self, product_id: str, change: int, by: str, now: int) -> StockLevel | None:
        """Add to (or, negative, take from) what the shop has; None, changing nothing, when it
        would go below zero. Raises `UnknownProductError` for a product not counted."""

    # --- the dashboard --------------------------------------------------------------------------
    async def order_page(
        self, view: OrderView, search: str | None, offset: int, limit: int
    ) -> OrderPage:
        """One page of a dashboard list. `search`: an order id, or digits of a phone number."""

    async def order_view_counts(self) -> dict[OrderView, int]:
        """How many orders each list holds (without a search)."""

    async def order_messages(self, order_id: str, limit: int = 100) -> list[SentMessage]:
        """What the shop queued to the order's customer since the order was placed, oldest
        first."""

    async def login_attempt(self, attempt: LoginAttempt) -> bool:
        """Count a dashboard login attempt before its password is checked (so parallel guesses
        count too); False, and not counted, when the client or everyone together already
        made the most attempts allowed since `attempt.since`. Older attempts are forgotten."""

    async def forget_login_failures(self, client: str) -> None:
        """A client signed in: its attempts no longer count."""

    async def resend_alert_once(self, form_token: str, alert_id: int, now: int) -> FormUse:
        """`resend_alert`, once per form token (a double click queues one delivery)."""

    async def set_stock_once(
        self, form_token: str, product_id: str, on_hand: int, by: str, now: int
    ) -> StockForm:
        """`set_stock`, once per form token (the same form sent twice sets once)."""

    async def add_stock_once(
        self, form_token: str, product_id: str, change: int, by: str, now: int
    ) -> StockForm | None:
        """`add_stock`, once per form token (a double click adds once). None, changing
        nothing and leaving the token unused, when it would go below zero; raises
        `UnknownProductError` for a product not counted."""

    # --- payment reconciliation ----------------------------------------------------------------
    async def payment_checks_due(
        self, now: int, first_after: int, limit: int
    ) -> list[PaymentCheckDue]:
        """Orders awaiting payment whose next provider check is due, oldest first: never
        checked and at least `first_after` seconds old, or scheduled for `now` or earlier."""

    async def record_payment_check(
        self, order_id: str, state: str, checked_at: int, next_check_at: int | None
    ) -> None:
        """Count one check and when to ask next; None: that was the last check."""

    async def request_payment_check(self, order_id: str, at: int) -> None:
        """Make sure the order is checked by `at` at the latest, even after its last check."""

    async def note_payment_signal(self, kind: str, at: int) -> None:
        """`kind` "polled_confirmation": our own check confirmed a payment the webhook had
        not. (When a signed payment webhook last arrived is read from the stored events.)"""

    async def payment_signals(self) -> PaymentSignals: ...

    async def close(self) -> None: ...
