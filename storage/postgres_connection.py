"""How this app connects to Postgres: TLS the way Heroku needs it, server-side timeouts,
keepalives, and which connection errors mean "the database is away" rather than "a bug".

Heroku Postgres requires TLS but its certificates cannot be verified on the Essential plans,
so a remote server gets encryption without verification (`require`), like libpq's sslmode of
that name; a server on this machine gets no TLS. `DATABASE_SSL` or `?sslmode=` in the URL
overrides that choice. asyncpg's own `ssl=True` would verify and fail on Heroku.
"""

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import asyncpg

from storage.database_url import SSL_MODES, PostgresDatabase

DEFAULT_POOL_SIZE = 5
CONNECT_TIMEOUT_SECONDS = 10.0

# Server-side safety for every connection: a statement that runs away, a transaction left
# open by a paused process, a lock wait that would stall every request behind it; keepalives
# so a vanished client's connection (and its advisory locks) is dropped within about a minute.
SERVER_SETTINGS: Mapping[str, str] = {
    "statement_timeout": "10s",
    "idle_in_transaction_session_timeout": "15s",
    "lock_timeout": "5s",
    "tcp_keepalives_idle": "30",
    "tcp_keepalives_interval": "10",
    "tcp_keepalives_count": "3",
}

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable, timed out (TimeoutError is an OSError)
    asyncpg.PostgresConnectionError,  # connection_exception class, 08xxx
    asyncpg.InterfaceError,  # the connection was closed under us
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,  # 57P01: a restart or failover ended our session
    asyncpg.CrashShutdownError,
    asyncpg.QueryCanceledError,  # statement_timeout: a server too busy right now
    asyncpg.LockNotAvailableError,  # lock_timeout
    asyncpg.IdleInTransactionSessionTimeoutError,
    asyncpg.ReadOnlySQLTransactionError,  # a failover promoted nothing yet
)
"""Errors after which the same work can succeed later, unchanged."""


@dataclass(frozen=True, slots=True)
class PostgresOptions:
    ssl_mode: str | None = None  # DATABASE_SSL; None: the URL's sslmode, else by host
    pool_size: int = DEFAULT_POOL_SIZE  # DATABASE_POOL_SIZE: connections for queries
    application_name: str = "whatsapp-shop-bot"  # shows in pg_stat_activity

    def __post_init__(self) -> None:
        if self.ssl_mode is not None and self.ssl_mode not in SSL_MODES:
            raise ValueError(f"DATABASE_SSL must be one of {', '.join(SSL_MODES)}")
        if self.pool_size < 1:
            raise ValueError("DATABASE_POOL_SIZE must be at least 1")


def ssl_mode(database: PostgresDatabase, options: PostgresOptions) -> str:
    if options.ssl_mode is not None:
        return options.ssl_mode
    if database.sslmode is not None:
        return database.sslmode
    return "disable" if database.is_local else "require"


SslArgument = ssl.SSLContext | Literal[False, "allow", "prefer", "verify-ca", "verify-full"]


def ssl_argument(mode: str) -> SslArgument:
    """asyncpg's `ssl=` for a libpq sslmode. `require` gets an explicit context that encrypts
    without verifying, so a stray ~/.postgresql/root.crt cannot turn it into verification."""
    if mode == "require":
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if mode == "disable":
        return False
    if mode in ("allow", "prefer", "verify-ca", "verify-full"):
        return mode  # type: ignore[return-value]  # asyncpg implements these as libpq does
    raise ValueError(f"unknown sslmode {mode!r}")


def server_settings(options: PostgresOptions) -> dict[str, str]:
    return {**SERVER_SETTINGS, "application_name": options.application_name}


async def connect(database: PostgresDatabase, options: PostgresOptions) -> asyncpg.Connection:
    """One connection outside any pool (migrations, advisory locks, copies)."""
    conn: asyncpg.Connection = await asyncpg.connect(
        database.dsn,
        ssl=ssl_argument(ssl_mode(database, options)),
        timeout=CONNECT_TIMEOUT_SECONDS,
        server_settings=server_settings(options),
    )
    return conn


async def create_pool(database: PostgresDatabase, options: PostgresOptions) -> asyncpg.Pool:
    """The query pool: small, since Heroku's smallest plans allow 20 connections for every
    process together (web dynos, the release dyno, an old dyno still shutting down)."""
    pool: asyncpg.Pool = await asyncpg.create_pool(
        database.dsn,
        min_size=1,
        max_size=options.pool_size,
        # Nothing session-scoped ever lives on a pooled connection, so the default reset
        # (unlock all, UNLISTEN, RESET ALL) would be a round trip per query for nothing.
        reset=_no_reset,
        max_inactive_connection_lifetime=60.0,
        ssl=ssl_argument(ssl_mode(database, options)),
        timeout=CONNECT_TIMEOUT_SECONDS,
        server_settings=server_settings(options),
    )
    return pool


async def _no_reset(conn: asyncpg.Connection) -> None:
    return None
