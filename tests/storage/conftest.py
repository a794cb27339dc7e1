"""Fixtures for storage tests: a freshly migrated SQLite file per test."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import migrate
from storage.sqlite import SqliteStore
from tests.storage.sqlite_support import Shop


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "shop.sqlite3"


@pytest.fixture
def db_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"  # an absolute path gives the four-slash form


@pytest.fixture
async def store(db_url: str, db_path: Path) -> AsyncIterator[SqliteStore]:
    await migrate(db_url)
    store = await SqliteStore.open(db_path)
    yield store
    await store.close()


@pytest.fixture
def shop(store: SqliteStore) -> Shop:
    return Shop(store)
