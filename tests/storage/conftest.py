"""Fixtures for storage tests: a freshly migrated store per test, on each backend."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import open_store
from storage.repository import Store
from tests.storage.store_support import Shop


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "shop.sqlite3"


@pytest.fixture
def db_url(db_path: Path) -> str:
    """A SQLite file not yet migrated (for tests of migrating and opening)."""
    return f"sqlite:///{db_path}"  # an absolute path gives the four-slash form


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    store = await open_store(database_url)
    yield store
    await store.close()


@pytest.fixture
def shop(store: Store) -> Shop:
    return Shop(store)
