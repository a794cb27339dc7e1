"""Which hosting platform runs this process, told by the variables each platform sets.

Two start-up decisions hang on it (bot/settings.py): the sandbox never starts by itself on a
public host, where it would publish every order, and a platform whose filesystem is wiped on
restart refuses a SQLite database, which would lose every order there.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HostingPlatform:
    name: str
    # The variables that told us, for messages: a false guess is then easy to see through.
    told_by: str
    # Can a file outlive a restart? True where a disk or volume can be attached (the merchant
    # keeps SQLite on it); False where every restart starts from a fresh filesystem.
    persistent_disk: bool
    # Where there is no disk: how to get a Postgres database instead (the refusal names it).
    how_to_add_postgres: str | None = None
    # Seconds between SIGTERM and SIGKILL when the platform stops a process; None when it
    # varies by configuration. The shutdown (bot/cli.py) must fit inside it.
    stop_window_seconds: float | None = None


HEROKU = HostingPlatform(
    "Heroku",
    # Dokku sets DYNO as well, so it is taken for Heroku: Postgres there too.
    told_by="DYNO is set",
    persistent_disk=False,  # dynos restart daily on a fresh filesystem
    how_to_add_postgres="heroku addons:create heroku-postgresql:essential-0",
    stop_window_seconds=30.0,
)
SCALINGO = HostingPlatform(
    "Scalingo",
    told_by="CONTAINER, CONTAINER_VERSION and APP are set",
    persistent_disk=False,
    how_to_add_postgres="add Scalingo's PostgreSQL add-on and point DATABASE_URL at it",
)
CLOUD_RUN = HostingPlatform(
    "Google Cloud Run",
    told_by="K_SERVICE or CLOUD_RUN_JOB is set",
    persistent_disk=False,  # the container's filesystem lives in memory
    how_to_add_postgres="create a Cloud SQL for PostgreSQL instance and point DATABASE_URL at it",
)
RENDER = HostingPlatform(
    "Render",
    told_by="RENDER is set",
    persistent_disk=True,  # a disk on paid services
)
RAILWAY = HostingPlatform(
    "Railway",
    told_by="RAILWAY_ENVIRONMENT or RAILWAY_PROJECT_ID is set",
    persistent_disk=True,  # volumes
)
FLY = HostingPlatform(
    "Fly.io",
    told_by="FLY_APP_NAME is set",
    persistent_disk=True,  # volumes
)


def _set(env: Mapping[str, str], name: str) -> bool:
    return bool(env.get(name, "").strip())


def _on_heroku(env: Mapping[str, str]) -> bool:
    # Heroku CI sets DYNO too, but tests there run on a scratch database of their own.
    return _set(env, "DYNO") and not _set(env, "CI")


def _on_scalingo(env: Mapping[str, str]) -> bool:
    # Scalingo names no variable after itself; these three together are its runtime's.
    return all(_set(env, name) for name in ("CONTAINER", "CONTAINER_VERSION", "APP"))


_DETECTORS: tuple[tuple[Callable[[Mapping[str, str]], bool], HostingPlatform], ...] = (
    (_on_heroku, HEROKU),
    (_on_scalingo, SCALINGO),
    # K_SERVICE on a service, CLOUD_RUN_JOB on a job (where a migration would run).
    (lambda env: _set(env, "K_SERVICE") or _set(env, "CLOUD_RUN_JOB"), CLOUD_RUN),
    (lambda env: _set(env, "RENDER"), RENDER),
    (lambda env: _set(env, "RAILWAY_ENVIRONMENT") or _set(env, "RAILWAY_PROJECT_ID"), RAILWAY),
    (lambda env: _set(env, "FLY_APP_NAME"), FLY),
)


def detect_platform(env: Mapping[str, str]) -> HostingPlatform | None:
    """The platform running this process, or None on a laptop, a VPS or in CI."""
    for on_platform, platform in _DETECTORS:
        if on_platform(env):
            return platform
    return None
