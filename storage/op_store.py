"""Every `Store` method in terms of three primitives a backend provides: run an operation
(`storage.ops`) as a read, as a point lookup, or as a write in one transaction.

The backends differ only in how they run operations and claim keys; what each method does —
which operation, how unreadable rows are set aside — is here, once.
"""

import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import TypeVar

from flows.effects import Effect
from flows.messages import OutgoingMessage
from flows.orders import Order
from flows.reminders import ReminderChange
from flows.state import Conversation, Customer
from storage import (
    admin_ops,
    lifecycle_ops,
    ops,
    payment_check_ops,
    payment_ops,
    reminder_ops,
    stock_ops,
)
from storage.coalesce import Coalescer
from storage.errors import ModeMismatchError, StockBelowZeroError
from storage.query import OpFactory
from storage.repository import (
    ActionResult,
    AlertStatus,
    ClaimRead,
    CustomerSnapshot,
    DeadLetter,
    DeadLetterHook,
    FormUse,
    HistoryEntry,
    Job,
    Lane,
    LatePayment,
    LoginAttempt,
    MerchantAction,
    MerchantAlert,
    NewEvent,
    OrderPage,
    OrderView,
    OutboxMessage,
    PaymentCheckDue,
    PaymentSignals,
    Refund,
    RefundSettlement,
    Reminder,
    SentMessage,
    StepResult,
    StockForm,
    StockLevel,
    StoredEvent,
)

T = TypeVar("T")
Item = TypeVar("Item")


