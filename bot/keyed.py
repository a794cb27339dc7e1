"""Run work in order per key and concurrently across keys (aiogram's per-chat lock, as a queue).

One customer's events are handled one at a time, in arrival order; different customers run
side by side, up to `concurrency` at once. Tasks are owned here and drained at shutdown.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from bot.logging import get_logger

log = get_logger(__name__)

Item = TypeVar("Item")


class KeyedSerialExecutor(Generic[Item]):
    def __init__(
        self, handle: Callable[[Item], Awaitable[None]], *, concurrency: int, name: str
    ) -> None:
        self._handle = handle
        self._slots = asyncio.Semaphore(concurrency)
        self._queues: dict[str, deque[Item]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._name = name
        self._closed = False

    def submit(self, key: str, item: Item) -> None:
        if self._closed:
            return  # shutting down: the item is durable and is picked up again on restart
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(item)
            return
        self._queues[key] = deque([item])
        task = asyncio.get_running_loop().create_task(self._drain_key(key), name=self._name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain_key(self, key: str) -> None:
        queue = self._queues[key]
        try:
            async with self._slots:
                while queue:
                    try:
                        await self._handle(queue[0])
                    except Exception:
                        # Handlers record their own failures; this only keeps the queue moving.
                        log.exception("unhandled error in worker", worker=self._name)
                    queue.popleft()
        finally:
            # Whatever is left (only after cancellation) stays durable in the database.
            del self._queues[key]

    @property
    def busy(self) -> int:
        """Items queued or in progress."""
        return sum(len(queue) for queue in self._queues.values())

    async def idle(self) -> None:
        """Wait until every submitted item has been handled (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, grace_seconds: float) -> int:
        """Stop taking work, let in-flight work finish for up to `grace_seconds`, then cancel.
        Returns how many items were left for the next start."""
        self._closed = True
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace_seconds)
        left = self.busy
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        return left
