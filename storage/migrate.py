"""Numbered SQL migrations: `storage/migrations/NNNN_name.sql`, applied in order, each in its
own transaction, recorded in `schema_migrations`. Running it again applies nothing.

Run it before the app starts (a `release:` step): `python -m bot migrate`.
"""

import asyncio
import re
import sqlite3
import time
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from storage.database_url import sqlite_path
from storage.errors import MigrationError, SchemaNotMigratedError
from storage.sqlite_engine import connect, enable_wal

_PACKAGE = "storage.migrations"
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


async def migrate(url: str) -> list[int]:
    """Apply every migration the database at `url` lacks; returns the versions applied."""
    path = sqlite_path(url)
    return await asyncio.to_thread(migrate_path, path)


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
def migrations() -> tuple[Migration, ...]:
    """Every migration shipped with the code, in version order."""
    found: dict[int, Migration] = {}
    for entry in resources.files(_PACKAGE).iterdir():
        match = _FILE_NAME.match(entry.name)
        if match is None:
            continue
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migrations share version {version}")
        found[version] = Migration(version, entry.name, split_statements(entry.read_text()))
    return tuple(found[v] for v in sorted(found))


def required_version() -> int:
    return migrations()[-1].version


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
