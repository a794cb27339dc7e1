from pathlib import Path

import pytest

from storage.database_url import DatabaseUrlError, sqlite_path


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///bot.sqlite3", Path("bot.sqlite3")),
        ("sqlite:///data/shop.sqlite3", Path("data/shop.sqlite3")),
        ("sqlite:////var/lib/shop/shop.sqlite3", Path("/var/lib/shop/shop.sqlite3")),
        ("SQLite:///Data/Shop.db", Path("Data/Shop.db")),
        ("  sqlite:///shop.db\n", Path("shop.db")),  # pasted with stray whitespace
        ("sqlite:///my%20shop.db", Path("my shop.db")),
    ],
)
def test_sqlite_urls_name_a_file(url: str, expected: Path) -> None:
    assert sqlite_path(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "postgres://user:secret@db.example.com:5432/shop",
        "postgresql://db/shop",
        "postgresql+asyncpg://db/shop",
    ],
)
def test_postgres_is_refused_with_advice(url: str) -> None:
    with pytest.raises(DatabaseUrlError, match="Postgres, which is not supported yet") as info:
        sqlite_path(url)
    assert "sqlite:///" in str(info.value)
    assert "secret" not in str(info.value)


def test_in_memory_is_refused() -> None:
    with pytest.raises(DatabaseUrlError, match="in-memory"):
        sqlite_path("sqlite:///:memory:")


@pytest.mark.parametrize(
    "url",
    [
        "",
        "shop.sqlite3",
        "sqlite://",
        "sqlite:///",
        "sqlite://host/shop.db",
        "sqlite:///data/",
        "sqlite:///shop.db?mode=ro",
        "mysql://user:secret@db/shop",
        "file:shop.db",
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    with pytest.raises(DatabaseUrlError) as info:
        sqlite_path(url)
    assert "secret" not in str(info.value)
