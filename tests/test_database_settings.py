"""DATABASE_URL, DATABASE_SSL and DATABASE_POOL_SIZE: checked at start-up, handed to Postgres."""

import pytest

from bot.settings import REQUIRED_IN_LIVE_MODE, DatabaseSsl, SettingsError, load_settings
from storage.database_url import parse_database_url
from storage.postgres_connection import DEFAULT_POOL_SIZE, PostgresOptions, ssl_mode

LIVE_ENV = {name: f"value-of-{name.lower()}" for name in REQUIRED_IN_LIVE_MODE}
HEROKU_POSTGRES = "postgres://u1:p4ssw0rd@ec2-3-91-1-1.compute-1.amazonaws.com:5432/d3"


def options(**env: str) -> PostgresOptions:
    return load_settings({**LIVE_ENV, **env}).postgres_options()


def tls_to(url: str, **env: str) -> str:
    """The sslmode the Postgres backend will connect with, given this environment."""
    return ssl_mode(parse_database_url(url), options(DATABASE_URL=url, **env))


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


@pytest.mark.parametrize(
    "url",
    [
        "mysql://root:p4ssw0rd@db/shop",
        "postgres://u:p4ssw0rd@db/shop?sslmode=sometimes",
        "sqlite:bot.sqlite3",
        "sqlite:///:memory:",
    ],
)
def test_an_unusable_url_is_named_at_start_up_without_its_password(url: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**LIVE_ENV, "DATABASE_URL": url})
    message = str(raised.value)
    assert message.startswith("invalid environment: DATABASE_URL")
    assert "p4ssw0rd" not in message


def test_heroku_postgres_gets_tls_without_certificate_checks() -> None:
    # Heroku requires TLS, and the certificates of its small plans cannot be verified.
    assert tls_to(HEROKU_POSTGRES) == "require"


def test_a_database_on_this_machine_gets_no_tls() -> None:
    assert tls_to("postgres://postgres@127.0.0.1:5432/shop") == "disable"
    assert tls_to("postgresql:///shop?host=/var/run/postgresql") == "disable"


def test_an_sslmode_in_the_url_wins_over_the_automatic_choice() -> None:
    assert tls_to("postgres://u@db.example.in/shop?sslmode=verify-full") == "verify-full"


def test_database_ssl_wins_over_the_url_and_the_automatic_choice() -> None:
    # Heroku manages DATABASE_URL itself; DATABASE_SSL is the knob a merchant can turn there.
    assert tls_to(HEROKU_POSTGRES, DATABASE_SSL="verify-full") == "verify-full"
    assert tls_to("postgres://u@localhost/shop?sslmode=require", DATABASE_SSL="disable") == (
        "disable"
    )
    assert options(DATABASE_SSL=" Prefer ").ssl_mode == DatabaseSsl.PREFER.value


def test_an_unknown_database_ssl_is_named_with_the_choices() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**LIVE_ENV, "DATABASE_SSL": "on"})
    message = str(raised.value)
    assert "DATABASE_SSL" in message
    for choice in ("disable", "prefer", "require", "verify-full"):
        assert choice in message


def test_the_pool_is_small_by_default_and_at_least_one() -> None:
    # Heroku's smallest Postgres plans allow 20 connections for every dyno together.
    assert options().pool_size == DEFAULT_POOL_SIZE == 5
    assert options(DATABASE_POOL_SIZE="12").pool_size == 12
    for bad in ("0", "-3", "ten"):
        with pytest.raises(SettingsError, match="DATABASE_POOL_SIZE"):
            load_settings({**LIVE_ENV, "DATABASE_POOL_SIZE": bad})
