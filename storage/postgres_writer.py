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
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import asyncpg

from storage.errors import ConstraintViolationError, StorageUnavailableError, StoreClosedError
from storage.postgres_connection import UNAVAILABLE_ERRORS
from storage.query import OpFactory

T = TypeVar("T")
Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
RunOp = Callable[[Connection, OpFactory[Any], bool], Awaitable[Any]]

MAX_BATCH = 64  # units per transaction: enough to share a commit, short enough to keep locks brief
DEFAULT_CONCURRENCY = 2  # transactions at once (the pool's other connections serve reads)


@dataclass(frozen=True, slots=True)
class WriteUnit(Generic[T]):
    op: OpFactory[T]
    single: bool  # exactly one statement: may run outside a transaction when alone
    future: "asyncio.Future[T]"


@dataclass(slots=True)
class WriterStats:
    batches: int = 0
    units: int = 0
    reruns: int = 0  # batches rolled back and run again unit by unit

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

    async def submit(self, op: OpFactory[T], *, single: bool) -> T:
        """Run `op` in the next transaction; returns its result once that has committed."""
        if self._closed:
            raise StoreClosedError("the store is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append(WriteUnit(op, single, future))
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
        """The whole batch in one transaction; False (nothing saved) if a unit failed."""
        results: list[Any] = []
        try:
            async with conn.transaction():
                for unit in batch:
                    results.append(await self._run_op(conn, unit.op, False))
        except UNAVAILABLE_ERRORS:
            raise
        except Exception:
            return False
        for unit, result in zip(batch, results, strict=True):
            _resolve(unit.future, result)
        return True

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
