"""Turn `DATABASE_URL` into the SQLite file to open.

Accepted: `sqlite:///relative/path.sqlite3` (relative to the working directory) and
`sqlite:////absolute/path.sqlite3`. Everything else fails here, at start-up, with a message
that says what to change, rather than later as an obscure driver error.
"""

from pathlib import Path
from urllib.parse import unquote

_SQLITE_PREFIX = "sqlite:///"
_POSTGRES_SCHEMES = ("postgres", "postgresql")


class DatabaseUrlError(ValueError):
    """DATABASE_URL names a database this build cannot use."""


def sqlite_path(url: str) -> Path:
    """The SQLite file a `sqlite:///` URL names; raises `DatabaseUrlError` for anything else."""
    url = url.strip()
    scheme = url.partition(":")[0].lower()
    # "postgresql+asyncpg://" and friends are Postgres too.
    if scheme.partition("+")[0] in _POSTGRES_SCHEMES:
        raise DatabaseUrlError(
            "DATABASE_URL points at Postgres, which is not supported yet; "
            "use a SQLite file such as sqlite:///data/shop.sqlite3 on a persistent volume"
        )
    if scheme != "sqlite" or not url.lower().startswith(_SQLITE_PREFIX):
        raise DatabaseUrlError(
            f"DATABASE_URL must look like sqlite:///relative/path.sqlite3 or "
            f"sqlite:////absolute/path.sqlite3, got {_redact(url)!r}"
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


def _redact(url: str) -> str:
    """Hide a password if someone pastes a full server URL into the wrong place."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    return f"{scheme}{sep}***@{rest.rpartition('@')[2]}"
