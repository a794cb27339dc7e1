"""Run work in order per key and concurrently across keys (aiogram's per-chat lock, as a queue).

One customer's events are handled one at a time, in arrival order; different customers run
side by side, up to `concurrency` at once. Tasks are owned here and drained at shutdown.
"""

import asyncio
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
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


class KeyedWorker(ABC, Generic[Item]):
    """A worker over durable items (stored events, outbox messages, provider calls): items
    are submitted once committed, run in order per key, and the ones still pending in the
    store are submitted again on start. Subclasses say how to key, list and handle an item."""

    def __init__(self, *, concurrency: int, name: str) -> None:
        self._executor: KeyedSerialExecutor[Item] = KeyedSerialExecutor(
            self._handle, concurrency=concurrency, name=name
        )

    @abstractmethod
    def _key(self, item: Item) -> str:
        """Items of one key run one at a time, in submission order."""

    @abstractmethod
    async def _pending(self) -> Sequence[Item]:
        """Every item stored but not yet handled, in the order it must run."""

    @abstractmethod
    async def _handle(self, item: Item) -> None:
        """Handle one item, recording its own outcome (the executor only logs a crash)."""

    def submit(self, item: Item) -> None:
        self._executor.submit(self._key(item), item)

    async def recover(self) -> int:
        """Queue every item left pending by the last stop; returns how many."""
        pending = await self._pending()
        for item in pending:
            self.submit(item)
        return len(pending)

    @property
    def busy(self) -> int:
        return self._executor.busy

    async def idle(self) -> None:
        await self._executor.idle()

    async def close(self, grace_seconds: float) -> int:
        return await self._executor.close(grace_seconds)
