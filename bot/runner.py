"""Processes stored events: per customer, in order, one transaction per step.

Lock (the customer's queue) before load, then `flows.step`, then one commit that saves the new
state, applies order effects, queues messages and provider calls, and marks the event done.
Messages and jobs are handed to their workers only after that commit.
"""

import asyncio
from collections.abc import Callable, Sequence
from enum import Enum
from typing import TypedDict

from bot.clock import Clock, OrderIdFactory
from bot.keyed import KeyedWorker
from bot.logging import get_logger
from bot.merchant.owner import OwnerDesk
from flows.catalog import ShopConfig
from flows.effects import CancelPaymentLink, CreatePaymentLink, Effect, SetOrderStatus
from flows.events import Event, PaymentEvent
from flows.machine import (
    RECENT_ORDERS_SHOWN,
    Decision,
    StepContext,
    needs_recent_orders,
    referenced_order_id,
    step,
)
from flows.messages import OutgoingMessage, SendText
from flows.orders import OrderStatus
from flows.reminders import ReminderChange
from flows.state import Conversation, Customer
from storage.errors import StockShortError, StorageUnavailableError, StoreClosedError
from storage.repository import (
    ClaimRead,
    CustomerSnapshot,
    Job,
    Lane,
    NewEvent,
    OutboxMessage,
    StepResult,
    Store,
    StoredEvent,
    event_key,
)

log = get_logger(__name__)

COMMIT_RETRIES = 5  # a step failing this often fails for good: the event is set aside
# Steps of one event against stock that keeps running out under it; each sees fresher counts,
# so a second step normally tells the customer. Past this the commit retries above take over.
STOCK_RESTEPS = 3


class InlineStep(Enum):
    STEPPED = "stepped"  # recorded and stepped in one commit; its messages handed over
    DUPLICATE = "duplicate"  # recorded before (a redelivery): nothing to do
    NOT_TAKEN = "not taken"  # nothing stored: record it and let the worker step it


class _StepToSave(TypedDict):
    customer: Customer
    conversation: Conversation
    messages: tuple[OutgoingMessage, ...]
    effects: tuple[Effect, ...]
    now: int
    alert_channels: tuple[str, ...]
    paid_jobs: tuple[str, ...]
    reminders: tuple[ReminderChange, ...]


