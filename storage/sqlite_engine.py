"""SQLite connections, one group-committing writer and a small pool of readers.

Why not aiosqlite: it runs one thread per connection and hops to it for every statement, and
two tasks sharing its connection interleave statements inside each other's transactions
(omnilib/aiosqlite issue #19). Here each unit of work is a plain synchronous function of the
connection, so a whole batch of units (BEGIN, every unit, COMMIT) runs in one go and nothing
else can touch the connection meanwhile.

Group commit: callers submit units and await a future; the single writer task takes every
pending unit (up to `max_batch`), runs them in one `BEGIN IMMEDIATE` transaction with a
SAVEPOINT around each, and commits once. A unit that raises is rolled back to its savepoint
and fails only its own future; if the COMMIT fails, every future of the batch fails.

Where a batch runs: on the event loop's own thread when the write lock is free (the usual
case: a WAL commit with synchronous=NORMAL does not fsync, so a batch is CPU work of a few
milliseconds), and on the writer's thread only when another connection holds the lock and we
must wait for it (busy timeout). Running every batch on a thread looked free but was not: the
sqlite3 module releases the GIL around every statement and the thread then queues for it
behind the busy event loop, so commits took tens of milliseconds under load and the workers
waiting on them capped throughput (BENCHMARKS.md). WAL checkpoints, which do fsync, are kept
off the loop: the writer connection's automatic checkpoint is off and a checkpoint runs on the
writer's thread, from a connection of its own, after every `CHECKPOINT_CHANGES` rows written.

Readers work the same way: a point lookup (`ReaderPool.run_inline`) runs on the loop's thread
on a connection of its own, falling back to the pool's threads in the rare case SQLite would
make it wait; scans (recovery, listings) always run on the pool.
"""

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from storage.errors import CommitFailedError, StoreClosedError

T = TypeVar("T")
Unit = Callable[[sqlite3.Connection], T]
"""A unit of work: runs on the connection's thread, inside a transaction it does not own."""

BUSY_TIMEOUT_MS = 5000
DEFAULT_MAX_BATCH = 256
# While writes arrive faster than one every BUSY_GAP on average, a batch waits LINGER for
# more to share its commit. A commit costs about as much as the units in it, so under load this
# cuts the commits per write for at most 2 ms more each; a lone write, or one caller's writes
# one after another, never wait (the average is over the last ~20 arrivals). 2 ms against 1:
# 8-13% less CPU per message at 800 msg/s in three interleaved sets; 3 ms gained no more.
LINGER_SECONDS = 0.002
BUSY_GAP_SECONDS = 0.001
GAP_SMOOTHING = 0.05
DEFAULT_READERS = 4
CHECKPOINT_CHANGES = 1000  # rows written between checkpoints (a few hundred WAL pages)


class _Busy(Exception):
    """The write lock is held by another connection: wait for it off the event loop."""


