"""Run work in order per key and concurrently across keys (aiogram's per-chat lock, as a queue).

One customer's events are handled one at a time, in arrival order; different customers run
side by side, up to `concurrency` at once. Tasks are owned here and drained at shutdown.
"""

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import ClassVar, Generic, Protocol, TypeVar

from bot.clock import Clock
from bot.logging import get_logger
from storage.errors import StorageUnavailableError, StoreClosedError
from storage.repository import Lane, Store

log = get_logger(__name__)

Item = TypeVar("Item")


class KeyedSerialExecutor(Generic[Item]):
    """`handle(key, item)` runs for each submitted item, in order per key. With `coalesce`,
    a key has at most one item waiting behind the running one: submissions that only say
    "look at this key" collapse into one."""

    def __init__(
        self,
        handle: Callable[[str, Item], Awaitable[None]],
        *,
        concurrency: int,
        name: str,
        coalesce: bool = False,
    ) -> None:
        self._handle = handle
        self._coalesce = coalesce
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
            if not (self._coalesce and len(queue) > 1):
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
                        await self._handle(key, queue[0])
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


class HasId(Protocol):
    @property
    def id(self) -> int: ...


Stored = TypeVar("Stored", bound=HasId)

SWEEP_SECONDS = 2.0  # how often each process looks for work nobody is doing (shared stores)
SWEEP_MIN_AGE_SECONDS = 1  # younger work is still on its way to the process that received it


class KeyedWorker(ABC, Generic[Stored]):
    """A worker over durable items (stored events, outbox messages, provider calls): items
    are submitted once committed, run in order per key, and the ones still pending in the
    store are submitted again on start. Subclasses say how to key, list and handle an item.

    On a store several processes share (Postgres) a submitted item only says "this key has
    work": the worker claims the key in the database, then handles every pending item of it
    in the store's order, whichever process received them. A claim another process holds
    means that process does the work; it looks again after it lets go, so nothing waits. A
    sweep every `SWEEP_SECONDS` picks up what nobody is doing (a process that died, a
    hand-over that failed); idle, it costs one indexed query per lane.

    An item whose handling fails for a reason other than an unreachable database is set aside
    (a dead letter), so one bad row never loops forever or stops the others."""

    lane: ClassVar[Lane]

    def __init__(self, *, store: Store, clock: Clock, concurrency: int, name: str) -> None:
        self._store = store
        self._clock = clock
        self._name = name
        self._shared = store.shared
        self._executor: KeyedSerialExecutor[Stored | None] = KeyedSerialExecutor(
            self._run, concurrency=concurrency, name=name, coalesce=self._shared
        )
        self._sweeper: asyncio.Task[None] | None = None
        self._closing = False
        self._queued: set[int] = set()  # ids submitted and not yet handled (not shared)

    @abstractmethod
    def _key(self, item: Stored) -> str:
        """Items of one key run one at a time, in submission order."""

    @abstractmethod
    async def _pending(self, key: str | None) -> Sequence[Stored]:
        """Every item stored but not yet handled (of one key, if given), in the order it
        must run."""

    @abstractmethod
    async def _handle(self, item: Stored) -> None:
        """Handle one item, recording its own outcome; raising sets the item aside."""

    def submit(self, item: Stored) -> None:
        if self._shared:
            self._executor.submit(self._key(item), None)
        elif item.id not in self._queued:
            # Recovery lists what a step committed a moment ago and handed over too: the same
            # item must not be handled (a message sent) twice.
            self._queued.add(item.id)
            self._executor.submit(self._key(item), item)

    def submit_key(self, key: str) -> None:
        """Work for `key` is waiting in the store (shared stores only)."""
        self._executor.submit(key, None)

    async def recover(self) -> int:
        """Queue every item (or, on a shared store, every key) left pending by the last stop;
        returns how many."""
        if self._shared:
            keys = await self._store.pending_keys(self.lane)
            for key in keys:
                self.submit_key(key)
            return len(keys)
        pending = await self._pending(None)
        for item in pending:
            self.submit(item)
        return len(pending)

    def start_sweeping(self, interval: float = SWEEP_SECONDS) -> None:
        if self._shared and self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep(interval), name=f"{self._name}-sweep")

    async def _sweep(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            before = int(self._clock()) - SWEEP_MIN_AGE_SECONDS
            try:
                keys = await self._store.pending_keys(self.lane, before)
            except (StorageUnavailableError, StoreClosedError) as error:
                log.warning(
                    "sweep skipped: database unavailable", worker=self._name, error=str(error)
                )
                continue
            for key in keys:
                self.submit_key(key)

    async def _run(self, key: str, item: Stored | None) -> None:
        if item is None:
            await self._drain(key)
            return
        try:
            await self._guarded(item)
        finally:
            self._queued.discard(item.id)

    async def _drain(self, key: str) -> None:
        """Claim `key`, handle its pending items in order until none is left, let go; then
        look once more, for work that arrived while we held the key (its receiver could not
        claim it and left it to us)."""
        attempted: set[int] = set()
        try:
            while not self._closing:
                async with self._store.claim(self.lane, key) as claimed:
                    if not claimed:
                        return  # another process has it, and looks again when it lets go
                    for item in await self._fresh(key, attempted):
                        if self._closing:
                            return  # left for the other processes' sweeps
                        attempted.add(item.id)
                        await self._guarded(item)
                if not await self._fresh(key, attempted):
                    return
        except (StorageUnavailableError, StoreClosedError) as error:
            log.warning(
                "database unavailable; work left for the next sweep",
                worker=self._name,
                error=str(error),
            )

    async def _fresh(self, key: str, attempted: set[int]) -> list[Stored]:
        return [item for item in await self._pending(key) if item.id not in attempted]

    async def _guarded(self, item: Stored) -> None:
        try:
            await self._handle(item)
        except asyncio.CancelledError:
            raise
        except (StorageUnavailableError, StoreClosedError) as error:
            log.warning(
                "database unavailable; item stays pending",
                worker=self._name,
                item_id=item.id,
                error=str(error),
            )
        except Exception as error:
            await self._set_aside(item, error)

    async def _set_aside(self, item: Stored, error: Exception) -> None:
        reason = f"{type(error).__name__}: {error}"[:1000]
        log.error(
            "item set aside: it cannot be handled",
            worker=self._name,
            lane=self.lane.value,
            item_id=item.id,
            key=self._key(item) if self.lane is Lane.JOBS else None,
            customer=None if self.lane is Lane.JOBS else self._key(item),
            reason=reason,
            exc_info=error,
        )
        try:
            await self._store.dead_letter(self.lane, item.id, reason, int(self._clock()))
        except Exception:
            log.exception("could not set the item aside; it stays pending", item_id=item.id)

    @property
    def busy(self) -> int:
        return self._executor.busy

    async def idle(self) -> None:
        await self._executor.idle()

    async def close(self, grace_seconds: float) -> int:
        self._closing = self._shared  # shared: others take what is left; alone: drain as before
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        return await self._executor.close(grace_seconds)
