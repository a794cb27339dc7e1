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
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from storage.migrate import migrate

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


def fresh_postgres_url() -> Iterator[str]:
    """A new database copied from the template; dropped when the generator is closed."""
    server = require_postgres()
    name = f"shop_test_{os.getpid()}_{next(_names)}_{uuid.uuid4().hex[:6]}"
    asyncio.run(_admin(server.admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{server.template}"'))
    try:
        yield server.url_of(name)
    finally:
        asyncio.run(_admin(server.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def drop_template() -> None:
    server = postgres_server() if postgres_server.cache_info().currsize else None
    if server is not None:
        asyncio.run(
            _admin(server.admin_url, f'DROP DATABASE IF EXISTS "{server.template}" WITH (FORCE)')
        )


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