def connect(
    path: Path, *, read_only: bool = False, foreign_keys: bool = True
) -> sqlite3.Connection:
    """A connection in autocommit mode: we issue BEGIN/COMMIT ourselves, never the driver."""
    conn = sqlite3.connect(
        path,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,  # each connection is confined to one thread by its owner
        cached_statements=256,
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
    # NORMAL is durable across application crashes in WAL mode; only a power loss can drop
    # the last commits, and fsync per commit would cap throughput.
    conn.execute("PRAGMA synchronous = NORMAL")
    if read_only:
        conn.execute("PRAGMA query_only = ON")
    return conn


def enable_wal(conn: sqlite3.Connection) -> None:
    """WAL lets readers keep a consistent snapshot while the writer commits. It is a property
    of the file, so setting it once per file is enough; repeating it is harmless."""
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise sqlite3.OperationalError(f"could not switch the database to WAL (got {mode!r})")


@dataclass(frozen=True, slots=True)
class WriteStats:
    """Counts since open, for metrics and benchmarks: units per batch shows group commit."""

    batches: int
    units: int
    failed_units: int
    failed_batches: int


@dataclass(slots=True)
class _Pending(Generic[T]):
    unit: Unit[T]
    future: "asyncio.Future[T]"


@dataclass(frozen=True, slots=True)
class _Failed:
    error: Exception


class GroupCommitWriter:
    """The only connection that writes. Start it with `await GroupCommitWriter.start(path)`."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        executor: ThreadPoolExecutor,
        max_batch: int,
        checkpointer: sqlite3.Connection | None = None,
    ):
        self._conn = conn
        self._executor = executor
        self._max_batch = max_batch
        self._checkpointer = checkpointer
        self._queue: asyncio.Queue[_Pending[Any] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._batches = self._units = self._failed_units = self._failed_batches = 0
        self._checkpoint: asyncio.Future[None] | None = None
        self._changes_at_checkpoint = 0
        self._last_arrival = 0.0  # the event loop's clock
        self._mean_gap = 1.0  # seconds between arrivals, smoothed

    @classmethod
    async def start(cls, path: Path, max_batch: int = DEFAULT_MAX_BATCH) -> "GroupCommitWriter":
        # One thread for the connection's whole life keeps it confined to that thread.
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        loop = asyncio.get_running_loop()
        try:
            conn = await loop.run_in_executor(executor, _open_writer, path)
            checkpointer = await loop.run_in_executor(executor, connect, path)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        writer = cls(conn, executor, max_batch, checkpointer)
        writer._task = asyncio.create_task(writer._run(), name="sqlite-writer")
        return writer

    @property
    def stats(self) -> WriteStats:
        return WriteStats(self._batches, self._units, self._failed_units, self._failed_batches)

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    async def submit(self, unit: Unit[T]) -> T:
        """Run `unit` in the next batch; returns its result once the batch has committed."""
        if not self.alive:
            raise StoreClosedError("the store is closed")
        loop = asyncio.get_running_loop()
        now = loop.time()
        gap, self._last_arrival = now - self._last_arrival, now
        self._mean_gap += GAP_SMOOTHING * (min(gap, 1.0) - self._mean_gap)
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put_nowait(_Pending(unit, future))
        return await future

    async def close(self) -> None:
        """Run every unit already submitted, then close the connection."""
        task, self._task = self._task, None
        if task is None:
            return  # already closed (or closing in another task)
        self._queue.put_nowait(None)  # behind every pending unit: they drain first
        await task
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._conn.close)
        if self._checkpointer is not None:
            await loop.run_in_executor(self._executor, self._checkpointer.close)
        await asyncio.to_thread(self._executor.shutdown)

    async def _run(self) -> None:
        stop = False
        while not stop:
            batch, stop = await self._take_batch()
            live = [p for p in batch if not p.future.done()]  # skip callers that gave up
            if live:
                await self._run_batch(live)

    async def _take_batch(self) -> tuple[list[_Pending[Any]], bool]:
        first = await self._queue.get()
        if first is None:
            return [], True
        batch = [first]
        if self._queue.empty() and self._mean_gap < BUSY_GAP_SECONDS:
            await asyncio.sleep(LINGER_SECONDS)
        while len(batch) < self._max_batch and not self._queue.empty():
            item = self._queue.get_nowait()
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    async def _run_batch(self, batch: list[_Pending[Any]]) -> None:
        loop = asyncio.get_running_loop()
        units = [p.unit for p in batch]
        try:
            try:
                outcomes = _run_units(self._conn, units, wait=False)
            except _Busy:
                outcomes = await loop.run_in_executor(self._executor, _run_units, self._conn, units)
        except asyncio.CancelledError:
            _fail_all(batch, StoreClosedError("the store was shut down during a write"))
            raise
        except Exception as exc:
            self._failed_batches += 1
            _fail_all(batch, exc)
            return
        self._batches += 1
        for pending, outcome in zip(batch, outcomes, strict=True):
            self._units += 1
            if isinstance(outcome, _Failed):
                self._failed_units += 1
                _set_exception(pending.future, outcome.error)
            elif not pending.future.done():
                pending.future.set_result(outcome)
        self._maybe_checkpoint(loop)
        # The batch ran without yielding: let the callers it woke run before the next one.
        await asyncio.sleep(0)

    def _maybe_checkpoint(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start a PASSIVE checkpoint on the writer's thread once `CHECKPOINT_CHANGES` rows
        were written since the last; it runs alongside further writes and never waits for
        readers. A failed one is simply tried again later: the WAL still holds the data."""
        if self._checkpointer is None or self._checkpoint is not None:
            return
        if self._conn.total_changes - self._changes_at_checkpoint < CHECKPOINT_CHANGES:
            return
        self._changes_at_checkpoint = self._conn.total_changes
        self._checkpoint = loop.run_in_executor(self._executor, _checkpoint, self._checkpointer)
        self._checkpoint.add_done_callback(self._checkpoint_done)

    def _checkpoint_done(self, future: "asyncio.Future[None]") -> None:
        self._checkpoint = None
        if not future.cancelled():
            future.exception()  # retrieved, so asyncio does not log it as forgotten


def _open_writer(path: Path) -> sqlite3.Connection:
    conn = connect(path)
    enable_wal(conn)
    # Checkpoints fsync: they run on the writer's thread (`_maybe_checkpoint`), never in a
    # commit on the event loop.
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    return conn


def _checkpoint(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def _run_units(conn: sqlite3.Connection, units: list[Unit[Any]], wait: bool = True) -> list[Any]:
    """The whole batch in one transaction. With `wait=False` (on the event loop) it raises
    `_Busy` at once, having done nothing, if another connection holds the write lock."""
    if wait:
        conn.execute("BEGIN IMMEDIATE")
    else:
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
            raise _Busy from None
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    try:
        outcomes = [_run_unit(conn, unit) for unit in units]
        conn.execute("COMMIT")
    except BaseException:
        # Some errors (disk full, I/O) already rolled back; only roll back what is left.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return outcomes


def _is_busy(error: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED, extended codes (BUSY_RECOVERY, …) included."""
    return error.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _run_unit(conn: sqlite3.Connection, unit: Unit[Any]) -> Any:
    conn.execute("SAVEPOINT unit")
    try:
        result = unit(conn)
    except Exception as exc:
        conn.execute("ROLLBACK TO unit")
        conn.execute("RELEASE unit")
        return _Failed(exc)
    conn.execute("RELEASE unit")
    return result


def _fail_all(batch: list[_Pending[Any]], cause: Exception) -> None:
    for pending in batch:
        # A fresh exception per caller: one shared instance would collect every traceback.
        error = CommitFailedError(f"write batch failed: {cause!r}")
        error.__cause__ = cause
        _set_exception(pending.future, error)


def _set_exception(future: "asyncio.Future[Any]", error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


class ReaderPool:
    """A few read-only connections, one per pool thread. Each call runs in a read transaction,
    so a function issuing several SELECTs sees one consistent WAL snapshot."""

    def __init__(self, path: Path, size: int = DEFAULT_READERS):
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="sqlite-reader")
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._inline: sqlite3.Connection | None = None

    async def run(self, fn: Unit[T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn)

    async def run_inline(self, fn: Unit[T]) -> T:
        """For lookups of a few rows by key: run on the caller's (the event loop's) thread,
        saving the thread hop and the wait for the GIL; if SQLite would have to wait (a
        checkpoint resetting the WAL, a recovery), run on the pool instead."""
        conn = self._inline
        if conn is None:
            conn = self._inline = connect(self._path, read_only=True)
            conn.execute("PRAGMA busy_timeout = 0")
            with self._lock:
                self._conns.append(conn)
        try:
            conn.execute("BEGIN")
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
            return await self.run(fn)
        try:
            return fn(conn)
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
        finally:
            conn.execute("COMMIT")
        return await self.run(fn)

    async def close(self) -> None:
        await asyncio.to_thread(self._shutdown)

    def _call(self, fn: Unit[T]) -> T:
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            return fn(conn)
        finally:
            conn.execute("COMMIT")  # ends the read transaction; there is nothing to write

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self._path, read_only=True)
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
        return conn

    def _shutdown(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._conns.clear()
