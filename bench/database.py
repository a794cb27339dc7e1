"""Where the bot keeps its data during a phase, and what the benchmark reads back from it.

`Setup` says how the bot runs in a benchmark run: on SQLite (one process, a file) or on
Postgres with N processes sharing one database. Every phase gets a fresh database
(`fresh_database`): a new SQLite file, or `CREATE DATABASE bench_<phase>_<n>` on the Postgres
server after a `CHECKPOINT` (so no earlier phase's dirty pages are written during this one),
dropped afterwards. After a phase the benchmark reads the outbox and the carts back, and on
Postgres the server's own counters (transactions, autovacuum runs) and which server processes
belong to this database, for the CPU figures (bench/cpu.py).

The methods are synchronous (each runs its own short event loop for asyncpg, on a thread of
its own when the caller already runs one), so phases written either way can use them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sqlite3
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
"""The machine's PostgreSQL (trust authentication), and a database to run CREATE DATABASE from.
`--database-server` or BENCH_DATABASE_SERVER to use another."""

Backend = Literal["sqlite", "postgres"]
T = TypeVar("T")


def run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from synchronous code, even inside a running loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


@dataclass(frozen=True)
class Setup:
    """How the bot runs: `processes` bot processes on one database of kind `db`."""

    db: Backend = "sqlite"
    processes: int = 1
    server: str = DEFAULT_SERVER  # Postgres only: where the phases' databases are created

    def __post_init__(self) -> None:
        if self.processes < 1:
            raise ValueError("at least one bot process")
        if self.db == "sqlite" and self.processes > 1:
            raise ValueError(
                "several bot processes need a database they can share: use --db postgres "
                "(SQLite is one process's file)"
            )

    @property
    def label(self) -> str:
        name = {"sqlite": "SQLite", "postgres": "Postgres"}[self.db]
        return f"{name}, {self.processes} process{'es' if self.processes > 1 else ''}"

    @property
    def key(self) -> str:
        return f"{self.db}-{self.processes}"


class PhaseDatabase(ABC):
    """One phase's database: its URL for the bot, and what the benchmark reads back."""

    url: str

    @abstractmethod
    def outbox_by_customer(self) -> dict[str, list[str]]:
        """Every message the bot queued, per customer, in queue order (text bodies)."""

    @abstractmethod
    def open_carts(self) -> int:
        """Customers whose conversation holds a non-empty cart."""

    def counters(self) -> dict[str, int]:
        """The database server's own counters for this database (Postgres), else nothing."""
        return {}

    def server_processes(self) -> tuple[list[int], int | None]:
        """Process ids of the server processes working for this database (its backends and
        the server's shared background writers), and the server's postmaster; SQLite runs in
        the bot's own process, so nothing."""
        return [], None

    @abstractmethod
    def drop(self) -> None:
        """Throw the database away (a SQLite file stays in the temporary work directory)."""


def _message_text(raw: str) -> str:
    message = json.loads(raw)
    return str(message.get("body", "") or raw)


class SqliteFile(PhaseDatabase):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path}"

    def outbox_by_customer(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = defaultdict(list)
        with contextlib.closing(sqlite3.connect(self.path)) as conn:
            for customer, message in conn.execute(
                "SELECT customer_key, message FROM outbox ORDER BY id"
            ):
                found[customer].append(_message_text(message))
        return found

    def open_carts(self) -> int:
        with contextlib.closing(sqlite3.connect(self.path)) as conn:
            rows = conn.execute("SELECT conversation FROM customers").fetchall()
        return sum(1 for (conversation,) in rows if json.loads(conversation).get("cart"))

    def drop(self) -> None:
        pass  # the work directory is temporary; the file is there to look at until then


_database_numbers = itertools.count(1)


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


class ScratchPostgres(PhaseDatabase):
    """A database created for one phase on the Postgres server, dropped by `drop`."""

    def __init__(self, server: str, name: str) -> None:
        self.server = server
        self.name = name
        self.url = _with_database(server, name)

    @classmethod
    def create(cls, server: str, phase: str) -> ScratchPostgres:
        safe = "".join(c if c.isalnum() else "_" for c in phase.lower())[:30]
        name = f"bench_{safe}_{os.getpid()}_{next(_database_numbers)}"
        database = cls(server, name)
        run_sync(database._create)
        return database

    async def _create(self) -> None:
        conn = await asyncpg.connect(self.server)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{self.name}"')
            # Write out what earlier phases left dirty now, not in the middle of this phase.
            await conn.execute("CHECKPOINT")
        finally:
            await conn.close()

    def drop(self) -> None:
        run_sync(lambda: self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.server)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def _fetch(self, sql: str, *args: Any, admin: bool = False) -> list[asyncpg.Record]:
        async def fetch() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(self.server if admin else self.url)
            try:
                return list(await conn.fetch(sql, *args))
            finally:
                await conn.close()

        return run_sync(fetch)

    def outbox_by_customer(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = defaultdict(list)
        for row in self._fetch("SELECT customer_key, message FROM outbox ORDER BY id"):
            found[row["customer_key"]].append(_message_text(row["message"]))
        return found

    def open_carts(self) -> int:
        rows = self._fetch("SELECT conversation FROM customers")
        return sum(1 for row in rows if json.loads(row["conversation"]).get("cart"))

    def counters(self) -> dict[str, int]:
        [database] = self._fetch(
            "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted"
            " FROM pg_stat_database WHERE datname = $1",
            self.name,
            admin=True,
        )
        [tables] = self._fetch(
            "SELECT COALESCE(SUM(autovacuum_count), 0) AS autovacuum_runs,"
            " COALESCE(SUM(autoanalyze_count), 0) AS autoanalyze_runs FROM pg_stat_user_tables"
        )
        return {k: int(v) for k, v in [*database.items(), *tables.items()]}

    def server_processes(self) -> tuple[list[int], int | None]:
        # Background processes (wal writer, checkpointer, …) have no database: they write
        # for everyone, so during a phase mostly for this one.
        rows = self._fetch(
            "SELECT pid, backend_type FROM pg_stat_activity WHERE datname = $1 OR datname IS NULL",
            self.name,
            admin=True,
        )
        pids = [int(row["pid"]) for row in rows]
        # The checkpointer lives as long as the server; its parent is the postmaster.
        lasting = [int(row["pid"]) for row in rows if row["backend_type"] == "checkpointer"]
        return pids, _parent(lasting[0]) if lasting else None


def _parent(pid: int) -> int | None:
    """The postmaster is every backend's parent; None if the server is not on this machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return int(fields[1])


@contextlib.contextmanager
def fresh_database(setup: Setup, workdir: Path, phase: str) -> Iterator[PhaseDatabase]:
    """A new, empty database for one phase (the bot migrates it), thrown away afterwards
    (a SQLite file stays in the work directory, which is temporary)."""
    if setup.db == "sqlite":
        path = workdir / f"{phase}.sqlite3"
        for stale in workdir.glob(f"{phase}.sqlite3*"):
            stale.unlink()
        yield SqliteFile(path)
        return
    database = ScratchPostgres.create(setup.server, phase)
    try:
        yield database
    finally:
        database.drop()
