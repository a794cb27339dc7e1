"""`Store` on Postgres (asyncpg): any number of processes on one database behave as one bot.

Operations (`storage.ops`, the same as SQLite's) run on a small connection pool; each write
is one transaction. Processes coordinate with Postgres advisory locks, the way Que does:
before a worker handles a customer (or an order's provider calls) it claims that key with a
session-level `pg_try_advisory_lock` on one connection of its own. A key is held by at most
one process; a process that dies loses its connection and with it every lock at once, so
another process can take over at the next sweep — no leases, no heartbeats. Claims of many
customers at once are sent together, one round trip per batch.

Why session locks on a dedicated connection: the pool's connections are shared by every
task, and a step's claim must outlive its several transactions (load, commit, send).
"""

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Self, TypeVar

import asyncpg

from storage import ops, postgres_connection, postgres_ops
from storage.database_url import PostgresDatabase, redact_url
from storage.errors import StorageUnavailableError, StoreClosedError
from storage.migrate import check_postgres_schema
from storage.op_store import OpStore
from storage.postgres_connection import UNAVAILABLE_ERRORS, PostgresOptions
from storage.postgres_writer import DEFAULT_CONCURRENCY, PostgresWriter, WriterStats
from storage.query import OpFactory, Row, postgres_sql
from storage.repository import (
    UNKNOWN_CUSTOMER_PREFIX,
    DeadLetterHook,
    Lane,
    NewEvent,
    OutboxMessage,
    StepResult,
    StoredEvent,
)

T = TypeVar("T")
Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy

LOCK_NAMESPACE: Mapping[Lane, int] = {
    Lane.EVENTS: 0x5B01,
    Lane.OUTBOX: 0x5B02,
    Lane.JOBS: 0x5B03,
    Lane.ALERTS: 0x5B04,
}
"""First key of each lane's advisory locks (the second is `hashtext(key)`). Two keys that
hash alike only make their owners take turns; the sweep catches anything that waited."""

PING_TIMEOUT_SECONDS = 3.0
RECONNECT_DELAY_SECONDS = 1.0


async def run_postgres(conn: Connection, make_op: OpFactory[T], *, single: bool = False) -> T:
    """Run an operation; with `single`, it must be one statement (it runs outside any
    transaction, so a second statement would not be atomic with the first)."""
    op = make_op()
    try:
        query = next(op)
        while True:
            rows = await conn.fetch(postgres_sql(query.sql), *query.params)
            query = op.send(rows)
            if single:
                raise AssertionError(f"not a single statement: {query.sql[:60]!r}")
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


