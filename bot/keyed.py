"""Run work in order per key and concurrently across keys (aiogram's per-chat lock, as a queue).

One customer's events are handled one at a time, in arrival order; different customers run
side by side, up to `concurrency` at once. Tasks are owned here and drained at shutdown.
"""

import asyncio
import contextlib
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
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

    def hold(self, key: str) -> bool:
        """Take `key` for work done outside the executor (an inline step): True when nothing
        of the key is queued or running. Items submitted meanwhile wait for `release`."""
        if self._closed or key in self._queues:
            return False
        self._queues[key] = deque()
        return True

    def release(self, key: str) -> None:
        """Give back a key taken with `hold`; what was submitted meanwhile runs now."""
        queue = self._queues.get(key)
        if queue is None:
            return
        if not queue or self._closed:
            del self._queues[key]  # closed: what waited is durable, for the next start
            return
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


@dataclass(frozen=True, slots=True)
class _Retry:
    """A claim of a key another process held: try again (the how-many-th time)."""

    attempt: int


# After a failed claim: ask again after these pauses, then leave the key to the sweep.
CLAIM_RETRY_SECONDS = (0.02, 0.05, 0.1, 0.2, 0.4, 0.8)
# A claim held longer than this looks for new work after letting go (see `_drain`).
HANDOVER_SECONDS = sum(CLAIM_RETRY_SECONDS) / 2
SWEEP_SECONDS = 2.0  # how often each process looks for work nobody is doing (shared stores)
SWEEP_MIN_AGE_SECONDS = 1  # younger work is still on its way to the process that received it


class KeyedWorker(ABC, Generic[Stored]):
    """A worker over durable items (stored events, outbox messages, provider calls): items
    are submitted once committed, run in order per key, and the ones still pending in the
    store are submitted again on start. Subclasses say how to key, list and handle an item.

    On a store several processes share (Postgres) a submitted item only says "this key has
    work": the worker claims the key in the database, then handles every pending item of it
    in the store's order, whichever process received them. A claim another process holds
    is asked for again shortly (see `_drain`), so nothing waits for the sweep. A
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
        self._executor: KeyedSerialExecutor[Stored | _Retry | None] = KeyedSerialExecutor(
            self._run, concurrency=concurrency, name=name, coalesce=self._shared
        )
        self._sweeper: asyncio.Task[None] | None = None
        self._closing = False
        self._queued: set[int] = set()  # ids submitted and not yet handled (not shared)
        self._retries: set[asyncio.TimerHandle] = set()  # claims to try again (shared)

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

    def hold(self, key: str) -> bool:
        """Take `key` in this process for work done beside the worker (see
        `KeyedSerialExecutor.hold`); on a shared store, the caller claims it there too."""
        return self._executor.hold(key)

    def release(self, key: str) -> None:
        self._executor.release(key)

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

    async def _run(self, key: str, item: "Stored | _Retry | None") -> None:
        if item is None or isinstance(item, _Retry):
            await self._drain(key, item.attempt if item is not None else 0)
            return
        try:
            await self._guarded(item)
        finally:
            self._queued.discard(item.id)

    async def _drain(self, key: str, retry: int = 0) -> None:
        """Claim `key`, handle what is pending for it in the store's order, let go.

        Whoever stores an item asks for its key, and an item stored while another process
        holds the key is that asker's to claim again (`_claim_later`, for
        `CLAIM_RETRY_SECONDS`), so letting go needs no second look at the store: work that
        arrived here meanwhile is queued behind this drain (the executor coalesces), work that
        arrived elsewhere is retried there. Only a claim held longer than those retries last
        looks again after letting go, for what their askers gave up on."""
        try:
            while not self._closing:
                started = time.monotonic()
                async with self._store.claim(self.lane, key) as claimed:
                    if not claimed:
                        self._claim_later(key, retry)
                        return
                    for item in await self._pending(key):
                        if self._closing:
                            return  # left for the other processes' sweeps
                        await self._guarded(item)
                held = time.monotonic() - started
                if held < HANDOVER_SECONDS or not await self._pending(key):
                    return
        except (StorageUnavailableError, StoreClosedError) as error:
            log.warning(
                "database unavailable; work left for the next sweep",
                worker=self._name,
                error=str(error),
            )

    def _claim_later(self, key: str, retry: int) -> None:
        """Another process holds `key`: ask again soon, more slowly each time, then leave it
        to the sweep. The holder may have read the store before our item was in it."""
        if retry >= len(CLAIM_RETRY_SECONDS) or self._closing:
            return

        def again() -> None:
            self._retries.discard(handle)
            self._executor.submit(key, _Retry(retry + 1))

        handle = asyncio.get_running_loop().call_later(CLAIM_RETRY_SECONDS[retry], again)
        self._retries.add(handle)

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
        for handle in self._retries:
            handle.cancel()
        self._retries.clear()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        return await self._executor.close(grace_seconds)
