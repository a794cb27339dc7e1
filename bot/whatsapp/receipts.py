"""Read receipts and the typing indicator: the customer sees blue ticks and "typing…" while
the reply is being made.

Best-effort by design. Each is one call, started as its own task when a new customer message
is recorded, so it runs beside the step that makes the reply and never in front of it; it has
a short deadline of its own, and a failure (timeout, 4xx, 5xx) is logged at debug and
forgotten: never retried, never queued in the outbox. A customer's reply does not depend on
it in any way. When more than `MAX_IN_FLIGHT` are under way (Meta slow, or the process behind
a burst) new ones are not started: receipts that late tell the customer nothing, and the
CPU they cost is the replies' (one process at 1,250 msg/s offered on Postgres spent 22% of
its time on them, against 14% at 600 msg/s).
"""

import asyncio
import contextlib

from bot.logging import get_logger
from bot.whatsapp.client import WhatsAppClient
from flows.events import (
    ButtonPressed,
    CatalogOrderReceived,
    Event,
    ListRowPicked,
    LocationReceived,
    MediaReceived,
    TextReceived,
    UnsupportedReceived,
)
from flows.machine import IGNORED_MEDIA

log = get_logger(__name__)

RECEIPT_TIMEOUT_SECONDS = 3.0
MAX_IN_FLIGHT = 64  # a few milliseconds each: a handful are under way at 1,000 msg/s
# Messages a customer writes and we answer. A reaction is a message too, but gets no reply: a
# typing indicator would promise one (and stay up for 25 seconds).
ANSWERED = (
    TextReceived,
    ButtonPressed,
    ListRowPicked,
    CatalogOrderReceived,
    LocationReceived,
    MediaReceived,
    UnsupportedReceived,
)


def answered_message_id(event: Event | None) -> str | None:
    """The wamid to mark read for a customer's message we answer; None for anything else
    (payment events, reactions, events we only log)."""
    if isinstance(event, MediaReceived) and event.media_type in IGNORED_MEDIA:
        return None  # a sticker gets no answer either
    if isinstance(event, ANSWERED):
        return event.message_id
    return None


class ReadReceipts:
    def __init__(
        self,
        client: WhatsAppClient,
        *,
        enabled: bool = True,
        timeout: float = RECEIPT_TIMEOUT_SECONDS,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        self._client = client
        self._enabled = enabled
        self._timeout = timeout
        self._max_in_flight = max_in_flight
        self._tasks: set[asyncio.Task[None]] = set()
        self.skipped = 0  # not started: too many under way

    def acknowledge(self, event: Event | None) -> None:
        """Mark the message read and show "typing…", in the background."""
        wamid = answered_message_id(event)
        if not self._enabled or wamid is None:
            return
        if len(self._tasks) >= self._max_in_flight:
            self.skipped += 1
            return
        task = asyncio.create_task(self._send(wamid), name=f"read-receipt:{wamid}")
        self._tasks.add(task)  # held until done: a task nothing references may be collected
        task.add_done_callback(self._tasks.discard)

    async def _send(self, wamid: str) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                await self._client.mark_read(wamid, typing=True)
        except Exception as error:  # best-effort: whatever went wrong, the reply goes on
            log.debug(
                "read receipt not sent", wamid=wamid, error=f"{type(error).__name__}: {error}"
            )

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def close(self) -> None:
        """At shutdown: receipts still in flight are no longer worth waiting for."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
