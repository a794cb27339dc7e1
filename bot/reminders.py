"""Fires reminders when their time comes (`flows.reminders`, `storage.reminder_ops`).

Nothing sleeps until a reminder is due: the reminder waits in the database, so it survives a
restart. A timer in every process (both backends) wakes when the earliest reminder is due, or
every `TIMER_MAX_SECONDS` (another process may have planned one), fires what is due, and hands
each resulting `ReminderDue` event to the runner: the customer's ordered lane, where the state
machine decides what, if anything, to say. Firing is one guarded UPDATE per reminder, so a
reminder fires once however many processes share the database.
"""

import asyncio
import contextlib
from collections.abc import Callable

from bot.clock import Clock
from bot.logging import get_logger
from bot.waiting import wait_for_event
from storage.errors import StorageUnavailableError, StoreClosedError
from storage.repository import Store, StoredEvent

log = get_logger(__name__)

TIMER_MAX_SECONDS = 30.0
TIMER_MIN_SECONDS = 1.0


class ReminderScheduler:
    def __init__(
        self, *, store: Store, clock: Clock, on_event: Callable[[StoredEvent], None]
    ) -> None:
        self._store = store
        self._clock = clock
        self._on_event = on_event
        self._wake = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None
        # One firing at a time in a process: whoever asks (the timer, a test, the sandbox's
        # clock) returns only once what was due has been handed to the runner.
        self._firing = asyncio.Lock()

    async def fire_due(self) -> int:
        """Fire every reminder due by now and hand its event to the runner; returns how many
        this process fired."""
        async with self._firing:
            return await self._fire_due()

    async def _fire_due(self) -> int:
        fired = 0
        while True:
            event_ids = await self._store.fire_due_reminders(int(self._clock()))
            for event_id in event_ids:
                stored = await self._store.get_event(event_id)
                if stored is not None:
                    self._on_event(stored)
            fired += len(event_ids)
            if not event_ids:
                break
        if fired:
            log.info("reminders fired", count=fired)
        return fired

    def poke(self) -> None:
        """Look now (the clock moved, or a reminder was planned sooner than the timer's wake)."""
        self._wake.set()

    def start(self) -> None:
        if self._timer is None:
            self._timer = asyncio.create_task(self._run(), name="reminders-timer")

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            wait = TIMER_MAX_SECONDS
            try:
                await self.fire_due()
                due = await self._store.next_reminder_due()
                if due is not None:
                    wait = min(max(due - self._clock(), TIMER_MIN_SECONDS), TIMER_MAX_SECONDS)
            except (StorageUnavailableError, StoreClosedError) as error:
                log.warning("reminder timer: database unavailable", error=str(error))
            except Exception:
                log.exception("reminder timer failed; trying again later")
            await wait_for_event(self._wake, wait)

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None
