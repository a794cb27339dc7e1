"""What `DATABASE_URL` and `DATABASE_SSL` say, checked when the settings load.

Only parsing lives here; storage/ opens the database. Heroku Postgres sets
`DATABASE_URL=postgres://…` and insists on TLS with a certificate the small plans cannot
verify, while a database on the same machine speaks no TLS at all: hence the automatic mode.
"""

import ipaddress
from enum import StrEnum
from urllib.parse import parse_qs, unquote, urlsplit


class DatabaseKind(StrEnum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"


class DatabaseSsl(StrEnum):
    """libpq's `sslmode` values that the Postgres backend supports."""

    DISABLE = "disable"
    PREFER = "prefer"
    REQUIRE = "require"  # encrypted, certificate not checked: what Heroku's small plans need
    VERIFY_FULL = "verify-full"


_POSTGRES_SCHEMES = ("postgres", "postgresql")
_SSL_CHOICES = ", ".join(mode.value for mode in DatabaseSsl)
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})


def database_kind(url: str) -> DatabaseKind:
    """SQLite or Postgres; raises `ValueError` (without echoing a password) for anything else."""
    scheme = url.partition(":")[0].lower()
    if scheme == "sqlite" and url.startswith("sqlite:///"):
        return DatabaseKind.SQLITE
    if scheme in _POSTGRES_SCHEMES:
        _check_postgres(url)
        return DatabaseKind.POSTGRES
    if scheme.partition("+")[0] in _POSTGRES_SCHEMES:
        raise ValueError(f"use postgres:// or postgresql://, not {scheme}://")
    raise ValueError(
        "use sqlite:///relative/path.sqlite3, sqlite:////absolute/path.sqlite3 "
        "or postgres://user:password@host:5432/database"
    )


def _check_postgres(url: str) -> None:
    for _host, port in _authority_hosts(url):
        if port and not port.isdigit():
            raise ValueError("a port in the Postgres URL is not a number")
    sslmode = url_sslmode(url)
    if sslmode is not None and sslmode not in {mode.value for mode in DatabaseSsl}:
        raise ValueError(f"sslmode={sslmode} is not supported; use one of {_SSL_CHOICES}")


def url_sslmode(url: str) -> str | None:
    """The `sslmode` query parameter of a Postgres URL, if it has one."""
    values = parse_qs(urlsplit(url).query).get("sslmode")
    return values[-1] if values else None


def automatic_ssl(url: str) -> DatabaseSsl:
    """No TLS to a database on this machine (loopback or a unix socket); TLS without
    certificate checks to any other host, which is what Heroku Postgres requires."""
    return DatabaseSsl.DISABLE if all(map(_is_local, _hosts(url))) else DatabaseSsl.REQUIRE


def _hosts(url: str) -> list[str]:
    """Every host a Postgres URL names: in the authority (several, comma-separated, for
    failover) or in a `host=` parameter. None named means libpq's default unix socket."""
    named = [host for host, _port in _authority_hosts(url) if host]
    for value in parse_qs(urlsplit(url).query).get("host", []):
        named += [host for host in value.split(",") if host]
    return [unquote(host) for host in named] or ["/"]


def _authority_hosts(url: str) -> list[tuple[str, str]]:
    """(host, port) for each comma-separated `host:port` between `@` and the path."""
    authority = urlsplit(url).netloc.rpartition("@")[2]
    return [_host_and_port(part) for part in authority.split(",")]


def _host_and_port(part: str) -> tuple[str, str]:
    if part.startswith("["):  # [::1]:5432
        host, _, rest = part[1:].partition("]")
        return host, rest.removeprefix(":")
    host, _, port = part.partition(":")
    return host, port


def _is_local(host: str) -> bool:
    if host.startswith("/") or host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
