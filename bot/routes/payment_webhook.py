"""The payment provider's webhook: verify, record once per signed event, answer 2xx, work after.

One route per provider (`/webhooks/razorpay`, `/webhooks/stripe`, `/webhooks/paystack`), and only
the chosen provider's is served: a delivery to another's answers 404, so a leftover webhook in an
old dashboard shows up as failing there instead of being half-handled here.
"""

from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.keys import MERCHANT, PAYMENTS, RUNNER, STORE, WEBHOOK_BODIES
from bot.logging import get_logger
from bot.payments.base import MalformedPaymentWebhook, ProviderWebhook, RefundUpdate
from bot.routes.bodies import BodyRefused, missing_signature, read_body
from storage.repository import NewEvent, RefundSettlement

log = get_logger(__name__)

SIGNATURE_HEADERS = {
    "razorpay": "X-Razorpay-Signature",
    "stripe": "Stripe-Signature",
    "paystack": "x-paystack-signature",
}

Record = Callable[[web.Request, ProviderWebhook, NewEvent], Awaitable[bool | None]]
"""Records a verified delivery that needs more than the runner (Paystack's charge.success: a
verify job) and returns whether it was new; returns None, having done nothing, for a delivery
the usual path handles."""


async def receive(request: web.Request, record: Record | None = None) -> web.StreamResponse:
    provider = request.app[PAYMENTS]
    header = SIGNATURE_HEADERS[provider.name]
    if request.headers.get(header) is None:
        # Before reading: nobody's body is worth our memory until it could be verified.
        return await missing_signature(request, header)
    try:
        # One provider is served at a time: its webhook has the payment budget to itself.
        raw = await read_body(request, request.app[WEBHOOK_BODIES].razorpay)
    except BodyRefused as refused:
        return refused.response
    if not provider.verify_webhook(raw, request.headers):
        log.warning("payment webhook with a bad signature")
        return web.json_response({"error": "invalid signature"}, status=403)
    try:
        hook = provider.parse_webhook(raw, request.headers)
    except MalformedPaymentWebhook as error:
        log.warning("malformed payment webhook", error=str(error))
        return web.json_response({"error": f"malformed webhook: {error}"}, status=400)
    bound = log.bind(
        provider_event_id=hook.event_id, event_type=hook.event_type, order_id=hook.order_id
    )
    store = request.app[STORE]
    runner = request.app[RUNNER]
    new = NewEvent(
        source=provider.name,
        dedupe_key=f"{provider.name}:{hook.dedupe_id}",
        raw=raw.decode("utf-8", errors="replace"),
        event=hook.event,
        order_id=hook.order_id,
    )
    try:
        recorded = await record(request, hook, new) if record is not None else None
        if recorded is not None:
            bound.info(
                "payment webhook recorded"
                if recorded
                else "payment webhook already recorded, or for an order we do not know"
            )
            return web.json_response({"status": "ok"})
        if hook.refund is not None:
            # Before recording: settling is idempotent, so if it fails the 500 brings the
            # webhook back and it is tried again (a recorded event would be a duplicate).
            await _settle_refund(request, hook.refund, int(runner.now()))
        ids = await store.record_events([new], int(runner.now()))
        stored = await store.get_event(ids[0]) if ids else None
    except Exception:
        bound.exception("could not record payment webhook")
        return web.json_response({"error": "temporarily unavailable"}, status=500)
    if not ids:
        bound.info("duplicate payment webhook ignored")
    elif hook.refund is not None:
        bound.info("refund webhook applied", status=hook.refund.status)
    elif hook.event is None:
        bound.info("payment webhook recorded; no action for this event type")
    elif stored is not None:
        bound.info("payment webhook recorded")
        runner.submit(stored)
    return web.json_response({"status": "ok"})


async def _settle_refund(request: web.Request, update: RefundUpdate, now: int) -> None:
    merchant = request.app[MERCHANT]
    result = await merchant.settle_refund(
        RefundSettlement(
            status=update.status,
            at=now,
            by=request.app[PAYMENTS].name,
            notice_context=merchant.notice_context,
            refund_id=update.refund_id,
            provider_refund_id=update.provider_refund_id,
            failure=update.failure,
        )
    )
    if update.status == "failed":
        # The merchant must act (top up the balance, refund another way): an error, not info.
        log.error(
            "refund failed at the provider",
            provider_refund_id=update.provider_refund_id,
            refund_id=update.refund_id,
            failure=update.failure,
            outcome=result.message,
        )