class PostgresStore(OpStore):
    def __init__(
        self,
        pool: asyncpg.Pool,
        locks: "AdvisoryLocks",
        on_dead_letter: DeadLetterHook | None = None,
    ) -> None:
        super().__init__(on_dead_letter)
        self._pool = pool
        self._locks = locks
        # Writes take at most two of the pool's connections, leaving the rest to reads.
        writers = min(DEFAULT_CONCURRENCY, max(1, int(pool.get_max_size()) - 1))
        self._writer = PostgresWriter(pool, _run_op, concurrency=writers)
        # Pending work read with a claim, for the claimer's first look (see `claim`).
        self._prefetched: dict[tuple[Lane, str], Sequence[Row]] = {}
        self._closed = False

    @classmethod
    async def open(
        cls,
        database: PostgresDatabase,
        options: PostgresOptions,
        *,
        on_dead_letter: DeadLetterHook | None = None,
    ) -> Self:
        """Connect and check the schema. Does not migrate: raises `SchemaNotMigratedError`
        if migrations are missing, `StorageUnavailableError` if the server cannot be reached."""
        try:
            pool = await postgres_connection.create_pool(database, options)
        except UNAVAILABLE_ERRORS as error:
            raise StorageUnavailableError(f"cannot reach the database: {error}") from error
        try:
            async with pool.acquire() as conn:
                await check_postgres_schema(conn)
        except BaseException:
            await pool.close()
            raise
        locks = AdvisoryLocks(database, options)
        return cls(pool, locks, on_dead_letter)

    @property
    def connections(self) -> int:
        """The most connections this process opens: the pool and the lock connection."""
        return int(self._pool.get_max_size()) + 1

    def describe(self) -> dict[str, object]:
        return {
            "backend": "postgres",
            "server": self._locks.where,
            "max_connections": self.connections,
            "shared_by_processes": True,
        }

    @property
    def shared(self) -> bool:
        return True

    @asynccontextmanager
    async def claim(
        self, lane: Lane, key: str, *, read_pending: bool = True
    ) -> AsyncIterator[bool]:
        """Hold `key`; a customer's pending events or messages come in the same round trip
        and answer the holder's first `unprocessed_events` / `pending_outbox` for it."""
        prefetch = (
            read_pending
            and lane in ops.PENDING_OF_KEYS
            and not key.startswith(UNKNOWN_CUSTOMER_PREFIX)
        )
        held = await self._locks.try_lock(LOCK_NAMESPACE[lane], key, lane if prefetch else None)
        if held is None:
            yield False
            return
        if held.pending is not None:
            self._prefetched[(lane, key)] = held.pending
        try:
            yield True
        finally:
            self._prefetched.pop((lane, key), None)
            await self._locks.unlock(held)

    async def _record_and_step(self, event: NewEvent, step: ops.Step) -> StepResult | None:
        if step.effects or step.reminders:
            return await super()._record_and_step(event, step)
        return await self._write_statement(partial(postgres_ops.record_and_reply, event, step))

    async def _write_sent_marks(self, marks: Sequence[ops.SentMark]) -> None:
        await self._write_statement(partial(postgres_ops.mark_sent_many, tuple(marks)))

    async def unprocessed_events(self, customer_key: str | None = None) -> list[StoredEvent]:
        rows = self._prefetched.pop((Lane.EVENTS, customer_key), None) if customer_key else None
        if rows is None:
            return await super().unprocessed_events(customer_key)
        return await self._listed(Lane.EVENTS, ops.decode_pending(Lane.EVENTS, rows))

    async def pending_outbox(self, customer_key: str | None = None) -> list[OutboxMessage]:
        rows = self._prefetched.pop((Lane.OUTBOX, customer_key), None) if customer_key else None
        if rows is None:
            return await super().pending_outbox(customer_key)
        return await self._listed(Lane.OUTBOX, ops.decode_pending(Lane.OUTBOX, rows))

    async def ping(self) -> None:
        if self._closed:
            raise StoreClosedError("the store is closed")
        try:
            async with self._pool.acquire(timeout=PING_TIMEOUT_SECONDS) as conn:
                await conn.fetchval("SELECT 1", timeout=PING_TIMEOUT_SECONDS)
        except UNAVAILABLE_ERRORS as error:
            raise StorageUnavailableError(f"the database does not answer: {error}") from error

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._writer.close()
        await self._locks.close()
        await self._pool.close()

    async def _read(self, op: OpFactory[T]) -> T:
        if self._closed:
            raise StoreClosedError("the store is closed")
        try:
            async with self._pool.acquire() as conn:
                return await run_postgres(conn, op)
        except UNAVAILABLE_ERRORS as error:
            raise StorageUnavailableError(f"database unavailable: {error}") from error

    @property
    def write_stats(self) -> WriterStats:
        """Transactions and writes so far; writes per transaction > 1 means group commit works."""
        return self._writer.stats

    async def _write_statement(self, op: OpFactory[T]) -> T:
        return await self._submit(op, single=True)

    async def _write(self, op: OpFactory[T]) -> T:
        return await self._submit(op, single=False)

    async def _submit(self, op: OpFactory[T], *, single: bool) -> T:
        if self._closed:
            raise StoreClosedError("the store is closed")
        return await self._writer.submit(op, single=single)


async def _run_op(conn: Connection, make_op: OpFactory[T], single: bool) -> T:
    return await run_postgres(conn, make_op, single=single)


@dataclass(frozen=True, slots=True)
class HeldLock:
    namespace: int
    key: str
    session: int  # which lock connection took it: a lock dies with its connection
    pending: Sequence[Row] | None = field(default=None, compare=False)  # read with the claim


@dataclass(slots=True)
class _LockRequest:
    namespace: int
    key: str
    future: "asyncio.Future[tuple[bool, Sequence[Row] | None]]"
    prefetch: Lane | None  # read this lane's pending work of the key once it is held
    rows: Sequence[Row] | None = None


@dataclass(slots=True)
class _Requests:
    locks: list[_LockRequest] = field(default_factory=list)
    unlocks: list[tuple[int, str, "asyncio.Future[None]"]] = field(default_factory=list)


