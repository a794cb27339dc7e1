"""Turn `DATABASE_URL` into the database to open: a SQLite file or a Postgres server.

Accepted: `sqlite:///relative/path.sqlite3` (relative to the working directory),
`sqlite:////absolute/path.sqlite3`, and `postgres://…` or `postgresql://…` (Heroku sets the
former; `postgresql+asyncpg://` is taken too). Everything else fails here, at start-up, with a
message that says what to change, rather than later as an obscure driver error.
"""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

_SQLITE_PREFIX = "sqlite:///"
_POSTGRES_SCHEMES = ("postgres", "postgresql")
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_LOCAL_HOSTS = ("", "localhost", "127.0.0.1", "::1")


class DatabaseUrlError(ValueError):
    """DATABASE_URL names a database this build cannot use."""


@dataclass(frozen=True, slots=True)
class SqliteDatabase:
    path: Path


@dataclass(frozen=True, slots=True)
class PostgresDatabase:
    dsn: str  # always postgresql://, which asyncpg takes
    host: str  # "" when the DSN names none (a local Unix socket)
    sslmode: str | None  # from the URL's query, if it names one

    @property
    def is_local(self) -> bool:
        """On this machine: loopback or a Unix socket, where TLS buys nothing."""
        return self.host in _LOCAL_HOSTS or self.host.startswith("/")


def parse_database_url(url: str) -> SqliteDatabase | PostgresDatabase:
    url = url.strip()
    if is_postgres_url(url):
        return _postgres(url)
    return SqliteDatabase(sqlite_path(url))


def is_postgres_url(url: str) -> bool:
    # "postgresql+asyncpg://" and friends are Postgres too.
    return url.strip().partition(":")[0].lower().partition("+")[0] in _POSTGRES_SCHEMES


def _postgres(url: str) -> PostgresDatabase:
    rest = url.partition("://")[2]
    if not rest:
        raise DatabaseUrlError(
            f"DATABASE_URL must look like postgres://user:password@host:5432/dbname, "
            f"got {redact_url(url)!r}"
        )
    dsn = f"postgresql://{rest}"
    try:
        parts = urlsplit(dsn)
        host = parts.hostname or ""
        query = dict(parse_qsl(parts.query))
    except ValueError as error:
        raise DatabaseUrlError(f"DATABASE_URL is not a valid URL: {error}") from None
    host = query.get("host", host)  # libpq's ?host=/run/postgresql form for sockets
    sslmode = query.get("sslmode")
    if sslmode is not None and sslmode not in SSL_MODES:
        raise DatabaseUrlError(f"DATABASE_URL: sslmode must be one of {', '.join(SSL_MODES)}")
    return PostgresDatabase(dsn=dsn, host=host, sslmode=sslmode)


def sqlite_path(url: str) -> Path:
    """The SQLite file a `sqlite:///` URL names; raises `DatabaseUrlError` for anything else."""
    url = url.strip()
    scheme = url.partition(":")[0].lower()
    if is_postgres_url(url):
        raise DatabaseUrlError("DATABASE_URL names a Postgres server, not a SQLite file")
    if scheme != "sqlite" or not url.lower().startswith(_SQLITE_PREFIX):
        raise DatabaseUrlError(
            f"DATABASE_URL must look like sqlite:///relative/path.sqlite3 or "
            f"sqlite:////absolute/path.sqlite3 or postgres://user:password@host/dbname, "
            f"got {redact_url(url)!r}"
        )
    return _file_path(url[len(_SQLITE_PREFIX) :])


def _file_path(rest: str) -> Path:
    if "?" in rest or "#" in rest:
        raise DatabaseUrlError("DATABASE_URL for SQLite takes no query string or fragment")
    path = unquote(rest)
    if not path or path.endswith("/"):
        raise DatabaseUrlError("DATABASE_URL for SQLite must name a file, e.g. sqlite:///shop.db")
    if path == ":memory:":
        # Every connection to :memory: is a separate empty database; workers must share a file.
        raise DatabaseUrlError(
            "an in-memory SQLite database cannot be shared between connections; "
            "use a file, e.g. sqlite:///shop.sqlite3"
        )
    return Path(path)


def redact_url(url: str) -> str:
    """The URL without its credentials, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    return f"{scheme}{sep}***@{rest.rpartition('@')[2]}"
