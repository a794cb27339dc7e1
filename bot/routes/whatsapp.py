"""The WhatsApp Cloud API webhook: verify, record every message, answer 200, work after."""

import hmac

from aiohttp import web

from bot.keys import RECEIPTS, RUNNER, SETTINGS, STORE, WEBHOOK_BODIES
from bot.logging import get_logger
from bot.routes.bodies import BodyRefused, missing_signature, read_body
from bot.runner import InlineStep
from bot.signatures import verify_meta_signature
from bot.whatsapp.inbound import (
    InboundBatch,
    InboundMessage,
    InboundPreference,
    to_inbound_batch,
)
from bot.whatsapp.payload import MalformedWebhook, parse_webhook
from flows.events import MarketingPreferenceChanged
from storage.repository import NewEvent, StoredEvent

log = get_logger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"
OK_BODY = b'{"status": "ok"}'  # the answer to every delivery we keep, serialised once


async def verify_subscription(request: web.Request) -> web.Response:
    """Meta's handshake: echo `hub.challenge` byte for byte when the verify token matches."""
    settings = request.app[SETTINGS]
    expected = settings.whatsapp_verify_token
    mode = request.query.get("hub.mode", "")
    token = request.query.get("hub.verify_token", "")
    challenge = request.query.get("hub.challenge")
    if (
        expected is None
        or mode != "subscribe"
        or challenge is None
        or not hmac.compare_digest(token.encode(), expected.get_secret_value().encode())
    ):
        log.warning("webhook verification refused", mode=mode)
        return web.Response(status=403, text="verification failed")
    log.info("webhook verified by Meta")
    return web.Response(text=challenge, content_type="text/plain")


async def receive(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    header = request.headers.get(SIGNATURE_HEADER)
    if header is None:
        # Before reading: nobody's body is worth our memory until it could be verified.
        return await missing_signature(request, SIGNATURE_HEADER)
    try:
        raw = await read_body(request, request.app[WEBHOOK_BODIES].whatsapp)
    except BodyRefused as refused:
        return refused.response
    secret = settings.whatsapp_app_secret
    if secret is None or not verify_meta_signature(raw, header, secret.get_secret_value()):
        log.warning("whatsapp webhook with a bad signature")
        return web.json_response({"error": "invalid signature"}, status=403)
    try:
        batch = to_inbound_batch(parse_webhook(raw), settings.whatsapp_phone_number_id)
    except MalformedWebhook as error:
        log.warning("malformed whatsapp webhook", error=str(error))
        return web.json_response({"error": f"malformed webhook: {error}"}, status=400)
    if batch.other_numbers:
        # Still a 200: Meta would redeliver anything else, for days.
        log.warning(
            "whatsapp webhook for another business number ignored",
            phone_number_ids=sorted(set(batch.other_numbers))[:5],
            changes=len(batch.other_numbers),
        )
    _log_statuses_and_errors(batch)
    if len(batch.messages) == 1 and not batch.preferences:
        try:
            stepped = await _step_inline(request, batch.messages[0])
        except Exception:
            log.exception("could not record whatsapp messages")
            return web.json_response({"error": "temporarily unavailable"}, status=500)
        if stepped:
            return web.Response(body=OK_BODY, content_type="application/json")
    if batch.messages or batch.preferences:
        try:
            stored = await _record(request, batch.messages) if batch.messages else []
            stored += await _record_preferences(request, batch.preferences)
        except Exception:
            # Not recorded: a non-200 makes Meta deliver it again.
            log.exception("could not record whatsapp messages")
            return web.json_response({"error": "temporarily unavailable"}, status=500)
        runner, receipts = request.app[RUNNER], request.app[RECEIPTS]
        for event in stored:
            # Blue ticks and "typing…" beside the step, never in front of it (best-effort).
            receipts.acknowledge(event.event)
            runner.submit(event)
    return web.Response(body=OK_BODY, content_type="application/json")


async def _step_inline(request: web.Request, message: InboundMessage) -> bool:
    """The usual webhook, one message: recorded together with its step (see
    `Runner.step_inline`). False when it was not taken that way: record it as usual."""
    runner, receipts = request.app[RUNNER], request.app[RECEIPTS]
    outcome = await runner.step_inline(
        _new_event(message),
        # Blue ticks and "typing…" go out before the reply they announce (best-effort).
        before_hand_over=lambda: receipts.acknowledge(message.event),
    )
    if outcome is InlineStep.DUPLICATE:
        log.info("duplicate whatsapp deliveries ignored", duplicates=1)
    return outcome is not InlineStep.NOT_TAKEN


def _new_event(message: InboundMessage) -> NewEvent:
    return NewEvent(
        source="whatsapp",
        dedupe_key=f"whatsapp:{message.wamid}",
        raw=message.raw,
        event=message.event,
        customer=message.customer,
    )


async def _record(request: web.Request, messages: list[InboundMessage]) -> list[StoredEvent]:
    store = request.app[STORE]
    now = int(request.app[RUNNER].now())
    new = [_new_event(message) for message in messages]
    ids = await store.record_events(new, now)
    if len(ids) == len(new):
        return [
            StoredEvent(
                id=event_id,
                source="whatsapp",
                customer_key=message.customer.key,
                customer=message.customer,
                order_id=None,
                event=message.event,
                received_at=now,
            )
            for event_id, message in zip(ids, messages, strict=True)
        ]
    # Some were redeliveries: look the new ones up rather than guess which they were.
    log.info("duplicate whatsapp deliveries ignored", duplicates=len(new) - len(ids))
    found = [await store.get_event(event_id) for event_id in ids]
    return [event for event in found if event is not None]


async def _record_preferences(
    request: web.Request, preferences: list[InboundPreference]
) -> list[StoredEvent]:
    """Marketing opt-outs go through the customer's lane like a message (without opening the
    24-hour window: their source is not "whatsapp")."""
    if not preferences:
        return []
    store = request.app[STORE]
    new = [
        NewEvent(
            source="whatsapp_preferences",
            dedupe_key=preference.dedupe_key,
            raw=preference.raw,
            event=MarketingPreferenceChanged(stopped=preference.stopped),
            customer=preference.customer,
        )
        for preference in preferences
    ]
    ids = await store.record_events(new, int(request.app[RUNNER].now()))
    found = [await store.get_event(event_id) for event_id in ids]
    return [event for event in found if event is not None]


def _log_statuses_and_errors(batch: InboundBatch) -> None:
    for status in batch.statuses:
        if status.errors:
            log.error(
                "whatsapp could not deliver a message",
                wamid=status.wamid,
                status=status.status,
                recipient=status.recipient,
                errors=[f"{e.code}: {e.title}" for e in status.errors],
            )
        else:
            log.debug("message status", wamid=status.wamid, status=status.status)
    for error in batch.errors:
        log.error("whatsapp reported an error", error=str(error))
