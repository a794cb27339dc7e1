"""Fresh, migrated databases for tests, on SQLite and on Postgres.

Postgres: the server `TEST_DATABASE_URL` names, else the one on 127.0.0.1:5432 (user postgres,
trust authentication: how the development and CI machines run it). One template database is
migrated per test session; each test gets a copy of it (`CREATE DATABASE … TEMPLATE`, tens of
milliseconds) and it is dropped afterwards. Without a reachable server the Postgres cases
skip, saying how to enable them; under CI (`CI` set) they fail instead, so they can never be
skipped there silently.
"""

import asyncio
import itertools
import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from storage.database_url import SqliteDatabase, parse_database_url
from storage.migrate import migrate
from storage.query import postgres_sql

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
ENABLE_HINT = (
    "PostgreSQL tests need a server: start one on 127.0.0.1:5432 (user postgres, trust "
    "authentication), or set TEST_DATABASE_URL=postgresql://user:password@host:5432/postgres "
    "(a role that may CREATE DATABASE)"
)
BACKENDS = ("sqlite", "postgres")

_names = itertools.count(1)


@dataclass(frozen=True, slots=True)
class PostgresServer:
    admin_url: str  # a database to run CREATE/DROP DATABASE from
    template: str  # migrated once per session

    def url_of(self, database: str) -> str:
        parts = urlsplit(self.admin_url)
        return urlunsplit(parts._replace(path=f"/{database}"))


@cache
def postgres_server() -> PostgresServer | None:
    """The test server, with a migrated template database; None if none answers."""
    admin_url = os.environ.get("TEST_DATABASE_URL", DEFAULT_SERVER)
    if not asyncio.run(_answers(admin_url)):
        return None
    template = f"shop_test_template_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    server = PostgresServer(admin_url, template)
    asyncio.run(_create_template(server))
    return server


def require_postgres() -> PostgresServer:
    """The server, or skip (fail under CI) with how to enable these tests."""
    server = postgres_server()
    if server is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests, but no server answers. {ENABLE_HINT}")
        pytest.skip(ENABLE_HINT)
    return server


_recycled: list[str] = []  # migrated databases emptied after their test, ready for the next
_created: list[str] = []
SHOP_TABLES = (
    "customers, events, orders, order_status_history, outbox, jobs, shop_meta, "
    "merchant_alerts, refunds, reminders, stock, stock_holds, admin_login_attempts, "
    "admin_form_uses, payment_checks"  # every table
)


def fresh_postgres_url() -> Iterator[str]:
    """An empty, migrated database for one test. Creating one from the template takes about
    a third of a second, emptying one a few milliseconds: databases are recycled."""
    server = require_postgres()
    name = _recycled.pop() if _recycled else _new_database(server, template=server.template)
    url = server.url_of(name)
    try:
        yield url
    finally:
        if asyncio.run(_emptied(url)):
            _recycled.append(name)
        else:
            asyncio.run(_admin(server.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def empty_postgres_url() -> Iterator[str]:
    """A database with no tables at all (for tests of migrating), dropped afterwards."""
    server = require_postgres()
    name = _new_database(server, template=None)
    try:
        yield server.url_of(name)
    finally:
        asyncio.run(_admin(server.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def drop_test_databases() -> None:
    if not postgres_server.cache_info().currsize:
        return  # no test asked for Postgres
    server = postgres_server()
    if server is None:
        return
    for name in [*_created, server.template]:
        asyncio.run(_admin(server.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _new_database(server: PostgresServer, template: str | None) -> str:
    name = f"shop_test_{os.getpid()}_{next(_names)}_{uuid.uuid4().hex[:6]}"
    source = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(_admin(server.admin_url, f'CREATE DATABASE "{name}"{source}'))
    _created.append(name)
    return name


async def _emptied(url: str) -> bool:
    """Empty every table for the next test; False if that could not be done cleanly (a
    connection a test left behind still holds locks, or the schema was changed)."""
    try:
        conn = await asyncpg.connect(url, timeout=10, ssl=False)
    except (OSError, asyncpg.PostgresError):
        return False
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        await conn.execute("SET lock_timeout = '5s'")
        await conn.execute(f"TRUNCATE {SHOP_TABLES} RESTART IDENTITY CASCADE")
    except asyncpg.PostgresError:
        return False
    finally:
        await conn.close()
    return True


async def _answers(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3, ssl=False)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
        return False
    await conn.close()
    return True


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url, timeout=10, ssl=False)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _create_template(server: PostgresServer) -> None:
    await _admin(server.admin_url, f'CREATE DATABASE "{server.template}"')
    await migrate(server.url_of(server.template))


async def query_scalar(url: str, sql: str) -> int:
    """One number read from outside the app, on either backend (e.g. a row count)."""
    database = parse_database_url(url)
    if isinstance(database, SqliteDatabase):
        with closing(sqlite3.connect(database.path)) as conn:
            return int(conn.execute(sql).fetchone()[0])
    conn = await asyncpg.connect(database.dsn, ssl=False)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def table_counts(url: str, tables: Iterable[str]) -> dict[str, int]:
    """Rows per table, read from outside the app in one query."""
    tables = tuple(tables)
    counts = ", ".join(f"(SELECT count(*) FROM {t})" for t in tables)  # noqa: S608 - fixed names
    database = parse_database_url(url)
    if isinstance(database, SqliteDatabase):
        with closing(sqlite3.connect(database.path)) as conn:
            row = conn.execute(f"SELECT {counts}").fetchone()
    else:
        conn = await asyncpg.connect(database.dsn, ssl=False)
        try:
            row = await conn.fetchrow(f"SELECT {counts}")
        finally:
            await conn.close()
    return {t: int(n) for t, n in zip(tables, row, strict=True)}


async def execute(url: str, sql: str, *params: object) -> None:
    """Run one statement from outside the app (`?` placeholders), on either backend: how a
    test plants a row the app would never write."""
    database = parse_database_url(url)
    if isinstance(database, SqliteDatabase):
        with closing(sqlite3.connect(database.path)) as conn:
            conn.execute(sql, params)
            conn.commit()
        return
    conn = await asyncpg.connect(database.dsn, ssl=False)
    try:
        await conn.execute(postgres_sql(sql), *params)
    finally:
        await conn.close()
