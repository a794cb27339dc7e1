"""Group commit on Postgres: the writes of many customers share one transaction.

Every write used to be a transaction of its own on its own pooled connection: a BEGIN and a
COMMIT round trip around each step, a commit (a WAL flush the server waits for) per write, a
pool acquisition per write. Under load most of the writes of one process wait for each other
anyway; here, the writes submitted while one transaction runs are taken together into the
next, as SQLite's writer does (`storage.sqlite_engine.GroupCommitWriter`).

Postgres aborts the whole transaction when one statement fails, and a SAVEPOINT around each
unit would cost two more round trips each. So a batch runs without savepoints, and when one
of its units fails, the transaction is rolled back (nothing of it was saved) and every unit
runs again alone, so each gets its own outcome: the one that fails fails by itself, the others
commit. Failures are rare (a replayed webhook is an ON CONFLICT, not an error), so the cost
is paid only then.

A single unit that is one statement runs as it is, without BEGIN and COMMIT (its own implicit
transaction): when there is no load, a webhook's insert costs one round trip, as before.

Units of one kind that say how (`Merge`) run as one statement for all of them. The units of a
transaction otherwise run one after another, and each waits a turn of the event loop for its
answer: under load, with hundreds of tasks ready in each turn, a batch of 64 took as many
turns, and the writer, not the CPU, set how fast the process went (one process at 1,250 msg/s
offered stepped every message yet sent ~30 replies a second, its "sent" marks queued behind
the steps).
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

import asyncpg

from storage.errors import ConstraintViolationError, StorageUnavailableError, StoreClosedError
from storage.postgres_connection import UNAVAILABLE_ERRORS
from storage.query import Op, OpFactory

T = TypeVar("T")
Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
RunOp = Callable[[Connection, OpFactory[Any], bool], Awaitable[Any]]

MAX_BATCH = 64  # units per transaction: enough to share a commit, short enough to keep locks brief
DEFAULT_CONCURRENCY = 2  # transactions at once (the pool's other connections serve reads)


@dataclass(frozen=True, slots=True)
class Merge:
    """How a unit runs together with others of its kind: `together` makes one operation for
    the `item`s of several units, with one answer per item, in order; it must be one
    statement if the unit's own operation is (`single`)."""

    together: Callable[[Sequence[Any]], Op[list[Any]]]
    item: Any


@dataclass(frozen=True, slots=True)
class WriteUnit(Generic[T]):
    op: OpFactory[T]
    single: bool  # exactly one statement: may run outside a transaction when alone
    future: "asyncio.Future[T]"
    merge: Merge | None = None


@dataclass(slots=True)
class WriterStats:
    batches: int = 0
    units: int = 0
    reruns: int = 0  # batches rolled back and run again unit by unit
    merged: int = 0  # units that ran as one statement with others of their kind

    @property
    def units_per_batch(self) -> float:
        return self.units / self.batches if self.batches else 0.0


