"""Performs the payment-provider calls that committed steps asked for, and feeds each outcome
back into the event stream as a payment event, so the customer's next step sees it in order.

Link creation is retried on timeouts and 5xx with the same reference id (our order id), so a
retry can never make a second link: the provider answers "already attempted" and the existing
link is fetched instead.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.clock import Clock
from bot.keyed import KeyedWorker
from bot.logging import get_logger
from bot.payments.base import LinkRequest, PaymentProvider, PaymentProviderError
from bot.retry import Backoff
from flows.catalog import ShopConfig
from flows.events import PaymentEvent, PaymentLinkCreated, PaymentLinkCreationFailed
from flows.limits import PAYMENT_LINK_MIN_EXPIRY_MINUTES
from flows.orders import Order
from storage.repository import Job, Lane, NewEvent, Store, StoredEvent

log = get_logger(__name__)

T = TypeVar("T")


class UnknownJobError(ValueError):
    """A stored job of a kind this version does not know (set aside, not retried)."""


JobHandler = Callable[[Job], Awaitable[PaymentEvent | None]]
"""Performs one kind of job (e.g. refunds, `bot.merchant.refunds`); the runner then marks it
done, recording the payment event it returns (if any) in the same transaction, for the
customer's next step. Raising leaves it to the worker's set-aside rules."""


class JobRunner(KeyedWorker[Job]):
    lane = Lane.JOBS

    def __init__(
        self,
        *,
        store: Store,
        provider: PaymentProvider,
        shop: ShopConfig,
        backoff: Backoff,
        clock: Clock,
        callback_url: str | None,
        on_outcome: Callable[[StoredEvent], None],
        concurrency: int,
    ) -> None:
        self._provider = provider
        self._shop = shop
        self._backoff = backoff
        self._callback_url = callback_url
        self._on_outcome = on_outcome
        self._handlers: dict[str, JobHandler] = {}
        super().__init__(store=store, clock=clock, concurrency=concurrency, name="jobs")

    def add_handler(self, kind: str, handler: JobHandler) -> None:
        self._handlers[kind] = handler

    def _key(self, job: Job) -> str:
        # Keyed by order: a cancel never overtakes the creation of the same order's link.
        return job.order_id

    async def _pending(self, key: str | None) -> list[Job]:
        return await self._store.pending_jobs(key)

    async def _handle(self, job: Job) -> None:
        if job.kind == "create_payment_link":
            outcome = await self._create_link(job)
        elif job.kind == "cancel_payment_link":
            await self._cancel_link(job)
            outcome = None
        elif job.kind in self._handlers:
            outcome = await self._handlers[job.kind](job)
        else:
            raise UnknownJobError(f"unknown job kind {job.kind!r}")
        await self._finish(job, outcome)

    async def _finish(self, job: Job, outcome: PaymentEvent | None) -> None:
        new_event = None
        if outcome is not None:
            new_event = NewEvent(
                source="job",
                dedupe_key=f"job:{job.id}",
                raw=outcome.model_dump_json(),
                event=outcome,
                order_id=job.order_id,
            )
        event_id = await self._store.finish_job(job.id, new_event, int(self._clock()))
        if event_id is not None:
            stored = await self._store.get_event(event_id)
            if stored is not None:
                self._on_outcome(stored)

    async def _create_link(self, job: Job) -> PaymentEvent | None:
        order = await self._store.get_order(job.order_id)
        if order is None:
            log.error("payment link asked for an unknown order", order_id=job.order_id)
            return None
        request = await self._link_request(order, job)
        try:
            link = await self._with_retries(lambda: self._provider.create_link(request), job)
        except PaymentProviderError as error:
            log.error("payment link not created", order_id=order.id, error=str(error))
            return PaymentLinkCreationFailed(order_id=order.id, reason=str(error))
        log.info("payment link created", order_id=order.id, link_id=link.link_id)
        return PaymentLinkCreated(
            order_id=order.id, link_id=link.link_id, url=link.url, expires_at=link.expires_at
        )

    async def _cancel_link(self, job: Job) -> None:
        link_id = str(job.payload.get("link_id", ""))
        try:
            await self._with_retries(lambda: self._provider.cancel_link(link_id), job)
        except PaymentProviderError as error:
            # Already paid, expired or cancelled: nothing left to cancel. A payment that won the
            # race still arrives as a webhook and is handled there.
            log.warning("payment link not cancelled", link_id=link_id, error=str(error))
            return
        log.info("payment link cancelled", link_id=link_id, order_id=job.order_id)

    async def with_retries(self, call: Callable[[], Awaitable[T]], job: Job) -> T:
        """Call the provider, retrying transient failures with back-off until it gives up."""
        return await self._with_retries(call, job)

    async def _with_retries(self, call: Callable[[], Awaitable[T]], job: Job) -> T:
        started = time.monotonic()
        attempt = job.attempts
        while True:
            try:
                return await call()
            except PaymentProviderError as error:
                attempt += 1
                delay = self._backoff.delay(attempt)
                if not error.is_transient or self._backoff.gives_up(
                    time.monotonic() - started, delay
                ):
                    raise
                log.warning(
                    "payment provider call failed, retrying",
                    job_id=job.id,
                    error=str(error),
                    delay=round(delay, 3),
                )
                await asyncio.sleep(delay)

    async def _link_request(self, order: Order, job: Job) -> LinkRequest:
        snapshot = await self._store.load_snapshot(order.customer_key, None, with_stock=False)
        customer = snapshot.customer
        now = int(self._clock())
        # A job that waited (retries, a restart) must still ask for a valid expiry.
        earliest = now + PAYMENT_LINK_MIN_EXPIRY_MINUTES * 60
        requested = job.payload.get("expire_by")
        expire_by = max(int(requested) if isinstance(requested, int) else earliest, earliest)
        items = sum(line.quantity for line in order.lines)
        return LinkRequest(
            order_id=order.id,
            amount=order.total,
            currency=order.currency,
            description=f"{self._shop.shop.name} order {order.id} ({items} items)",
            customer_name=customer.name if customer else None,
            customer_phone=customer.phone if customer else None,
            expire_by=expire_by,
            callback_url=self._callback_url,
            notes={"order_id": order.id, "shop": self._shop.shop.name},
        )
