from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.shop_config import load_shop_config
from flows.catalog import ShopConfig
from storage import open_store
from storage.migrate import migrate_path
from storage.repository import Store
from tests.support.databases import BACKENDS, drop_test_databases, fresh_postgres_url

REPO = Path(__file__).resolve().parents[1]

# Every test stays inside the repository: a fresh clone has nothing beside it.
pytest_plugins = ["tests.repository_fence"]


@pytest.fixture
def shop_config() -> ShopConfig:
    """The sample shop a merchant starts from: the repository's own config.toml."""
    return load_shop_config(REPO / "config.toml")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated database, once on SQLite and once on Postgres: what runs on this
    fixture runs on both backends."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
        migrate_path(tmp_path / "shop.sqlite3")
        yield url
    else:
        yield from fresh_postgres_url()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """An open store on each backend's fresh database (tests/admin has its own: the app's)."""
    store = await open_store(database_url)
    yield store
    await store.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A freshly migrated Postgres database (skips where no server answers, fails in CI)."""
    yield from fresh_postgres_url()


def pytest_sessionfinish(session: pytest.Session) -> None:
    drop_test_databases()
