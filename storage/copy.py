"""Move a shop from a SQLite file to Postgres: every customer, conversation, order, status
change, event, pending message and job, in one transaction, checked by counting.

Both databases are migrated first (the same versions give the same tables and columns). The
target must be empty: copying into a live shop's database would mix two shops' orders. Ids
are kept, so every reference (outbox → event, job → order) still holds, and each identity
sequence is moved past the largest copied id so new rows never collide.
"""

import asyncio
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from storage import postgres_connection
from storage.database_url import PostgresDatabase, SqliteDatabase, parse_database_url
from storage.errors import StorageError
from storage.migrate import migrate
from storage.postgres_connection import PostgresOptions

TABLES = (
    "shop_meta",
    "customers",
    "orders",
    "order_status_history",
    "events",
    "outbox",
    "jobs",
    "merchant_alerts",
    "refunds",
    "reminders",
    "stock",
    "stock_holds",
    "admin_login_attempts",
    "admin_form_uses",
    "payment_checks",
)
"""Every table of the shop, parents before children (the foreign keys hold at each step)."""

IDENTITY_TABLES = (
    "order_status_history",
    "events",
    "outbox",
    "jobs",
    "merchant_alerts",
    "refunds",
    "reminders",
)


class CopyRefusedError(StorageError):
    """The copy cannot start (wrong kinds of URL, a target that already holds data) or did
    not check out; nothing was written to the target."""


@dataclass(frozen=True, slots=True)
class CopyReport:
    rows: dict[str, int]  # per table, equal in source and target


async def copy_database(
    source_url: str, target_url: str, options: PostgresOptions | None = None
) -> CopyReport:
    source = parse_database_url(source_url)
    target = parse_database_url(target_url)
    if not isinstance(source, SqliteDatabase):
        raise CopyRefusedError("--from must be a SQLite URL (sqlite:///path/to/bot.sqlite3)")
    if not isinstance(target, PostgresDatabase):
        raise CopyRefusedError("--to must be a Postgres URL (postgres://user:pass@host/db)")
    if not await asyncio.to_thread(source.path.is_file):
        raise CopyRefusedError(f"no SQLite database at {source.path}")
    options = options or PostgresOptions()
    await migrate(source_url)  # an older file gains the columns the target has
    await migrate(target_url, options)
    rows = await asyncio.to_thread(_read_all, source.path)
    await _write_all(target, options, rows)
    return CopyReport({table: len(rows[table][1]) for table in TABLES})


def _read_all(path: Path) -> dict[str, tuple[list[str], list[tuple[object, ...]]]]:
    """Every row of every table, from one read transaction (a consistent snapshot even if the
    bot is still running on the file)."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("BEGIN")
        found = {}
        for table in TABLES:
            cursor = conn.execute(f"SELECT * FROM {table} ORDER BY rowid")  # noqa: S608 - fixed names
            columns = [d[0] for d in cursor.description]
            found[table] = (columns, [tuple(row) for row in cursor.fetchall()])
        conn.execute("COMMIT")
    return found


async def _write_all(
    target: PostgresDatabase,
    options: PostgresOptions,
    rows: dict[str, tuple[list[str], list[tuple[object, ...]]]],
) -> None:
    conn = await postgres_connection.connect(target, options)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL statement_timeout = 0")
            for table in TABLES:
                if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):  # noqa: S608
                    raise CopyRefusedError(
                        f"the target database already holds data (table {table}); copy only "
                        f"into an empty database"
                    )
            for table in TABLES:
                columns, records = rows[table]
                if records:
                    await conn.copy_records_to_table(table, records=records, columns=columns)
            for table in IDENTITY_TABLES:
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
            for table in TABLES:
                copied = await conn.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
                if copied != len(rows[table][1]):
                    raise CopyRefusedError(
                        f"{table}: {len(rows[table][1])} rows read but {copied} in the target; "
                        f"nothing was copied"
                    )
    finally:
        await conn.close()