class OpStore(ABC):
    def __init__(self, on_dead_letter: DeadLetterHook | None = None) -> None:
        self._on_dead_letter = on_dead_letter
        self._sent_marks = Coalescer(self._write_sent_marks)

    # --- what a backend provides --------------------------------------------------------------

    @abstractmethod
    async def _read(self, op: OpFactory[T]) -> T:
        """Run a read-only operation (scans, listings). `op` makes the operation: a backend
        may have to start it again (SQLite retries a lookup off the loop when it would wait)."""

    async def _lookup(self, op: OpFactory[T]) -> T:
        """Run a read of a few rows by key; a backend may run it more cheaply than a scan."""
        return await self._read(op)

    @abstractmethod
    async def _write(self, op: OpFactory[T]) -> T:
        """Run an operation in one transaction: all of it is saved, or none."""

    async def _write_statement(self, op: OpFactory[T]) -> T:
        """Run an operation of exactly one statement. A statement is atomic by itself, so a
        backend may skip the BEGIN and COMMIT round trips around it."""
        return await self._write(op)

    @property
    def shared(self) -> bool:
        return False

    @asynccontextmanager
    async def claim(
        self, lane: Lane, key: str, *, read: ClaimRead = ClaimRead.PENDING
    ) -> AsyncIterator[bool]:
        """One process owns the database: the workers' own per-key order is enough."""
        yield True

    @abstractmethod
    async def ping(self) -> None: ...

    @abstractmethod
    def describe(self) -> dict[str, object]: ...

    @abstractmethod
    async def close(self) -> None: ...

    # --- set-aside items ------------------------------------------------------------------------

    async def dead_letter(self, lane: Lane, item_id: int, reason: str, now: int) -> None:
        await self._write_statement(partial(ops.dead_letter, lane, item_id, reason, now))

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        return await self._read(partial(ops.dead_letters, limit))

    async def _set_aside(self, lane: Lane, unreadable: Sequence[ops.Unreadable], now: int) -> None:
        for row in unreadable:
            await self.dead_letter(lane, row.id, row.reason, now)
            if self._on_dead_letter is not None:
                self._on_dead_letter(DeadLetter(lane, row.id, row.key, row.reason, now))

    async def _readable(self, lane: Lane, op: OpFactory[ops.Listing[Item]]) -> list[Item]:
        return await self._listed(lane, await self._read(op))

    async def _listed(self, lane: Lane, listing: ops.Listing[Item]) -> list[Item]:
        """The readable items of a listing; the rest set aside."""
        if listing.unreadable:
            await self._set_aside(lane, listing.unreadable, _wall_clock())
        return listing.items

    async def _one(self, lane: Lane, op: OpFactory[Item | ops.Unreadable | None]) -> Item | None:
        found = await self._lookup(op)
        if isinstance(found, ops.Unreadable):
            await self._set_aside(lane, [found], _wall_clock())
            return None
        return found

    async def bind_mode(self, mode: str, now: int) -> None:
        other = await self._write(partial(ops.bind_mode, mode, now))
        if other is not None:
            raise ModeMismatchError(
                f"this database holds orders made in {other} mode; refusing to run in {mode} "
                f"mode on it. Point DATABASE_URL at a database of its own for the {mode} shop."
            )

    async def pending_keys(self, lane: Lane, created_before: int | None = None) -> list[str]:
        before = created_before if created_before is not None else 2**62
        return await self._read(partial(ops.pending_keys, lane, before))

    # --- inbound events -------------------------------------------------------------------------

    async def record_events(self, events: Sequence[NewEvent], now: int) -> list[int]:
        if len(events) == 1:  # one INSERT … ON CONFLICT: the usual webhook
            return await self._write_statement(partial(ops.record_events, tuple(events), now))
        return await self._write(partial(ops.record_events, tuple(events), now))

    async def unprocessed_events(self, customer_key: str | None = None) -> list[StoredEvent]:
        return await self._readable(Lane.EVENTS, partial(ops.unprocessed_events, customer_key))

    async def get_event(self, event_id: int) -> StoredEvent | None:
        return await self._one(Lane.EVENTS, partial(ops.get_event, event_id))

    async def mark_event_processed(self, event_id: int, outcome: str, now: int) -> None:
        await self._write_statement(partial(ops.mark_event_processed, event_id, outcome, now))

    # --- one step -------------------------------------------------------------------------------

    async def load_snapshot(
        self,
        customer_key: str,
        order_id: str | None,
        recent_orders: int = 0,
        *,
        with_stock: bool = True,
    ) -> CustomerSnapshot:
        return await self._lookup(
            partial(ops.load_snapshot, customer_key, order_id, recent_orders, with_stock)
        )

    async def customer_orders(self, customer_key: str, limit: int) -> list[Order]:
        return await self._lookup(partial(ops.customer_orders, customer_key, limit))

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
        """Raises `UnknownEventError` for an event id never recorded, and the driver's
        integrity error for an impossible step (e.g. an order id placed twice); either way
        nothing of the step is saved."""
        step = ops.Step(
            event_id,
            customer,
            conversation,
            tuple(messages),
            tuple(effects),
            now,
            tuple(alert_channels),
            reminders=tuple(reminders),
            paid_jobs=tuple(paid_jobs),
        )
        return await self._write(partial(ops.commit_step, step))

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
        step = ops.Step(
            0,  # the event's id, once inserted
            customer,
            conversation,
            tuple(messages),
            tuple(effects),
            now,
            tuple(alert_channels),
            reminders=tuple(reminders),
            paid_jobs=tuple(paid_jobs),
        )
        return await self._record_and_step(event, step)

    async def _record_and_step(self, event: NewEvent, step: ops.Step) -> StepResult | None:
        """A backend may run the commonest steps more cheaply (Postgres: one statement)."""
        return await self._write(partial(ops.record_and_step, event, step))

    # --- outbox ---------------------------------------------------------------------------------

    async def pending_outbox(self, customer_key: str | None = None) -> list[OutboxMessage]:
        return await self._readable(Lane.OUTBOX, partial(ops.pending_outbox, customer_key))

    async def get_outbox(self, outbox_id: int) -> OutboxMessage | None:
        """The message while it is still pending; None once sent or failed (or unknown), so
        a sender that re-reads it never sends it twice."""
        return await self._one(Lane.OUTBOX, partial(ops.get_outbox, outbox_id))

    async def mark_sent(self, outbox_id: int, wamid: str, now: int) -> None:
        # One per message sent: those arriving while a write of others runs share the next.
        await self._sent_marks.add(ops.SentMark(outbox_id, wamid, now))

    async def _write_sent_marks(self, marks: Sequence[ops.SentMark]) -> None:
        if len(marks) == 1:
            [mark] = marks
            await self._write_statement(partial(ops.mark_sent, mark.outbox_id, mark.wamid, mark.at))
        else:
            await self._write(partial(ops.mark_sent_many, tuple(marks)))

    async def mark_failed(self, outbox_id: int, error: str, now: int) -> None:
        await self._write_statement(partial(ops.mark_failed, outbox_id, error, now))

    async def record_attempt(self, outbox_id: int, error: str) -> None:
        await self._write_statement(partial(ops.record_attempt, outbox_id, error))

    # --- jobs -----------------------------------------------------------------------------------

    async def pending_jobs(self, order_id: str | None = None) -> list[Job]:
        return await self._readable(Lane.JOBS, partial(ops.pending_jobs, order_id))

    async def get_job(self, job_id: int) -> Job | None:
        """The job while it is still pending; None once done (or unknown)."""
        return await self._one(Lane.JOBS, partial(ops.get_job, job_id))

    async def finish_job(self, job_id: int, outcome: NewEvent | None, now: int) -> int | None:
        return await self._write(partial(ops.finish_job, job_id, outcome, now))

    # --- merchant alerts ------------------------------------------------------------------------

    async def due_alerts(self, channel: str | None, now: int) -> list[MerchantAlert]:
        return await self._readable(Lane.ALERTS, partial(ops.due_alerts, channel, now))

    async def next_alert_due(self) -> int | None:
        return await self._read(ops.next_alert_due)

    async def record_alert_attempt(
        self,
        alert_id: int,
        status: AlertStatus,
        error: str | None,
        next_attempt_at: int,
        now: int,
    ) -> None:
        await self._write_statement(
            partial(ops.record_alert_attempt, alert_id, status, error, next_attempt_at, now)
        )

    async def order_alerts(self, order_id: str) -> list[MerchantAlert]:
        return await self._read(partial(ops.order_alerts, order_id))

    async def recent_alerts(self, limit: int = 50) -> list[MerchantAlert]:
        return await self._read(partial(ops.recent_alerts, limit))

    async def resend_alert(self, alert_id: int, now: int) -> MerchantAlert | None:
        return await self._write_statement(partial(ops.resend_alert, alert_id, now))

    async def last_message_from(self, phone: str) -> int | None:
        return await self._read(partial(ops.last_message_from, phone))

    # --- reminders ------------------------------------------------------------------------------

    async def fire_due_reminders(self, now: int) -> list[int]:
        return await self._write(partial(reminder_ops.fire_due, now))

    async def next_reminder_due(self) -> int | None:
        return await self._read(reminder_ops.next_due)

    async def customer_reminders(self, customer_key: str) -> list[Reminder]:
        return await self._read(partial(reminder_ops.customer_reminders, customer_key))

    # --- orders ---------------------------------------------------------------------------------

    async def get_order(self, order_id: str) -> Order | None:
        return await self._lookup(partial(ops.get_order, order_id))

    async def list_orders(self, limit: int = 100) -> list[Order]:
        return await self._read(partial(ops.list_orders, limit))

    async def order_history(self, order_id: str) -> list[tuple[str, int, str]]:
        return await self._read(partial(ops.order_history, order_id))

    async def order_timeline(self, order_id: str) -> list[HistoryEntry]:
        return await self._read(partial(lifecycle_ops.order_timeline, order_id))

    async def search_orders(
        self, statuses: Sequence[str], search: str | None, limit: int
    ) -> list[Order]:
        return await self._read(
            partial(lifecycle_ops.search_orders, tuple(statuses), search, limit)
        )

    async def customer_of(self, order_id: str) -> Customer | None:
        return await self._lookup(partial(lifecycle_ops.customer_of, order_id))

    # --- the merchant's actions -----------------------------------------------------------------

    async def act_on_order(self, action: MerchantAction) -> ActionResult:
        return await self._write(partial(lifecycle_ops.act_on_order, action))

    async def refunds(self, order_id: str) -> list[Refund]:
        return await self._read(partial(lifecycle_ops.refunds, order_id))

    async def record_refund_answer(
        self, refund_id: int, provider_refund_id: str, answer: str
    ) -> None:
        await self._write_statement(
            partial(lifecycle_ops.record_refund_answer, refund_id, provider_refund_id, answer)
        )

    async def settle_refund(self, settlement: RefundSettlement) -> ActionResult:
        return await self._write(partial(lifecycle_ops.settle_refund, settlement))

    async def record_shopify_order(self, order_id: str, shopify_order_id: str) -> bool:
        return await self._write(partial(ops.record_shopify_order, order_id, shopify_order_id))

    async def record_event_and_job(
        self, event: NewEvent, job_kind: str, payload: str, now: int
    ) -> int | None:
        return await self._write(
            partial(payment_ops.record_event_and_job, event, job_kind, payload, now)
        )

    async def refund_late_payment(self, late: LatePayment) -> ActionResult:
        return await self._write(partial(payment_ops.refund_late_payment, late))

    # --- stock ----------------------------------------------------------------------------------

    async def seed_stock(self, starting: Mapping[str, int], now: int) -> list[str]:
        return await self._write(partial(stock_ops.seed_stock, dict(starting), now))

    async def stock_levels(self) -> list[StockLevel]:
        return await self._read(stock_ops.stock_levels)

    async def set_stock(self, product_id: str, on_hand: int, by: str, now: int) -> StockLevel:
        return await self._write_statement(
            partial(stock_ops.set_stock, product_id, on_hand, by, now)
        )

    async def add_stock(self, product_id: str, change: int, by: str, now: int) -> StockLevel | None:
        return await self._write(partial(stock_ops.add_stock, product_id, change, by, now))

    # --- the dashboard --------------------------------------------------------------------------

    async def order_page(
        self, view: OrderView, search: str | None, offset: int, limit: int
    ) -> OrderPage:
        return await self._read(partial(admin_ops.order_page, view, search, offset, limit))

    async def order_view_counts(self) -> dict[OrderView, int]:
        return await self._read(admin_ops.order_view_counts)

    async def order_messages(self, order_id: str, limit: int = 100) -> list[SentMessage]:
        return await self._read(partial(admin_ops.order_messages, order_id, limit))

    async def login_attempt(self, attempt: LoginAttempt) -> bool:
        # Three steps, each committed: an attempt counts itself only after its own row is
        # committed, so of parallel attempts the k-th to commit sees at least k rows and no
        # more than the limit get through (in one transaction, Postgres would let each see
        # only its own row). A refused attempt is taken out again: one client hammering the
        # form cannot fill everyone's window.
        await self._write(partial(admin_ops.record_login_attempt, attempt))
        if await self._read(partial(admin_ops.login_attempts_over_limit, attempt)):
            await self._write_statement(partial(admin_ops.drop_login_attempt, attempt.id))
            return False
        return True

    async def forget_login_failures(self, client: str) -> None:
        await self._write_statement(partial(admin_ops.forget_login_failures, client))

    async def resend_alert_once(self, form_token: str, alert_id: int, now: int) -> FormUse:
        return await self._write(partial(admin_ops.resend_alert_once, form_token, alert_id, now))

    async def set_stock_once(
        self, form_token: str, product_id: str, on_hand: int, by: str, now: int
    ) -> StockForm:
        return await self._write(
            partial(admin_ops.set_stock_once, form_token, product_id, on_hand, by, now)
        )

    async def add_stock_once(
        self, form_token: str, product_id: str, change: int, by: str, now: int
    ) -> StockForm | None:
        try:
            return await self._write(
                partial(admin_ops.add_stock_once, form_token, product_id, change, by, now)
            )
        except StockBelowZeroError:  # rolled back, the form's token included
            return None

    # --- payment reconciliation ----------------------------------------------------------------

    async def payment_checks_due(
        self, now: int, first_after: int, limit: int
    ) -> list[PaymentCheckDue]:
        return await self._read(
            partial(payment_check_ops.payment_checks_due, now, first_after, limit)
        )

    async def record_payment_check(
        self, order_id: str, state: str, checked_at: int, next_check_at: int | None
    ) -> None:
        await self._write_statement(
            partial(
                payment_check_ops.record_payment_check, order_id, state, checked_at, next_check_at
            )
        )

    async def request_payment_check(self, order_id: str, at: int) -> None:
        await self._write_statement(partial(payment_check_ops.request_payment_check, order_id, at))

    async def note_payment_signal(self, kind: str, at: int) -> None:
        await self._write_statement(partial(payment_check_ops.note_payment_signal, kind, at))

    async def payment_signals(self) -> PaymentSignals:
        return await self._read(payment_check_ops.payment_signals)


def _wall_clock() -> int:
    """When a read finds an unreadable row there is no caller's clock to ask: stamp the time
    it was set aside with the machine's."""
    return int(time.time())