class Runner(KeyedWorker[StoredEvent]):
    lane = Lane.EVENTS

    def __init__(
        self,
        *,
        store: Store,
        shop: ShopConfig,
        clock: Clock,
        new_order_id: OrderIdFactory,
        deliver: Callable[[OutboxMessage], None],
        perform: Callable[[Job], None],
        concurrency: int,
        alert_channels: Sequence[str] = (),
        alerts_queued: Callable[[], None] = lambda: None,
        owner_desk: OwnerDesk | None = None,
        paid_jobs: Sequence[str] = (),
    ) -> None:
        self._shop = shop
        # Messages from the owners' numbers are owner commands, not shopping.
        self._owner_desk = owner_desk
        # Hand-offs of a paid order (the Shopify job): queued in the step that paid it.
        self._paid_jobs = tuple(paid_jobs)
        # A shop that counts no product's stock skips reading the counts on every step.
        self._counts_stock = any(product.stock is not None for product in shop.products)
        # Where the merchant hears about a paid order; queued in the step that paid it.
        self._alert_channels = tuple(alert_channels)
        self._alerts_queued = alerts_queued
        self._new_order_id = new_order_id
        self._deliver = deliver
        self._perform = perform
        super().__init__(store=store, clock=clock, concurrency=concurrency, name="runner")

    def now(self) -> float:
        return self._clock()

    def _key(self, stored: StoredEvent) -> str:
        # Payment events for an unknown order have no customer; they still run, alone.
        return event_key(stored.customer_key, stored.id)

    async def _pending(self, key: str | None) -> list[StoredEvent]:
        return await self._store.unprocessed_events(key)

    async def _handle(self, stored: StoredEvent) -> None:
        if stored.event is None:
            return
        if stored.customer_key is None:
            log.error(
                "payment event for an order we do not know",
                event_id=stored.id,
                source=stored.source,
                order_id=stored.order_id,
            )
            await self._store.mark_event_processed(stored.id, "unknown order", int(self._clock()))
            return
        for attempt in range(1, COMMIT_RETRIES + 1):
            try:
                await self._step_and_commit(stored, stored.event, stored.customer_key)
                return
            except (StorageUnavailableError, StoreClosedError):
                raise  # stays pending: the next sweep or start tries again
            except Exception:
                if attempt == COMMIT_RETRIES:
                    raise  # the same failure every time: set aside (KeyedWorker)
                log.warning(
                    "step failed; retrying",
                    event_id=stored.id,
                    source=stored.source,
                    customer=stored.customer_key,
                    attempt=attempt,
                    exc_info=True,
                )
                await asyncio.sleep(min(0.1 * 2**attempt, 2.0))

    async def _step_and_commit(self, stored: StoredEvent, event: Event, customer_key: str) -> None:
        """Step and commit; when the commit finds an order's stock taken meanwhile (another
        customer got the last units), nothing was saved: step again with fresh counts, and
        the machine tells this customer before they pay."""
        for _ in range(STOCK_RESTEPS - 1):
            try:
                await self._step_once(stored, event, customer_key)
                return
            except StockShortError as short:
                log.info(
                    "stock taken meanwhile; stepping again with fresh counts",
                    event_id=stored.id,
                    products=list(short.product_ids),
                )
        await self._step_once(stored, event, customer_key)

    async def _step_once(self, stored: StoredEvent, event: Event, customer_key: str) -> None:
        snapshot = await self._snapshot(event, customer_key, stored.order_id)
        customer = stored.customer or snapshot.customer
        if customer is None:
            log.error("event for a customer we never saw", event_id=stored.id)
            await self._store.mark_event_processed(stored.id, "no customer", int(self._clock()))
            return
        now = int(self._clock())
        desk = self._owner_desk
        if (
            desk is not None
            and customer.phone is not None
            and self._is_owner_message(event, desk, customer)
        ):
            reply = await desk.answer(event, customer.phone)
            # The owner's conversation with the shop stays where it was; only the reply goes.
            decision = Decision(state=snapshot.conversation, messages=(SendText(body=reply),))
        else:
            context = self._context(snapshot, customer, now)
            decision = self._decide(snapshot.conversation, event, context, stored.id)
        result = await self._store.commit_step(
            event_id=stored.id, **self._saved(customer, decision, now)
        )
        self._log_decision(stored.id, stored.order_id, event, customer, decision)
        await self._after_commit(customer, decision, result)

    async def step_inline(
        self, new: NewEvent, before_hand_over: Callable[[], None] = lambda: None
    ) -> InlineStep:
        """Record a customer's message and take its step in one commit, when nothing of
        theirs is queued here or waiting in the store: one transaction and no hand-over to a
        worker per message. Anything in the way (work of theirs in progress, another process
        holding them, stock taken meanwhile, an error) returns NOT_TAKEN having stored
        nothing: the caller records the event the usual way. `before_hand_over` runs once
        the step is committed, before its messages go to the sender."""
        event, customer = new.event, new.customer
        if event is None or customer is None or self._is_owner(event, customer):
            return InlineStep.NOT_TAKEN
        if not self.hold(customer.key):
            return InlineStep.NOT_TAKEN
        try:
            # The snapshot (read with the claim) says whether anything of theirs waits.
            claim = self._store.claim(self.lane, customer.key, read=ClaimRead.SNAPSHOT)
            async with claim as claimed:
                if not claimed:
                    return InlineStep.NOT_TAKEN
                return await self._record_and_step(new, event, customer, before_hand_over)
        except (StorageUnavailableError, StoreClosedError) as error:
            log.warning("inline step skipped: database unavailable", error=str(error))
            return InlineStep.NOT_TAKEN
        finally:
            self.release(customer.key)

    async def _record_and_step(
        self,
        new: NewEvent,
        event: Event,
        customer: Customer,
        before_hand_over: Callable[[], None],
    ) -> InlineStep:
        try:
            snapshot = await self._snapshot(event, customer.key, None)
            if snapshot.pending_events:
                return InlineStep.NOT_TAKEN  # theirs come first, in order: the usual path
            now = int(self._clock())
            context = self._context(snapshot, customer, now)
            decision = self._decide(snapshot.conversation, event, context, None)
            result = await self._store.record_and_step(new, **self._saved(customer, decision, now))
        except StockShortError:
            return InlineStep.NOT_TAKEN  # the usual path steps again with fresh counts
        except (StorageUnavailableError, StoreClosedError):
            raise
        except Exception:
            log.warning("inline step failed; recording the event instead", exc_info=True)
            return InlineStep.NOT_TAKEN
        if result is None:
            return InlineStep.DUPLICATE
        self._log_decision(None, None, event, customer, decision)
        before_hand_over()
        await self._after_commit(customer, decision, result)
        return InlineStep.STEPPED

    async def _snapshot(
        self, event: Event, customer_key: str, order_id: str | None
    ) -> CustomerSnapshot:
        order_id = order_id or referenced_order_id(event)
        recent = RECENT_ORDERS_SHOWN if needs_recent_orders(event) else 0
        return await self._store.load_snapshot(
            customer_key, order_id, recent, with_stock=self._counts_stock
        )

    def _context(self, snapshot: CustomerSnapshot, customer: Customer, now: int) -> StepContext:
        return StepContext(
            config=self._shop,
            customer=customer,
            now=now,
            new_order_id=self._new_order_id(),
            open_order=snapshot.open_order,
            event_order=snapshot.event_order,
            language=snapshot.language,
            recent_orders=snapshot.recent_orders,
            reminders=snapshot.reminders,
            stock=snapshot.stock,
        )

    def _saved(self, customer: Customer, decision: Decision, now: int) -> _StepToSave:
        return {
            "customer": customer,
            "conversation": decision.state,
            "messages": decision.messages,
            "effects": decision.effects,
            "now": now,
            "alert_channels": self._alert_channels,
            "paid_jobs": self._paid_jobs,
            "reminders": decision.reminders,
        }

    async def _after_commit(
        self, customer: Customer, decision: Decision, result: StepResult
    ) -> None:
        self._hand_over(customer, decision, result)  # the customer's messages first
        if result.alert_ids:
            self._alerts_queued()
        for job_id in result.paid_job_ids:
            job = await self._store.get_job(job_id)
            if job is not None:
                self._perform(job)

    def _is_owner(self, event: Event, customer: Customer) -> bool:
        desk = self._owner_desk
        return desk is not None and self._is_owner_message(event, desk, customer)

    @staticmethod
    def _is_owner_message(event: Event, desk: OwnerDesk, customer: Customer) -> bool:
        """A message the owner wrote (a payment for an order the owner placed is not one)."""
        return not isinstance(event, PaymentEvent) and desk.is_owner(customer.phone)

    def _hand_over(self, customer: Customer, decision: Decision, result: StepResult) -> None:
        """After commit: messages to the outbox sender, provider calls to the job worker.
        Storage returns ids in the order the messages and job effects were given."""
        job_effects = [
            effect
            for effect in decision.effects
            if isinstance(effect, CreatePaymentLink | CancelPaymentLink)
        ]
        if len(result.outbox_ids) != len(decision.messages) or len(result.job_ids) != len(
            job_effects
        ):
            # commit_step changed nothing: another run of this event got there first.
            log.warning("event was already processed; nothing handed over", customer=customer.key)
            return
        for outbox_id, message in zip(result.outbox_ids, decision.messages, strict=True):
            self._deliver(
                OutboxMessage(
                    id=outbox_id,
                    customer_key=customer.key,
                    recipient_phone=customer.phone,
                    recipient_user_id=customer.user_id,
                    message=message,
                    attempts=0,
                )
            )
        for job_id, effect in zip(result.job_ids, job_effects, strict=True):
            payload = effect.model_dump(mode="json", exclude={"kind"})
            self._perform(
                Job(
                    id=job_id,
                    kind=effect.kind,
                    customer_key=customer.key,
                    order_id=effect.order_id,
                    payload=payload,
                )
            )

    def _decide(
        self, conversation: Conversation, event: Event, context: StepContext, event_id: int | None
    ) -> Decision:
        try:
            return step(conversation, event, context)
        except Exception:
            # A bug in a transition must not leave the customer in silence or loop forever.
            log.exception("state machine failed; apologising", event_id=event_id)
            apology = SendText(body=context.config.in_language(context.language).messages.hint)
            return Decision(state=conversation, messages=(apology,))

    def _log_decision(
        self,
        event_id: int | None,
        order_id: str | None,
        event: Event,
        customer: Customer,
        decision: Decision,
    ) -> None:
        for effect in decision.effects:
            if isinstance(effect, SetOrderStatus) and effect.status is OrderStatus.FLAGGED:
                log.error(
                    "payment does not match the order",
                    reason=effect.reason,
                    event_id=event_id,
                    customer=customer.key,
                    order_id=order_id,
                )
            elif isinstance(effect, SetOrderStatus):
                log.info(
                    "order status",
                    status=effect.status.value,
                    order_id=effect.order_id,
                    event_id=event_id,
                    customer=customer.key,
                )
        # Keyword arguments, not a bound logger: below INFO this call costs next to nothing.
        log.info(
            "event processed",
            event_id=event_id,
            customer=customer.key,
            order_id=order_id,
            kind=event.kind,
            phase=decision.state.phase.phase,
            messages=len(decision.messages),
            effects=[effect.kind for effect in decision.effects],
            reminders=[change.kind for change in decision.reminders] or None,
        )
