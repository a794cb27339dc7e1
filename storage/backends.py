"""Open the store `DATABASE_URL` names: a SQLite file or a Postgres server."""

from storage.database_url import SqliteDatabase, parse_database_url
from storage.postgres_connection import PostgresOptions
from storage.repository import DeadLetterHook, Store


async def open_store(
    url: str,
    *,
    postgres: PostgresOptions | None = None,
    on_dead_letter: DeadLetterHook | None = None,
) -> Store:
    """Does not migrate: raises `SchemaNotMigratedError` if migrations are missing,
    `DatabaseUrlError` for a bad URL, `StorageUnavailableError` for a server out of reach."""
    database = parse_database_url(url)
    if isinstance(database, SqliteDatabase):
        from storage.sqlite import SqliteStore

        return await SqliteStore.open(database.path, on_dead_letter=on_dead_letter)
    from storage.postgres import PostgresStore

    return await PostgresStore.open(
        database, postgres or PostgresOptions(), on_dead_letter=on_dead_letter
    )
