"""Refund calls to the payment provider, performed as durable jobs (the JOBS lane), so a crash
mid-call retries with the same idempotency key and the customer is refunded once."""

from bot.clock import Clock
from bot.jobs import JobRunner
from bot.logging import get_logger
from bot.merchant.orders import MerchantOrders
from bot.payments.base import PaymentProvider, PaymentProviderError, RefundRequest
from storage.repository import Job, RefundSettlement, Store

log = get_logger(__name__)

REFUND_JOB = "refund"


class RefundCalls:
    def __init__(
        self,
        *,
        store: Store,
        provider: PaymentProvider,
        orders: MerchantOrders,
        jobs: JobRunner,
        clock: Clock,
    ) -> None:
        self._clock = clock
        self._store = store
        self._provider = provider
        self._orders = orders
        self._jobs = jobs
        jobs.add_handler(REFUND_JOB, self.perform)

    async def perform(self, job: Job) -> None:
        refund_id = int(str(job.payload["refund_id"]))
        request = RefundRequest(
            payment_id=str(job.payload["payment_id"]),
            amount=int(str(job.payload["amount"])),
            currency=str(job.payload.get("currency", "INR")),
            idempotency_key=str(job.payload["idempotency_key"]),
            notes={"refund_id": str(refund_id), "order_id": job.order_id},
        )
        bound = log.bind(order_id=job.order_id, refund_id=refund_id, amount=request.amount)
        try:
            answer = await self._jobs.with_retries(lambda: self._provider.refund(request), job)
        except PaymentProviderError as error:
            if error.is_transient:
                # It may have gone through: the refund stays pending for the webhook, and the
                # job is set aside for a person to look at (never marked failed on a guess).
                bound.error("refund call kept failing", error=str(error))
                raise
            bound.error("refund refused by the provider", error=str(error))
            await self._orders.settle_refund(self._settlement(refund_id, "failed", str(error)))
            return
        await self._store.record_refund_answer(refund_id, answer.refund_id, answer.raw)
        bound.info("refund asked of the provider", status=answer.status)
        if answer.status in ("processed", "failed"):
            await self._orders.settle_refund(
                self._settlement(refund_id, answer.status, None, answer.refund_id)
            )

    def _settlement(
        self, refund_id: int, status: str, failure: str | None, provider_id: str | None = None
    ) -> RefundSettlement:
        return RefundSettlement(
            status=status,
            at=int(self._clock()),
            by=self._provider.name,
            notice_context=self._orders.notice_context,
            refund_id=refund_id,
            provider_refund_id=provider_id,
            failure=failure,
        )
