from pathlib import Path

import pytest

from storage.database_url import (
    DatabaseUrlError,
    PostgresDatabase,
    SqliteDatabase,
    parse_database_url,
    sqlite_path,
)


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
    ("url", "dsn", "host"),
    [
        # Heroku's form
        (
            "postgres://user:secret@db.example.com:5432/shop",
            "postgresql://user:secret@db.example.com:5432/shop",
            "db.example.com",
        ),
        ("postgresql://db/shop", "postgresql://db/shop", "db"),
        ("postgresql+asyncpg://db/shop", "postgresql://db/shop", "db"),
        (
            "postgresql:///shop?host=/run/postgresql",
            "postgresql:///shop?host=/run/postgresql",
            "/run/postgresql",
        ),
    ],
)
def test_postgres_urls_name_a_server(url: str, dsn: str, host: str) -> None:
    database = parse_database_url(url)
    assert isinstance(database, PostgresDatabase)
    assert (database.dsn, database.host) == (dsn, host)


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("postgres://u@localhost/shop", True),
        ("postgres://u@127.0.0.1:5432/shop", True),
        ("postgres://u@[::1]/shop", True),
        ("postgresql:///shop?host=/var/run/postgresql", True),
        ("postgres://u:p@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d8x", False),
        ("postgres://u@127.0.0.2:5432/shop", True),  # all of 127/8 is loopback
        ("postgresql://%2Fvar%2Frun%2Fpostgresql/shop", True),  # a socket directory, encoded
        ("postgres://u@localhost:5432,127.0.0.1:5433/shop", True),
        # A failover list with one remote host: that host must not be reached in clear.
        ("postgres://u@localhost:5432,db2.example.in:5432/shop", False),
    ],
)
def test_local_servers_are_told_apart(url: str, local: bool) -> None:
    database = parse_database_url(url)
    assert isinstance(database, PostgresDatabase)
    assert database.is_local is local


def test_a_port_that_is_not_a_number_is_named_at_start() -> None:
    with pytest.raises(DatabaseUrlError, match="port must be a number"):
        parse_database_url("postgres://u:secret@db.example.com:54x2/shop")


def test_sslmode_is_read_from_the_url_and_checked() -> None:
    database = parse_database_url("postgres://u@db/shop?sslmode=verify-full")
    assert isinstance(database, PostgresDatabase)
    assert database.sslmode == "verify-full"
    with pytest.raises(DatabaseUrlError, match="sslmode must be one of"):
        parse_database_url("postgres://u@db/shop?sslmode=sometimes")


def test_a_sqlite_path_is_not_taken_from_a_postgres_url() -> None:
    with pytest.raises(DatabaseUrlError, match="Postgres server, not a SQLite file"):
        sqlite_path("postgres://user:secret@db.example.com/shop")


def test_sqlite_urls_parse_to_a_file() -> None:
    assert parse_database_url("sqlite:///shop.db") == SqliteDatabase(Path("shop.db"))


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
