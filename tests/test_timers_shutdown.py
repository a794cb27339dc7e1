"""A timer woken in the very turn that shutdown cancels it still stops.

CI once hung in cleanup: an alert delivery failed as the app shut down, its retry poked the
alert timer, and Python 3.11's `asyncio.wait_for` swallowed the cancel that arrived in the same
turn; the timer went round again and slept until the retry 270 s ahead. The limits below
only catch such a hang; they are not speed checks."""

import asyncio
from collections.abc import Awaitable

from bot.merchant.schedule import RetrySchedule
from bot.merchant.worker import AlertWorker
from bot.reminders import ReminderScheduler
from bot.waiting import wait_for_event
from storage.repository import Store

HANG_SECONDS = 10.0


async def woken_and_cancelled(event: asyncio.Event, task: asyncio.Task[object]) -> None:
    """Set the event, let whatever waits on it see that, then cancel in that same moment."""
    event.set()
    await asyncio.sleep(0)
    task.cancel()


async def stops(closing: Awaitable[object]) -> bool:
    """Whether `closing` finishes in time (it is not cancelled: that could end a hang)."""
    task = asyncio.ensure_future(closing)
    done, _ = await asyncio.wait([task], timeout=HANG_SECONDS)
    return task in done


async def test_a_cancel_that_arrives_as_the_event_is_set_is_not_lost() -> None:
    event = asyncio.Event()
    rounds = 0

    async def timer() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            event.clear()
            await wait_for_event(event, 3600)

    task: asyncio.Task[object] = asyncio.create_task(timer())
    await asyncio.sleep(0)
    await woken_and_cancelled(event, task)
    assert await stops(task)
    assert task.cancelled()
    assert rounds <= 2  # the wake may be seen before the cancel; then the loop stops


async def test_waiting_says_whether_the_event_was_set_or_the_time_ran_out() -> None:
    event = asyncio.Event()
    assert await wait_for_event(event, 0.01) is False
    event.set()
    assert await wait_for_event(event, 3600) is True


async def test_the_alert_timer_poked_as_shutdown_begins_stops(store: Store) -> None:
    alerts = AlertWorker(
        store=store, channels=[], schedule=RetrySchedule(), clock=lambda: 1_000.0, concurrency=4
    )
    alerts.start_timer()
    await asyncio.sleep(0.05)  # the timer has looked (nothing due) and sleeps
    alerts.poke()  # a failed delivery rescheduled itself
    await asyncio.sleep(0)
    assert await stops(alerts.close(1.0))


async def test_the_reminder_timer_poked_as_shutdown_begins_stops(store: Store) -> None:
    reminders = ReminderScheduler(store=store, clock=lambda: 1_000.0, on_event=lambda _: None)
    reminders.start()
    await asyncio.sleep(0.05)
    reminders.poke()  # the sandbox's clock moved on
    await asyncio.sleep(0)
    assert await stops(reminders.close())
