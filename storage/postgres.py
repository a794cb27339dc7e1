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
from storage.postgres_writer import DEFAULT_CONCURRENCY, Merge, PostgresWriter, WriterStats
from storage.query import Op, OpFactory, Query, Row, postgres_sql
from storage.repository import (
    UNKNOWN_CUSTOMER_PREFIX,
    ClaimRead,
    CustomerSnapshot,
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

_READ_WITH_CLAIM: Mapping[tuple[Lane, ClaimRead], str] = {
    (Lane.EVENTS, ClaimRead.PENDING): postgres_sql(ops.PENDING_OF_KEYS[Lane.EVENTS]),
    (Lane.OUTBOX, ClaimRead.PENDING): postgres_sql(ops.PENDING_OF_KEYS[Lane.OUTBOX]),
    (Lane.EVENTS, ClaimRead.SNAPSHOT): postgres_sql(postgres_ops.SNAPSHOTS_OF_KEYS),
}
"""What the lock connection reads right after granting claims, one statement per kind for
every key granted at once; each query takes the keys (`text[]`) and names each row's key
`customer_key`."""

PING_TIMEOUT_SECONDS = 3.0
RECONNECT_DELAY_SECONDS = 1.0


async def run_postgres(conn: Connection, make_op: OpFactory[T], *, single: bool = False) -> T:
    """Run an operation; with `single`, it must be one statement (it runs outside any
    transaction, so a second statement would not be atomic with the first)."""
    op = make_op()
    try:
        query = next(op)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    return await _run_from(conn, op, query, single)


async def _run_from(conn: Connection, op: Op[T], query: Query, single: bool = False) -> T:
    """Run a started operation from its first query on."""
    try:
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
        # Rows read with a claim, for the claimer's first look (see `claim`), by query and key.
        self._prefetched: dict[tuple[str, str], Sequence[Row]] = {}
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
        self, lane: Lane, key: str, *, read: ClaimRead = ClaimRead.PENDING
    ) -> AsyncIterator[bool]:
        """Hold `key`; what `read` names (a customer's pending events or messages, or their
        snapshot) is read on the lock connection right after the lock is granted, one
        statement for every claim granted at once, and answers the holder's first
        `unprocessed_events` / `pending_outbox` / `load_snapshot` for it."""
        prefetch = _READ_WITH_CLAIM.get((lane, read))
        if key.startswith(UNKNOWN_CUSTOMER_PREFIX):
            prefetch = None  # not a customer: nothing of theirs to read
        held = await self._locks.try_lock(LOCK_NAMESPACE[lane], key, prefetch)
        if held is None:
            yield False
            return
        if prefetch is not None and held.pending is not None:
            self._prefetched[(prefetch, key)] = held.pending
        try:
            yield True
        finally:
            if prefetch is not None:
                self._prefetched.pop((prefetch, key), None)
            await self._locks.unlock(held)

    def _read_with_claim(
        self, lane: Lane, read: ClaimRead, key: str | None
    ) -> Sequence[Row] | None:
        """The rows `claim` read for `key`, once; None when it read none."""
        if key is None:
            return None
        return self._prefetched.pop((_READ_WITH_CLAIM[(lane, read)], key), None)

    async def load_snapshot(
        self,
        customer_key: str,
        order_id: str | None,
        recent_orders: int = 0,
        *,
        with_stock: bool = True,
    ) -> CustomerSnapshot:
        rows = self._read_with_claim(Lane.EVENTS, ClaimRead.SNAPSHOT, customer_key)
        if not rows:
            return await super().load_snapshot(
                customer_key, order_id, recent_orders, with_stock=with_stock
            )
        snapshot = partial(
            ops.load_snapshot, customer_key, order_id, recent_orders, with_stock, rows[0]
        )
        return await self._lookup(snapshot)

    async def _record_and_step(self, event: NewEvent, step: ops.Step) -> StepResult | None:
        if step.effects or step.reminders:
            return await super()._record_and_step(event, step)
        return await self._submit(
            partial(postgres_ops.record_and_reply, event, step),
            single=True,
            merge=Merge(postgres_ops.record_and_reply_many, (event, step)),
        )

    async def _write_sent_marks(self, marks: Sequence[ops.SentMark]) -> None:
        marks = tuple(marks)
        await self._submit(
            partial(postgres_ops.mark_sent_many, marks),
            single=True,
            merge=Merge(postgres_ops.mark_sent_in_one, marks),
        )

    async def unprocessed_events(self, customer_key: str | None = None) -> list[StoredEvent]:
        rows = self._read_with_claim(Lane.EVENTS, ClaimRead.PENDING, customer_key)
        if rows is None:
            return await super().unprocessed_events(customer_key)
        return await self._listed(Lane.EVENTS, ops.decode_pending(Lane.EVENTS, rows))

    async def pending_outbox(self, customer_key: str | None = None) -> list[OutboxMessage]:
        rows = self._read_with_claim(Lane.OUTBOX, ClaimRead.PENDING, customer_key)
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

    async def _read(self, make_op: OpFactory[T]) -> T:
        if self._closed:
            raise StoreClosedError("the store is closed")
        op = make_op()
        try:
            query = next(op)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]  # read with a claim already
        try:
            async with self._pool.acquire() as conn:
                return await _run_from(conn, op, query)
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

    async def _submit(self, op: OpFactory[T], *, single: bool, merge: Merge | None = None) -> T:
        if self._closed:
            raise StoreClosedError("the store is closed")
        return await self._writer.submit(op, single=single, merge=merge)


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
    prefetch: str | None  # a `_READ_WITH_CLAIM` query to run for the key once it is held
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
        self, namespace: int, key: str, prefetch: str | None = None
    ) -> HeldLock | None:
        """The lock if this process got it (with the rows of `key` that the `prefetch` query
        read right after), None if another process holds it. Raises `StorageUnavailableError`
        when the database cannot be reached."""
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
        """Every unlock, then every lock, in one statement: the rows of `unnest` are taken
        in order, so a key let go and asked for again in the same batch is free by the time
        it is asked for."""
        unlocks, locks = requests.unlocks, requests.locks
        asked = [(namespace, key) for namespace, key, _ in unlocks]
        asked += [(r.namespace, r.key) for r in locks]
        rows = await conn.fetch(
            "SELECT n, CASE WHEN n <= $3 THEN pg_advisory_unlock(ns, hashtext(k)) "
            "ELSE pg_try_advisory_lock(ns, hashtext(k)) END AS got "
            "FROM unnest($1::int[], $2::text[]) WITH ORDINALITY AS t(ns, k, n)",
            [namespace for namespace, _ in asked],
            [key for _, key in asked],
            len(unlocks),
        )
        for *_, done in unlocks:
            _resolve(done, None)
        if not locks:
            return
        got = {int(row["n"]) - len(unlocks): bool(row["got"]) for row in rows}
        granted = [r for n, r in enumerate(locks, start=1) if got[n]]
        await self._prefetch(conn, granted)
        for n, request in enumerate(locks, start=1):
            if request.future.done() and got[n]:
                # Its caller gave up (cancelled) while we asked: let go at once.
                self._requests.unlocks.append((request.namespace, request.key, _detached()))
                self._wake.set()
            _resolve(request.future, (got[n], request.rows))

    async def _prefetch(self, conn: asyncpg.Connection, granted: list[_LockRequest]) -> None:
        """Run the reads asked for with the keys just granted, one statement per query: after
        the claims, so whatever was stored before them is seen."""
        by_query: dict[str, list[_LockRequest]] = {}
        for request in granted:
            if request.prefetch is not None and not request.future.done():
                by_query.setdefault(request.prefetch, []).append(request)
        for query, requests in by_query.items():
            rows = await conn.fetch(query, [r.key for r in requests])
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
