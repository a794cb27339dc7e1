"""How the bot connects to Postgres: TLS chosen the way Heroku needs it, timeouts on the
server side, and which failures count as "the database is away"."""

import ssl

import pytest

from storage.database_url import PostgresDatabase, parse_database_url
from storage.postgres_connection import (
    SERVER_SETTINGS,
    PostgresOptions,
    server_settings,
    ssl_argument,
    ssl_mode,
)


def postgres(url: str) -> PostgresDatabase:
    database = parse_database_url(url)
    assert isinstance(database, PostgresDatabase)
    return database


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@127.0.0.1:5432/shop", "disable"),  # this machine: no TLS
        ("postgres://u@localhost/shop", "disable"),
        ("postgresql:///shop?host=/run/postgresql", "disable"),
        # Heroku Postgres: encrypted, its certificate not verifiable on the small plans
        ("postgres://u:p@ec2-3-1-2-3.compute-1.amazonaws.com:5432/d1", "require"),
        ("postgres://u:p@db.example.com/shop?sslmode=verify-full", "verify-full"),
        ("postgres://u@127.0.0.1/shop?sslmode=require", "require"),
    ],
)
def test_tls_is_chosen_by_where_the_server_is(url: str, expected: str) -> None:
    assert ssl_mode(postgres(url), PostgresOptions()) == expected


def test_database_ssl_overrides_the_url_and_the_host() -> None:
    remote = postgres("postgres://u@db.example.com/shop?sslmode=require")
    assert ssl_mode(remote, PostgresOptions(ssl_mode="verify-full")) == "verify-full"
    assert ssl_mode(remote, PostgresOptions(ssl_mode="disable")) == "disable"


def test_require_encrypts_without_verifying_whatever_certificates_lie_around() -> None:
    context = ssl_argument("require")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_NONE
    assert context.check_hostname is False
    assert ssl_argument("disable") is False
    assert ssl_argument("verify-full") == "verify-full"


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="DATABASE_SSL"):
        PostgresOptions(ssl_mode="sometimes")
    with pytest.raises(ValueError, match="DATABASE_POOL_SIZE"):
        PostgresOptions(pool_size=0)


def test_every_connection_has_timeouts_and_keepalives_and_a_name() -> None:
    settings = server_settings(PostgresOptions(application_name="shop web.2"))
    assert settings["application_name"] == "shop web.2"
    for name in ("statement_timeout", "idle_in_transaction_session_timeout", "lock_timeout"):
        assert settings[name] == SERVER_SETTINGS[name]
    assert settings["tcp_keepalives_idle"]
