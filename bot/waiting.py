"""Waiting for an event with a time limit, without losing a cancellation.

On Python 3.11 `asyncio.wait_for` swallows a cancel that arrives in the same turn as the
awaited thing completes: a timer loop woken by `poke()` just as shutdown cancels it goes
round again and sleeps on, and shutdown waits for it (seen in CI: an alert retry scheduled
270 s ahead held the app's cleanup). `asyncio.timeout` awaits in the caller's own task, so
the cancel is delivered on its next step whatever else happened.
"""

import asyncio


async def wait_for_event(event: asyncio.Event, seconds: float) -> bool:
    """Wait until `event` is set or `seconds` pass; True if it was set."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True
