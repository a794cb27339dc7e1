"""Paystack's `charge.success`, checked before it counts: a job asks `GET /transaction/verify`
and only Paystack's own answer, agreeing on amount and currency, confirms the order.

What the answer leads to:
- success for an order awaiting it: the payment event, for the customer's next step (the
  state machine confirms it, or flags the order if amount or currency disagree);
- success for an order already cancelled or expired (Paystack cannot cancel a transaction, so
  a customer may still pay an old link): refunded whole at once, customer and merchant told;
- anything but success: nothing happens (logged); the webhook was about something else.
"""

from collections.abc import Callable, Sequence

from bot.clock import Clock
from bot.jobs import JobRunner
from bot.logging import get_logger
from bot.merchant.orders import MerchantOrders
from bot.payments.base import PaymentProviderError
from bot.payments.paystack import PaystackProvider, captured
from flows.events import PaymentEvent
from flows.orders import OrderStatus
from storage.payment_ops import LATE_STATUSES
from storage.repository import Job, LatePayment, Store

log = get_logger(__name__)

VERIFY_JOB = "paystack_verify"


class PaystackVerifier:
    def __init__(
        self,
        *,
        store: Store,
        provider: PaystackProvider,
        orders: MerchantOrders,
        jobs: JobRunner,
        clock: Clock,
        alert_channels: Sequence[str] = (),
        alerts_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._provider = provider
        self._orders = orders
        self._jobs = jobs
        self._clock = clock
        self._alert_channels = tuple(alert_channels)
        self._alerts_queued = alerts_queued
        jobs.add_handler(VERIFY_JOB, self.perform)

    async def perform(self, job: Job) -> PaymentEvent | None:
        reference = str(job.payload.get("reference", ""))
        bound = log.bind(order_id=job.order_id, reference=reference, job_id=job.id)
        order = await self._store.get_order(job.order_id)
        if order is None or not reference:
            bound.error("Paystack payment to verify names no order or reference")
            return None
        try:
            transaction = await self._jobs.with_retries(
                lambda: self._provider.verify(reference), job
            )
        except PaymentProviderError as error:
            if error.is_transient:
                raise  # kept for a person (and the reconciliation sweep) to look at
            bound.error("Paystack does not confirm the webhook's transaction", error=str(error))
            return None
        if transaction.status != "success":
            bound.warning("charge.success, but verify says otherwise", status=transaction.status)
            return None
        agrees = (transaction.amount, transaction.currency.upper()) == (
            order.total,
            order.currency,
        )
        if order.status in LATE_STATUSES and agrees:
            bound.warning("payment for an order no longer awaiting one: refunding it")
            await self._orders.refund_late_payment(
                LatePayment(
                    order_id=order.id,
                    payment_id=transaction.reference,
                    at=int(self._clock()),
                    by=self._provider.name,
                    notice_context=self._orders.notice_context,
                    alert_channels=self._alert_channels,
                )
            )
            self._alerts_queued()
            return None
        if order.status is OrderStatus.PAID and order.payment_id != transaction.reference:
            bound.error(
                "a second payment for an order already paid: refund it from Paystack's dashboard",
                paid_with=order.payment_id,
            )
        elif not agrees:
            bound.error(
                "Paystack's verify disagrees with the order",
                amount=transaction.amount,
                currency=transaction.currency,
                total=order.total,
            )
        return captured(transaction, order.id, order.total)
