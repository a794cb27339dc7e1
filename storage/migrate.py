"""Numbered SQL migrations, one folder per dialect: `storage/migrations/{sqlite,postgres}/
NNNN_name.sql`, the same versions in both. Each is applied in its own transaction and recorded
in `schema_migrations`; running it again applies nothing.

Run it before the app starts (the Procfile's `release:` step): `python -m bot migrate`. On
Postgres every migration takes an advisory lock first, so two migrators at once (two releases,
a release and a manual run) apply each migration exactly once. Migrations only add (columns,
tables, indexes): the previous release's processes keep serving while the release phase runs.
"""

import asyncio
import re
import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path

import asyncpg

from storage import postgres_connection
from storage.database_url import PostgresDatabase, SqliteDatabase, parse_database_url
from storage.errors import MigrationError, SchemaNotMigratedError, StorageUnavailableError
from storage.postgres_connection import PostgresOptions
from storage.sqlite_engine import connect, enable_wal


class Dialect(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"


_PACKAGE = "storage.migrations"
MIGRATION_LOCK = (0x5B07, 0)  # advisory lock key (two int4s) the Postgres migrator holds
LOCK_TIMEOUT_RETRIES = 5  # DDL waiting on a busy table gives up after lock_timeout; try again
_FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_NOT_MIGRATED = "the database schema is not migrated: run `python -m bot migrate` first"
_CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


async def migrate(url: str, options: PostgresOptions | None = None) -> list[int]:
    """Apply every migration the database at `url` lacks; returns the versions applied."""
    database = parse_database_url(url)
    if isinstance(database, SqliteDatabase):
        return await asyncio.to_thread(migrate_path, database.path)
    return await migrate_postgres(database, options or PostgresOptions())


def migrate_path(path: Path) -> list[int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Foreign keys off: SQLite's table-rebuild recipe for ALTERs needs it; each migration is
    # checked with foreign_key_check before it commits instead.
    conn = connect(path, foreign_keys=False)
    try:
        enable_wal(conn)
        conn.execute(_CREATE_LEDGER)
        return [m.version for m in migrations() if _apply(conn, m)]
    finally:
        conn.close()


@cache
def migrations(dialect: Dialect = Dialect.SQLITE) -> tuple[Migration, ...]:
    """Every migration shipped with the code for `dialect`, in version order."""
    found: dict[int, Migration] = {}
    for entry in resources.files(f"{_PACKAGE}.{dialect.value}").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            continue
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migrations share version {version}")
        found[version] = Migration(version, entry.name, split_statements(entry.read_text()))
    return tuple(found[v] for v in sorted(found))


def required_version(dialect: Dialect = Dialect.SQLITE) -> int:
    return migrations(dialect)[-1].version


def check_schema(conn: sqlite3.Connection) -> None:
    """Raise `SchemaNotMigratedError` unless every shipped migration has been applied."""
    try:
        rows = conn.execute("SELECT version FROM schema_migrations").fetchall()
    except sqlite3.OperationalError as exc:  # no ledger table: never migrated
        raise SchemaNotMigratedError(_NOT_MIGRATED) from exc
    missing = {m.version for m in migrations()} - {int(row[0]) for row in rows}
    if missing:
        raise SchemaNotMigratedError(f"{_NOT_MIGRATED} (missing: {sorted(missing)})")


def split_statements(sql: str) -> tuple[str, ...]:
    """One statement per `execute`: the driver's executescript would COMMIT our transaction."""
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if any(line.strip() and not line.strip().startswith("--") for line in buffer.splitlines()):
        raise MigrationError(f"unterminated SQL statement: {buffer.strip()[:80]!r}")
    return tuple(statements)


def _apply(conn: sqlite3.Connection, migration: Migration) -> bool:
    # IMMEDIATE takes the write lock before the check, so two migrators cannot both apply.
    conn.execute("BEGIN IMMEDIATE")
    try:
        applied = conn.execute(
            "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
        ).fetchone()
        if applied is None:
            _run(conn, migration)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return applied is None


def _run(conn: sqlite3.Connection, migration: Migration) -> None:
    for statement in migration.statements:
        try:
            conn.execute(statement)
        except sqlite3.Error as exc:
            raise MigrationError(f"{migration.name} failed: {exc}\n{statement}") from exc
    if conn.execute("PRAGMA foreign_key_check").fetchall():
        raise MigrationError(f"{migration.name} leaves rows that break foreign keys")
    conn.execute(
        "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
        (migration.version, int(time.time())),
    )


# --- Postgres ------------------------------------------------------------------------------------

_CREATE_PG_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    applied_at BIGINT NOT NULL
)
"""


async def migrate_postgres(database: PostgresDatabase, options: PostgresOptions) -> list[int]:
    try:
        conn = await postgres_connection.connect(database, options)
    except postgres_connection.UNAVAILABLE_ERRORS as error:
        raise StorageUnavailableError(f"cannot reach the database: {error}") from error
    try:
        return [m.version for m in migrations(Dialect.POSTGRES) if await _apply_pg(conn, m)]
    finally:
        await conn.close()


async def _apply_pg(conn: asyncpg.Connection, migration: Migration) -> bool:
    for attempt in range(1, LOCK_TIMEOUT_RETRIES + 1):
        try:
            return await _apply_pg_once(conn, migration)
        except asyncpg.LockNotAvailableError:
            if attempt == LOCK_TIMEOUT_RETRIES:
                raise
            await asyncio.sleep(attempt)
    raise AssertionError("unreachable")  # pragma: no cover


async def _apply_pg_once(conn: asyncpg.Connection, migration: Migration) -> bool:
    async with conn.transaction():
        # Migrations may run long (an index on a big table); the lock wait stays short, so a
        # DDL statement queued behind a busy table does not stall every query behind it.
        await conn.execute("SET LOCAL statement_timeout = 0")
        await conn.execute("SET LOCAL lock_timeout = '5s'")
        # Held until COMMIT: a second migrator waits here, then finds the version recorded.
        await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", *MIGRATION_LOCK)
        await conn.execute(_CREATE_PG_LEDGER)
        if await conn.fetchval(
            "SELECT 1 FROM schema_migrations WHERE version = $1", migration.version
        ):
            return False
        for statement in migration.statements:
            try:
                await conn.execute(statement)
            except asyncpg.PostgresError as exc:
                if isinstance(exc, asyncpg.LockNotAvailableError):
                    raise
                raise MigrationError(f"{migration.name} failed: {exc}\n{statement}") from exc
        await conn.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            migration.version,
            int(time.time()),
        )
    return True


async def check_postgres_schema(
    conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy,
) -> None:
    """Raise `SchemaNotMigratedError` unless every shipped migration has been applied."""
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations")
    except asyncpg.UndefinedTableError as exc:
        raise SchemaNotMigratedError(_NOT_MIGRATED) from exc
    missing = {m.version for m in migrations(Dialect.POSTGRES)} - {int(r[0]) for r in rows}
    if missing:
        raise SchemaNotMigratedError(f"{_NOT_MIGRATED} (missing: {sorted(missing)})")
