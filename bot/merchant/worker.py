"""Delivers what storage queued for the merchant: one attempt at a time, in order per channel.

A failed attempt is not waited out in a task: its `next_attempt_at` is stored and the worker
lets go, so a merchant's server that is down for a day holds no worker slot. A timer (every
process, both backends) wakes when the earliest delivery is due, or when a step queued new
ones, and hands the due deliveries over.
"""

import asyncio
import contextlib
from collections.abc import Mapping, Sequence

from bot.clock import Clock
from bot.keyed import KeyedWorker
from bot.logging import get_logger
from bot.merchant.channels.base import Channel, ChannelError, Delivered, Skipped
from bot.merchant.schedule import RetrySchedule
from bot.waiting import wait_for_event
from storage.errors import StorageUnavailableError, StoreClosedError
from storage.repository import AlertStatus, Lane, MerchantAlert, Store

log = get_logger(__name__)

TIMER_MAX_SECONDS = 30.0  # look at least this often (another process may have queued work)
TIMER_MIN_SECONDS = 1.0  # a delivery due now but in flight must not make the timer spin


class AlertWorker(KeyedWorker[MerchantAlert]):
    lane = Lane.ALERTS

    def __init__(
        self,
        *,
        store: Store,
        channels: Sequence[Channel],
        schedule: RetrySchedule,
        clock: Clock,
        concurrency: int,
    ) -> None:
        self._channels: Mapping[str, Channel] = {channel.name: channel for channel in channels}
        self._schedule = schedule
        self._wake = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None
        super().__init__(store=store, clock=clock, concurrency=concurrency, name="alerts")

    @property
    def channel_names(self) -> tuple[str, ...]:
        """What a step queues a delivery on, one per channel."""
        return tuple(self._channels)

    def _key(self, alert: MerchantAlert) -> str:
        return alert.channel

    async def _pending(self, key: str | None) -> list[MerchantAlert]:
        return await self._store.due_alerts(key, int(self._clock()))

    async def _handle(self, alert: MerchantAlert) -> None:
        bound = log.bind(
            alert_id=alert.id,
            channel=alert.channel,
            order_id=alert.order_id,
            event=alert.event_type,
        )
        if not await self._still_due(alert):
            return  # listed twice (the timer and a recovery) and already handled
        channel = self._channels.get(alert.channel)
        if channel is None:
            await self._finish(alert, AlertStatus.FAILED, "channel no longer configured")
            bound.error("merchant alert not delivered: its channel is no longer configured")
            return
        try:
            outcome = await channel.deliver(alert)
        except ChannelError as error:
            await self._failed(alert, error)
            return
        match outcome:
            case Delivered():
                await self._finish(alert, AlertStatus.DELIVERED, None)
                bound.info("merchant alert delivered", detail=outcome.detail)
            case Skipped():
                await self._finish(alert, AlertStatus.SKIPPED, outcome.reason)
                bound.info("merchant alert skipped", reason=outcome.reason)

    async def _still_due(self, alert: MerchantAlert) -> bool:
        due = await self._store.due_alerts(alert.channel, int(self._clock()))
        return any(item.id == alert.id for item in due)

    async def _failed(self, alert: MerchantAlert, error: ChannelError) -> None:
        now = int(self._clock())
        failures = alert.attempts + 1
        retry_at = self._schedule.next_attempt_at(failures, now) if error.transient else None
        if retry_at is None:
            await self._finish(alert, AlertStatus.FAILED, str(error))
            log.error(
                "merchant alert not delivered",
                alert_id=alert.id,
                channel=alert.channel,
                order_id=alert.order_id,
                attempts=failures,
                error=str(error),
            )
            return
        await self._store.record_alert_attempt(
            alert.id, AlertStatus.PENDING, str(error), retry_at, now
        )
        log.warning(
            "merchant alert failed; will try again",
            alert_id=alert.id,
            channel=alert.channel,
            attempts=failures,
            retry_in=retry_at - now,
            error=str(error),
        )
        self.poke()  # the timer may be sleeping past this delivery's time

    async def _finish(self, alert: MerchantAlert, status: AlertStatus, error: str | None) -> None:
        now = int(self._clock())
        await self._store.record_alert_attempt(alert.id, status, error, now, now)

    # --- the timer --------------------------------------------------------------------------------

    def poke(self) -> None:
        """New deliveries were queued (or one rescheduled): look now."""
        self._wake.set()

    async def deliver_due(self) -> int:
        """Hand every delivery that is due to the workers; returns how many (or, on a shared
        store, how many channels)."""
        now = int(self._clock())
        if self._shared:
            keys = await self._store.pending_keys(self.lane, now + 1)
            for key in keys:
                self.submit_key(key)
            return len(keys)
        due = await self._store.due_alerts(None, now)
        for alert in due:
            self.submit(alert)
        return len(due)

    def start_timer(self) -> None:
        if self._timer is None:
            self._timer = asyncio.create_task(self._run_timer(), name="alerts-timer")

    async def _run_timer(self) -> None:
        while True:
            self._wake.clear()
            wait = TIMER_MAX_SECONDS
            try:
                await self.deliver_due()
                due = await self._store.next_alert_due()
                if due is not None:
                    wait = min(max(due - self._clock(), TIMER_MIN_SECONDS), TIMER_MAX_SECONDS)
            except (StorageUnavailableError, StoreClosedError) as error:
                log.warning("alert timer: database unavailable", error=str(error))
            await wait_for_event(self._wake, wait)

    async def close(self, grace_seconds: float) -> int:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        left = await super().close(grace_seconds)
        for channel in self._channels.values():
            await channel.close()
        return left
