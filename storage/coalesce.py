"""Many small writes of one kind as one: calls that arrive while a write of earlier ones is
under way are written together in the next. Each caller still awaits its own outcome.

Group commit (the writers) already lets such writes share a transaction; this also makes them
one unit of work and, on Postgres, one statement: marking a message sent is one per message,
and under load dozens arrive within a round trip of each other.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")


class Coalescer(Generic[Item]):
    def __init__(self, write: Callable[[Sequence[Item]], Awaitable[None]]) -> None:
        self._write = write
        self._waiting: list[tuple[Item, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def add(self, item: Item) -> None:
        """Write `item` with whatever else is waiting; raises what the write raised."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._task is None:
            # No write under way: this one starts at once (a lone call does not wait).
            self._task = asyncio.create_task(self._drain(), name="coalesced-writes")
        await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                live = [(item, future) for item, future in batch if not future.done()]
                if not live:
                    continue
                try:
                    await self._write([item for item, _ in live])
                except Exception as error:
                    for _, future in live:
                        if not future.done():
                            future.set_exception(error)
                else:
                    for _, future in live:
                        if not future.done():
                            future.set_result(None)
        finally:
            self._task = None
