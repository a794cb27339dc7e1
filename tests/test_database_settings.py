"""DATABASE_URL, DATABASE_SSL and DATABASE_POOL_SIZE: what the Postgres backend is handed."""

import pytest

from bot.database_settings import DatabaseKind, DatabaseSsl, database_kind
from bot.settings import REQUIRED_IN_LIVE_MODE, SettingsError, load_settings

LIVE_ENV = {name: f"value-of-{name.lower()}" for name in REQUIRED_IN_LIVE_MODE}
HEROKU_POSTGRES = "postgres://u1:p4ssw0rd@ec2-3-91-1-1.compute-1.amazonaws.com:5432/d3"


def ssl_for(url: str, **env: str) -> DatabaseSsl:
    return load_settings({**LIVE_ENV, "DATABASE_URL": url, **env}).database_ssl_mode


@pytest.mark.parametrize(
    "url",
    [
        HEROKU_POSTGRES,  # what Heroku Postgres sets
        "postgresql://shop@db.example.in:5432/shop",
        "sqlite:///bot.sqlite3",
        "sqlite:////data/bot.sqlite3",
    ],
)
def test_sqlite_and_both_postgres_spellings_are_accepted(url: str) -> None:
    assert load_settings({**LIVE_ENV, "DATABASE_URL": url}).database_url == url


def test_the_kind_of_database_follows_the_scheme() -> None:
    assert database_kind(HEROKU_POSTGRES) is DatabaseKind.POSTGRES
    assert database_kind("postgresql:///shop") is DatabaseKind.POSTGRES
    assert database_kind("sqlite:///bot.sqlite3") is DatabaseKind.SQLITE


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("mysql://root:p4ssw0rd@db/shop", "postgres://user:password@host:5432/database"),
        ("postgresql+asyncpg://u:p4ssw0rd@db/shop", "use postgres:// or postgresql://"),
        ("postgres://u:p4ssw0rd@db:fivefourthreetwo/shop", "port"),
        ("postgres://u:p4ssw0rd@db/shop?sslmode=verify-ca", "sslmode=verify-ca"),
        ("sqlite:bot.sqlite3", "sqlite:///relative/path.sqlite3"),
    ],
)
def test_an_unusable_url_is_named_without_its_password(url: str, hint: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**LIVE_ENV, "DATABASE_URL": url})
    message = str(raised.value)
    assert "DATABASE_URL" in message
    assert hint in message
    assert "p4ssw0rd" not in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # Heroku Postgres: TLS is required, and the small plans' certificates cannot be verified.
        (HEROKU_POSTGRES, DatabaseSsl.REQUIRE),
        ("postgresql://shop@db.example.in/shop", DatabaseSsl.REQUIRE),
        ("postgres://shop@10.0.0.7/shop", DatabaseSsl.REQUIRE),
        # A database on this machine speaks no TLS.
        ("postgres://postgres@localhost/shop", DatabaseSsl.DISABLE),
        ("postgres://postgres@127.0.0.1:5432/shop", DatabaseSsl.DISABLE),
        ("postgres://postgres@[::1]:5432/shop", DatabaseSsl.DISABLE),
        ("postgresql:///shop", DatabaseSsl.DISABLE),  # libpq's default unix socket
        ("postgresql:///shop?host=/var/run/postgresql", DatabaseSsl.DISABLE),
        ("postgresql://%2Fvar%2Frun%2Fpostgresql/shop", DatabaseSsl.DISABLE),
        # Failover to a remote host needs TLS even when the first host is local.
        ("postgres://u@localhost:5432,db2.example.in:5432/shop", DatabaseSsl.REQUIRE),
        ("postgresql:///shop?host=/tmp,db2.example.in", DatabaseSsl.REQUIRE),
    ],
)
def test_tls_is_automatic_by_host(url: str, expected: DatabaseSsl) -> None:
    assert ssl_for(url) is expected


def test_an_sslmode_in_the_url_overrides_the_automatic_choice() -> None:
    assert ssl_for("postgres://u@db.example.in/shop?sslmode=verify-full") is DatabaseSsl.VERIFY_FULL
    assert ssl_for("postgres://u@localhost/shop?sslmode=require") is DatabaseSsl.REQUIRE


def test_database_ssl_overrides_the_url_and_the_automatic_choice() -> None:
    # Heroku manages DATABASE_URL itself; DATABASE_SSL is the knob a merchant can turn there.
    assert ssl_for(HEROKU_POSTGRES, DATABASE_SSL="verify-full") is DatabaseSsl.VERIFY_FULL
    url = "postgres://u@localhost/shop?sslmode=require"
    assert ssl_for(url, DATABASE_SSL="disable") is DatabaseSsl.DISABLE
    assert ssl_for(HEROKU_POSTGRES, DATABASE_SSL=" Prefer ") is DatabaseSsl.PREFER


def test_an_unknown_database_ssl_is_named_with_the_choices() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**LIVE_ENV, "DATABASE_SSL": "on"})
    message = str(raised.value)
    assert "DATABASE_SSL" in message
    for choice in ("disable", "prefer", "require", "verify-full"):
        assert choice in message


def test_the_pool_is_small_by_default_and_at_least_one() -> None:
    # Heroku's smallest Postgres plans allow 20 connections for every dyno together.
    assert load_settings(LIVE_ENV).database_pool_size == 5
    assert load_settings({**LIVE_ENV, "DATABASE_POOL_SIZE": "12"}).database_pool_size == 12
    for bad in ("0", "-3", "ten"):
        with pytest.raises(SettingsError, match="DATABASE_POOL_SIZE"):
            load_settings({**LIVE_ENV, "DATABASE_POOL_SIZE": bad})
