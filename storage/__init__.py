"""Persistence behind a small async interface (`storage.repository.Store`).

Two backends run the same operations (`storage.ops`): SQLite through one group-committing
writer, the zero-setup default for one process, and Postgres (asyncpg) for any number of
processes on one database.

    applied = await migrate(settings.database_url)   # release step, or tests
    store = await open_store(settings.database_url)  # raises if not migrated
"""

from storage.backends import open_store
from storage.database_url import DatabaseUrlError
from storage.errors import (
    CommitFailedError,
    MigrationError,
    ModeMismatchError,
    SchemaNotMigratedError,
    StorageError,
    StorageUnavailableError,
    StoreClosedError,
    UnknownEventError,
)
from storage.migrate import migrate
from storage.postgres_connection import PostgresOptions
from storage.sqlite import SqliteStore

__all__ = [
    "CommitFailedError",
    "DatabaseUrlError",
    "MigrationError",
    "ModeMismatchError",
    "PostgresOptions",
    "SchemaNotMigratedError",
    "SqliteStore",
    "StorageError",
    "StorageUnavailableError",
    "StoreClosedError",
    "UnknownEventError",
    "migrate",
    "open_store",
]
