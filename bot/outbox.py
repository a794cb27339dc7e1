"""Delivers queued messages to the Graph API: in order per customer, with bounded retries.

A message is in the outbox because a step committed it. Transient failures (429, 5xx,
timeouts, throughput codes) are retried with exponential back-off and jitter; permanent ones
(131009 invalid parameter, 131047 window closed, 190 token expired) are recorded as failed at
once. A message still failing when the retry budget runs out is recorded as failed and logged.
"""

import asyncio
import time

from bot.clock import Clock
from bot.keyed import KeyedWorker
from bot.logging import get_logger
from bot.retry import Backoff
from bot.whatsapp.client import WhatsAppClient
from bot.whatsapp.errors import WhatsAppError
from bot.whatsapp.render import render_message
from storage.repository import Lane, OutboxMessage, Store

log = get_logger(__name__)


class OutboxSender(KeyedWorker[OutboxMessage]):
    lane = Lane.OUTBOX

    def __init__(
        self,
        *,
        store: Store,
        client: WhatsAppClient,
        backoff: Backoff,
        clock: Clock,
        concurrency: int,
    ) -> None:
        self._client = client
        self._backoff = backoff
        super().__init__(store=store, clock=clock, concurrency=concurrency, name="outbox")

    def _key(self, message: OutboxMessage) -> str:
        return message.customer_key

    async def _pending(self, key: str | None) -> list[OutboxMessage]:
        return await self._store.pending_outbox(key)

    async def _handle(self, item: OutboxMessage) -> None:
        payload = render_message(
            item.message, phone=item.recipient_phone, user_id=item.recipient_user_id
        )
        started = time.monotonic()
        attempt = item.attempts
        while True:
            try:
                wamid = await self._client.send(payload)
            except WhatsAppError as error:
                attempt += 1
                delay = self._backoff.delay(attempt)
                elapsed = time.monotonic() - started
                if not error.is_transient or self._backoff.gives_up(elapsed, delay):
                    await self._store.mark_failed(item.id, str(error), int(self._clock()))
                    log.error(
                        "message not delivered",
                        outbox_id=item.id,
                        customer=item.customer_key,
                        kind=item.message.kind,
                        code=error.code,
                        error=str(error),
                        attempts=attempt,
                        transient=error.is_transient,
                    )
                    return
                await self._store.record_attempt(item.id, str(error))
                log.warning(
                    "send failed, retrying",
                    outbox_id=item.id,
                    customer=item.customer_key,
                    code=error.code,
                    delay=round(delay, 3),
                )
                await asyncio.sleep(delay)
                continue
            await self._store.mark_sent(item.id, wamid, int(self._clock()))
            log.info("message sent", outbox_id=item.id, wamid=wamid, attempts=attempt + 1)
            return
