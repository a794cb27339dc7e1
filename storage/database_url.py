"""Turn `DATABASE_URL` into the database to open: a SQLite file or a Postgres server.

Accepted: `sqlite:///relative/path.sqlite3` (relative to the working directory),
`sqlite:////absolute/path.sqlite3`, and `postgres://…` or `postgresql://…` (Heroku sets the
former; `postgresql+asyncpg://` is taken too). Everything else fails here, at start-up, with a
message that says what to change, rather than later as an obscure driver error.
"""

import ipaddress
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
    hosts: tuple[str, ...]  # one, or several for failover; "" for the default local socket
    sslmode: str | None  # from the URL's query, if it names one

    @property
    def host(self) -> str:
        return self.hosts[0]

    @property
    def is_local(self) -> bool:
        """Every host on this machine (loopback or a Unix socket), where TLS buys nothing. One
        remote host among several makes it remote: a failover must not go out in clear."""
        return all(_is_local_host(host) for host in self.hosts)


def _is_local_host(host: str) -> bool:
    if host in _LOCAL_HOSTS or host.startswith("/"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
        query = dict(parse_qsl(parts.query))
    except ValueError as error:
        raise DatabaseUrlError(f"DATABASE_URL is not a valid URL: {error}") from None
    hosts = _hosts(parts.netloc.rpartition("@")[2], query.get("host"))
    sslmode = query.get("sslmode")
    if sslmode is not None and sslmode not in SSL_MODES:
        raise DatabaseUrlError(f"DATABASE_URL: sslmode must be one of {', '.join(SSL_MODES)}")
    return PostgresDatabase(dsn=dsn, hosts=hosts, sslmode=sslmode)


def _hosts(netloc: str, query_host: str | None) -> tuple[str, ...]:
    """The hosts of `host1:port1,host2:port2` (libpq's failover list), percent-decoded (a
    socket directory may be written %2Fvar%2Frun%2Fpostgresql); `?host=` wins, as in libpq."""
    if query_host is not None:
        return tuple(h.strip() for h in query_host.split(","))
    hosts = []
    for entry in netloc.split(",") if netloc else [""]:
        host, port = _split_port(unquote(entry))
        if port and not port.isdigit():
            raise DatabaseUrlError(f"DATABASE_URL: the port must be a number, got {port!r}")
        hosts.append(host.lower())
    return tuple(hosts)


def _split_port(entry: str) -> tuple[str, str]:
    if entry.startswith("["):  # [::1]:5432
        host, _, rest = entry[1:].partition("]")
        return host, rest.removeprefix(":")
    if entry.startswith("/") or entry.count(":") != 1:
        return entry, ""
    host, _, port = entry.partition(":")
    return host, port


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
