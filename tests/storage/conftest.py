"""Fixtures for storage tests (the open store itself, on each backend, is tests/conftest.py's)."""

from pathlib import Path

import pytest

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
def shop(store: Store) -> Shop:
    return Shop(store)
