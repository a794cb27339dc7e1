"""`Store` on a SQLite file: one group-committing writer, a few readers (see `sqlite_engine`).

Open with `await open_store(settings.database_url)` after `migrate` has run; close with
`await store.close()`, which lets every write already submitted finish first.
"""

import sqlite3
from functools import partial
from pathlib import Path
from typing import Self, TypeVar

from storage import ops
from storage.database_url import sqlite_path
from storage.errors import ConstraintViolationError, SchemaNotMigratedError, StoreClosedError
from storage.migrate import check_schema
from storage.op_store import OpStore
from storage.query import OpFactory, run_sqlite
from storage.repository import DeadLetterHook, Store
from storage.sqlite_engine import (
    DEFAULT_MAX_BATCH,
    DEFAULT_READERS,
    GroupCommitWriter,
    ReaderPool,
    WriteStats,
)

T = TypeVar("T")


async def open_store(url: str, *, on_dead_letter: DeadLetterHook | None = None) -> Store:
    """Open the SQLite file a `sqlite:///` URL names. Does not migrate: raises
    `SchemaNotMigratedError` if migrations are missing, `DatabaseUrlError` for a bad URL."""
    return await SqliteStore.open(sqlite_path(url), on_dead_letter=on_dead_letter)


class SqliteStore(OpStore):
    """One process owns the file: operations run in the group-committing writer or on a
    reader, and every claim succeeds."""

    def __init__(
        self,
        writer: GroupCommitWriter,
        readers: ReaderPool,
        path: Path,
        on_dead_letter: DeadLetterHook | None = None,
    ) -> None:
        super().__init__(on_dead_letter)
        self._path = path
        self._writer = writer
        self._readers = readers

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        readers: int = DEFAULT_READERS,
        max_batch: int = DEFAULT_MAX_BATCH,
        on_dead_letter: DeadLetterHook | None = None,
    ) -> Self:
        path = Path(path)
        # Checked first: connecting would silently create an empty file.
        if not path.is_file():
            raise SchemaNotMigratedError(
                f"no database at {path}: run `python -m bot migrate` first"
            )
        pool = ReaderPool(path, readers)
        try:
            await pool.run(check_schema)
            writer = await GroupCommitWriter.start(path, max_batch)
        except BaseException:
            await pool.close()
            raise
        return cls(writer, pool, path, on_dead_letter)

    @property
    def write_stats(self) -> WriteStats:
        """Batches and units committed so far; units/batches > 1 means group commit works."""
        return self._writer.stats

    async def ping(self) -> None:
        if not self._writer.alive:
            raise StoreClosedError("the store's writer is not running")
        await self._read(ops.ping)

    def describe(self) -> dict[str, object]:
        return {"backend": "sqlite", "file": str(self._path), "shared_by_processes": False}

    async def close(self) -> None:
        await self._writer.close()
        await self._readers.close()

    async def _read(self, op: OpFactory[T]) -> T:
        return await self._readers.run(partial(run_sqlite, op))

    async def _lookup(self, op: OpFactory[T]) -> T:
        return await self._readers.run_inline(partial(run_sqlite, op))

    async def _write(self, op: OpFactory[T]) -> T:
        try:
            return await self._writer.submit(partial(run_sqlite, op))
        except sqlite3.IntegrityError as error:
            raise ConstraintViolationError(str(error)) from error
