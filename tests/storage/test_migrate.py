import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from storage import SchemaNotMigratedError, migrate, open_store
from storage.errors import MigrationError
from storage.migrate import Dialect, migrations, required_version, split_statements

TABLES = {
    "customers",
    "events",
    "orders",
    "order_status_history",
    "outbox",
    "jobs",
    "schema_migrations",
}


def _tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in rows}


async def test_migrate_from_empty_then_nothing(db_url: str, db_path: Path) -> None:
    assert await migrate(db_url) == [m.version for m in migrations()]
    assert await migrate(db_url) == []
    assert _tables(db_path) >= TABLES


async def test_migrate_switches_the_file_to_wal(db_url: str, db_path: Path) -> None:
    await migrate(db_url)
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_migrations_are_numbered_from_one() -> None:
    # Numbers are handed out to parallel work ahead of time, so one may be missing for a while;
    # they still start at one, only grow, and each dialect has the same ones.
    versions = [m.version for m in migrations()]
    assert versions[0] == 1
    assert versions == sorted(set(versions))
    assert versions == [m.version for m in migrations(Dialect.POSTGRES)]
    assert required_version() == versions[-1]


async def test_open_store_refuses_a_missing_file(db_url: str, db_path: Path) -> None:
    with pytest.raises(SchemaNotMigratedError, match="migrate"):
        await open_store(db_url)
    # Opening must not leave an empty database behind.
    assert not await asyncio.to_thread(db_path.exists)


async def test_open_store_refuses_an_unmigrated_file(db_url: str, db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    sqlite3.connect(db_path).close()
    with pytest.raises(SchemaNotMigratedError, match="not migrated"):
        await open_store(db_url)


async def test_open_store_refuses_a_partly_migrated_file(db_url: str, db_path: Path) -> None:
    await migrate(db_url)
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("DELETE FROM schema_migrations")
        conn.commit()
    with pytest.raises(SchemaNotMigratedError, match="missing"):
        await open_store(db_url)


async def test_open_store_after_migrate(db_url: str) -> None:
    await migrate(db_url)
    store = await open_store(db_url)
    await store.ping()
    await store.close()


def test_split_statements_keeps_comments_and_multiline_statements() -> None:
    sql = (
        "-- a table\nCREATE TABLE t (\n  a INTEGER -- the a; really\n);\nCREATE INDEX i ON t (a);\n"
    )
    assert split_statements(sql) == (
        "-- a table\nCREATE TABLE t (\n  a INTEGER -- the a; really\n);",
        "CREATE INDEX i ON t (a);",
    )


def test_split_statements_refuses_a_missing_semicolon() -> None:
    with pytest.raises(MigrationError, match="unterminated"):
        split_statements("CREATE TABLE t (a INTEGER);\nCREATE INDEX i ON t (a)\n-- end\n")