class AdvisoryLocks:
    """Session-level advisory locks on one connection of this process's own. Requests that
    arrive while a round trip is under way are sent together in the next one."""

    def __init__(self, database: PostgresDatabase, options: PostgresOptions) -> None:
        self.where = redact_url(database.dsn)
        self._database = database
        self._options = options
        self._conn: asyncpg.Connection | None = None
        self._session = 0
        self._requests = _Requests()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def try_lock(
        self, namespace: int, key: str, prefetch: Lane | None = None
    ) -> HeldLock | None:
        """The lock if this process got it (with `prefetch`'s pending rows of `key`), None if
        another process holds it. Raises `StorageUnavailableError` when the database cannot
        be reached."""
        future: asyncio.Future[tuple[bool, Sequence[Row] | None]] = self._submit()
        self._requests.locks.append(_LockRequest(namespace, key, future, prefetch))
        got, rows = await future
        if not got:
            return None
        # The session that granted it: a reconnect since would have counted up.
        return HeldLock(namespace, key, self._session, rows)

    async def unlock(self, held: HeldLock) -> None:
        """Let go, and wait until the server has: a caller looks for new work only after."""
        if held.session != self._session or self._conn is None:
            return  # that connection is gone, and its locks with it
        future: asyncio.Future[None] = self._submit()
        self._requests.unlocks.append((held.namespace, held.key, future))
        with suppress(StorageUnavailableError):
            await future

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        self._fail_all(StoreClosedError("the store is closed"))
        if self._conn is not None:
            with suppress(*UNAVAILABLE_ERRORS):
                await self._conn.close(timeout=2)
            self._conn = None

    def _submit(self) -> "asyncio.Future[Any]":
        if self._closed:
            raise StoreClosedError("the store is closed")
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._serve(), name="advisory-locks")
        self._wake.set()
        return asyncio.get_running_loop().create_future()

    async def _serve(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            requests, self._requests = self._requests, _Requests()
            if not (requests.locks or requests.unlocks):
                continue
            try:
                conn = await self._connection()
                await self._send(conn, requests)
            except UNAVAILABLE_ERRORS as error:
                await self._lost(requests, error)
            except Exception as error:  # this loop must outlive any one failure
                # An error from the server about these locks (none is expected): the waiters
                # learn of it, and the connection, whose state is now unknown, starts afresh.
                await self._lost(requests, error)

    async def _connection(self) -> asyncpg.Connection:
        if self._conn is None or self._conn.is_closed():
            options = self._options
            self._conn = await postgres_connection.connect(self._database, options)
            self._session += 1
        return self._conn

    async def _send(self, conn: asyncpg.Connection, requests: _Requests) -> None:
        if requests.unlocks:
            namespaces, keys = _columns(requests.unlocks)
            await conn.fetch(
                "SELECT pg_advisory_unlock(ns, hashtext(k)) "
                "FROM unnest($1::int[], $2::text[]) AS t(ns, k)",
                namespaces,
                keys,
            )
            for *_, done in requests.unlocks:
                _resolve(done, None)
        if requests.locks:
            locks = requests.locks
            rows = await conn.fetch(
                "SELECT n, pg_try_advisory_lock(ns, hashtext(k)) AS got "
                "FROM unnest($1::int[], $2::text[]) WITH ORDINALITY AS t(ns, k, n)",
                [r.namespace for r in locks],
                [r.key for r in locks],
            )
            got = {int(row["n"]): bool(row["got"]) for row in rows}
            granted = [r for n, r in enumerate(locks, start=1) if got[n]]
            await self._prefetch(conn, granted)
            for n, request in enumerate(locks, start=1):
                if request.future.done() and got[n]:
                    # Its caller gave up (cancelled) while we asked: let go at once.
                    self._requests.unlocks.append((request.namespace, request.key, _detached()))
                    self._wake.set()
                _resolve(request.future, (got[n], request.rows))

    async def _prefetch(self, conn: asyncpg.Connection, granted: list[_LockRequest]) -> None:
        """Read the pending work of the keys just granted, one query per lane: after the
        claims, so whatever was stored before them is seen."""
        by_lane: dict[Lane, list[_LockRequest]] = {}
        for request in granted:
            if request.prefetch is not None and not request.future.done():
                by_lane.setdefault(request.prefetch, []).append(request)
        for lane, requests in by_lane.items():
            rows = await conn.fetch(
                postgres_sql(ops.PENDING_OF_KEYS[lane]), [r.key for r in requests]
            )
            by_key: dict[str, list[Row]] = {r.key: [] for r in requests}
            for row in rows:
                by_key[row["customer_key"]].append(row)
            for request in requests:
                request.rows = by_key[request.key]

    async def _lost(self, requests: _Requests, error: BaseException) -> None:
        """The lock connection failed: every lock it held is gone. Waiters are told the
        database is unavailable; the next request reconnects, after a pause."""
        conn, self._conn = self._conn, None
        self._session += 1
        if conn is not None:
            conn.terminate()
        _fail(requests, StorageUnavailableError(f"lost the lock connection: {error}"))
        await asyncio.sleep(RECONNECT_DELAY_SECONDS)

    def _fail_all(self, error: Exception) -> None:
        requests, self._requests = self._requests, _Requests()
        _fail(requests, error)


def _columns(requests: list[tuple[int, str, Any]]) -> tuple[list[int], list[str]]:
    return [r[0] for r in requests], [r[1] for r in requests]


def _fail(requests: _Requests, error: Exception) -> None:
    futures: list[asyncio.Future[Any]] = [r.future for r in requests.locks]
    futures += [f for *_, f in requests.unlocks]
    for future in futures:
        if not future.done():
            future.set_exception(error)


def _detached() -> "asyncio.Future[None]":
    return asyncio.get_running_loop().create_future()


def _resolve(future: "asyncio.Future[Any]", value: Any) -> None:
    if not future.done():
        future.set_result(value)
