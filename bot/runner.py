"""Processes stored events: per customer, in order, one transaction per step.

Lock (the customer's queue) before load, then `flows.step`, then one commit that saves the new
state, applies order effects, queues messages and provider calls, and marks the event done.
Messages and jobs are handed to their workers only after that commit.
"""

import asyncio
from collections.abc import Callable, Sequence

from bot.clock import Clock, OrderIdFactory
from bot.keyed import KeyedWorker
from bot.logging import get_logger
from bot.merchant.owner import OwnerDesk
from flows.catalog import ShopConfig
from flows.effects import CancelPaymentLink, CreatePaymentLink, SetOrderStatus
from flows.events import Event, PaymentEvent
from flows.machine import (
    RECENT_ORDERS_SHOWN,
    Decision,
    StepContext,
    needs_recent_orders,
    referenced_order_id,
    step,
)
from flows.messages import SendText
from flows.orders import OrderStatus
from flows.state import Conversation, Customer
from storage.errors import StockShortError, StorageUnavailableError, StoreClosedError
from storage.repository import (
    Job,
    Lane,
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
        bound = log.bind(event_id=stored.id, source=stored.source, customer=stored.customer_key)
        if stored.event is None:
            return
        if stored.customer_key is None:
            bound.error("payment event for an order we do not know", order_id=stored.order_id)
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
                bound.warning("step failed; retrying", attempt=attempt, exc_info=True)
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
        order_id = stored.order_id or referenced_order_id(event)
        recent = RECENT_ORDERS_SHOWN if needs_recent_orders(event) else 0
        snapshot = await self._store.load_snapshot(
            customer_key, order_id, recent, with_stock=self._counts_stock
        )
        customer = stored.customer or snapshot.customer
        if customer is None:
            log.error("event for a customer we never saw", event_id=stored.id)
            await self._store.mark_event_processed(stored.id, "no customer", int(self._clock()))
            return
        now = int(self._clock())
        context = StepContext(
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
            decision = self._decide(snapshot.conversation, event, context, stored.id)
        result = await self._store.commit_step(
            event_id=stored.id,
            customer=customer,
            conversation=decision.state,
            messages=decision.messages,
            effects=decision.effects,
            now=now,
            alert_channels=self._alert_channels,
            paid_jobs=self._paid_jobs,
            reminders=decision.reminders,
        )
        self._log_decision(stored, customer, decision)
        self._hand_over(customer, decision, result)  # the customer's messages first
        if result.alert_ids:
            self._alerts_queued()
        for job_id in result.paid_job_ids:
            job = await self._store.get_job(job_id)
            if job is not None:
                self._perform(job)

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
        self, conversation: Conversation, event: Event, context: StepContext, event_id: int
    ) -> Decision:
        try:
            return step(conversation, event, context)
        except Exception:
            # A bug in a transition must not leave the customer in silence or loop forever.
            log.exception("state machine failed; apologising", event_id=event_id)
            apology = SendText(body=context.config.in_language(context.language).messages.hint)
            return Decision(state=conversation, messages=(apology,))

    def _log_decision(self, stored: StoredEvent, customer: Customer, decision: Decision) -> None:
        bound = log.bind(event_id=stored.id, customer=customer.key, order_id=stored.order_id)
        for effect in decision.effects:
            if isinstance(effect, SetOrderStatus) and effect.status is OrderStatus.FLAGGED:
                bound.error("payment does not match the order", reason=effect.reason)
            elif isinstance(effect, SetOrderStatus):
                bound.info("order status", status=effect.status.value, order_id=effect.order_id)
        bound.info(
            "event processed",
            kind=stored.event.kind if stored.event else None,
            phase=decision.state.phase.phase,
            messages=len(decision.messages),
            effects=[effect.kind for effect in decision.effects],
            reminders=[change.kind for change in decision.reminders] or None,
        )
