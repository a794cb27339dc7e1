"""Persistence behind a small async interface (`storage.repository.Store`).

SQLite through one group-committing writer is the embedded default; the SQL is kept portable
so a Postgres backend can implement the same interface.

    applied = await migrate(settings.database_url)   # release step, or tests
    store = await open_store(settings.database_url)  # raises if not migrated
"""

from storage.database_url import DatabaseUrlError
from storage.errors import (
    CommitFailedError,
    MigrationError,
    SchemaNotMigratedError,
    StorageError,
    StoreClosedError,
    UnknownEventError,
)
from storage.migrate import migrate
from storage.sqlite import SqliteStore, open_store

__all__ = [
    "CommitFailedError",
    "DatabaseUrlError",
    "MigrationError",
    "SchemaNotMigratedError",
    "SqliteStore",
    "StorageError",
    "StoreClosedError",
    "UnknownEventError",
    "migrate",
    "open_store",
]