class PostgresWriter:
    """Runs submitted write operations in shared transactions, up to `concurrency`
    transactions at a time (each on its own pooled connection).

    One transaction at a time would make every write wait for the round trips of the whole
    batch before it (a webhook's acknowledgement behind forty steps); two let the next batch
    start while one commits, and still gather what arrives meanwhile."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        run_op: RunOp,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._pool = pool
        self._run_op = run_op
        self._max_batch = max_batch
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._queue: deque[WriteUnit[Any]] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._closed = False
        self.stats = WriterStats()

    async def submit(self, op: OpFactory[T], *, single: bool, merge: Merge | None = None) -> T:
        """Run `op` in the next transaction (with `merge`, maybe as part of one statement for
        several units); returns its result once that has committed."""
        if self._closed:
            raise StoreClosedError("the store is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append(WriteUnit(op, single, future, merge))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._serve(), name="postgres-writer")
        self._wake.set()
        return await future

    async def close(self) -> None:
        """Let every unit already submitted finish, then stop."""
        self._closed = True
        task, self._task = self._task, None
        if task is None:
            return
        self._wake.set()
        await task
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _serve(self) -> None:
        while True:
            if not self._queue:
                if self._closed:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._slots.acquire()
            batch = self._take()  # what gathered while every slot was busy
            if not batch:
                self._slots.release()
                continue
            task = asyncio.create_task(self._run_in_slot(batch), name="postgres-write-batch")
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run_in_slot(self, batch: list[WriteUnit[Any]]) -> None:
        try:
            await self._run(batch)
        finally:
            self._slots.release()

    def _take(self) -> list[WriteUnit[Any]]:
        batch: list[WriteUnit[Any]] = []
        while self._queue and len(batch) < self._max_batch:
            unit = self._queue.popleft()
            if not unit.future.done():  # a caller that gave up before we began
                batch.append(unit)
        return batch

    async def _run(self, batch: list[WriteUnit[Any]]) -> None:
        try:
            async with self._pool.acquire() as conn:
                if len(batch) == 1:
                    await self._alone(conn, batch[0])
                elif not await self._together(conn, batch):
                    self.stats.reruns += 1
                    for unit in batch:
                        await self._alone(conn, unit)
        except UNAVAILABLE_ERRORS as error:
            message = f"database unavailable: {error}"
            _fail(batch, lambda: StorageUnavailableError(message))
        except asyncio.CancelledError:
            _fail(batch, lambda: StoreClosedError("the store was shut down during a write"))
            raise
        except Exception as error:  # this loop must outlive any one failure
            failure = error
            _fail(batch, lambda: failure)
        self.stats.batches += 1
        self.stats.units += len(batch)

    async def _together(self, conn: Connection, batch: list[WriteUnit[Any]]) -> bool:
        """The whole batch in one transaction; False (nothing saved) if a unit failed. A
        batch that is one merged statement runs without BEGIN and COMMIT: a statement is
        atomic by itself."""
        groups = _groups(batch)
        results: list[Any] = [None] * len(batch)
        try:
            if len(groups) == 1 and all(unit.single for unit in batch):
                await self._run_group(conn, batch, groups[0], results, single=True)
            else:
                async with conn.transaction():
                    for group in groups:
                        await self._run_group(conn, batch, group, results, single=False)
        except UNAVAILABLE_ERRORS:
            raise
        except Exception:
            return False
        for unit, result in zip(batch, results, strict=True):
            _resolve(unit.future, result)
        return True

    async def _run_group(
        self,
        conn: Connection,
        batch: list[WriteUnit[Any]],
        group: list[int],
        results: list[Any],
        *,
        single: bool,
    ) -> None:
        """Run one unit, or several of a kind as one statement; their results into place."""
        first = batch[group[0]]
        if len(group) == 1 or first.merge is None:
            results[group[0]] = await self._run_op(conn, first.op, single)
            return
        merges = [batch[i].merge for i in group]
        items = [merge.item for merge in merges if merge is not None]
        answers = await self._run_op(conn, partial(first.merge.together, items), single)
        for i, answer in zip(group, answers, strict=True):
            results[i] = answer
        self.stats.merged += len(group)

    async def _alone(self, conn: Connection, unit: WriteUnit[Any]) -> None:
        try:
            if unit.single:
                result = await self._run_op(conn, unit.op, True)
            else:
                async with conn.transaction():
                    result = await self._run_op(conn, unit.op, False)
        except UNAVAILABLE_ERRORS:
            raise
        except asyncpg.IntegrityConstraintViolationError as error:
            _reject(unit.future, ConstraintViolationError(str(error)))
        except Exception as error:
            _reject(unit.future, error)
        else:
            _resolve(unit.future, result)


def _groups(batch: list[WriteUnit[Any]]) -> list[list[int]]:
    """The batch's units (by position) in the order they run: units of one mergeable kind
    together, where the first of them came; every other unit by itself."""
    groups: list[list[int]] = []
    by_kind: dict[Callable[..., Any], list[int]] = {}
    for i, unit in enumerate(batch):
        if unit.merge is None:
            groups.append([i])
        elif unit.merge.together in by_kind:
            by_kind[unit.merge.together].append(i)
        else:
            by_kind[unit.merge.together] = [i]
            groups.append(by_kind[unit.merge.together])
    return groups


def _resolve(future: "asyncio.Future[Any]", value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _reject(future: "asyncio.Future[Any]", error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _fail(batch: list[WriteUnit[Any]], error: Callable[[], Exception]) -> None:
    # A fresh exception per caller where we can: one shared instance collects every traceback.
    for unit in batch:
        _reject(unit.future, error())
