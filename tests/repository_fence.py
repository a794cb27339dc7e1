"""A pytest plugin that fails the run when a test reaches out of the repository into its parent.

A fresh clone has nothing beside it. A test that reads `../shared/...` passes on the one machine
where that folder happens to sit next to the checkout and fails everywhere else, so the run must
fail where the folder *does* exist too. An audit hook sees every `open()`, `os.listdir()` and
`os.scandir()` in this process; a path in the repository's parent folder but outside the
repository is a crossing. The hook raises at once (an error that is not an `OSError`, so code
that tolerates a missing file cannot swallow it quietly), records the crossing, and the run fails
even if a test caught the error.

Only the parent folder is fenced: the interpreter, site-packages, temporary folders and the
system's files are elsewhere, and stay allowed when the repository sits at the top of the disk.
"""

import os
import sys
import sysconfig
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# Audit events that name a path this process is about to read or write.
WATCHED_EVENTS = frozenset({"open", "os.listdir", "os.scandir"})

# Folders that are never a checkout's neighbours, only the machine's.
SYSTEM_FOLDERS = ("/proc", "/dev", "/sys", "/etc", "/usr", "/lib", "/lib64", "/bin", "/var")


class OutsideRepositoryAccess(RuntimeError):
    """A test opened a path beside the repository; a fresh clone would not have it."""


@dataclass(frozen=True)
class Crossing:
    path: str
    during: str  # the test's node id, or where in the session it happened


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


@dataclass
class RepositoryFence:
    """Which paths count as outside the repository, and the crossings seen so far."""

    root: str
    exempt: tuple[str, ...]
    crossings: list[Crossing] = field(default_factory=list)
    watching: bool = False
    during: str = "collection"

    @classmethod
    def around(cls, root: Path, exempt: Iterable[str]) -> "RepositoryFence":
        neighbourhood = os.path.realpath(root.parent)
        # An exemption holding the whole neighbourhood would switch the fence off: /tmp when the
        # clone sits in a `mktemp -d` folder. Such a folder cannot hold pytest's own tmp dirs.
        inside = (os.path.realpath(folder) for folder in exempt)
        return cls(
            root=os.path.realpath(root),
            exempt=tuple(f for f in inside if f != neighbourhood and _within(f, neighbourhood)),
        )

    def forbids(self, path: str) -> bool:
        real = os.path.realpath(path)
        neighbourhood = os.path.dirname(self.root)
        if not _within(real, neighbourhood) or _within(real, self.root):
            return False
        return not any(_within(real, folder) for folder in self.exempt)

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in WATCHED_EVENTS or not self.watching:
            return
        target = args[0] if args else None
        if isinstance(target, int):  # an open file descriptor: its path was checked when opened
            return
        path = os.fsdecode(os.fspath(target)) if target is not None else os.getcwd()
        if self.forbids(path):
            self.crossings.append(Crossing(os.path.realpath(path), self.during))
            raise OutsideRepositoryAccess(
                f"{path} is outside the repository ({self.root}); "
                "keep what tests read inside it (tests/fixtures/)"
            )


def process_exemptions() -> list[str]:
    """Where this interpreter keeps itself and its packages, and where temporary files go."""
    paths = sysconfig.get_paths()
    return [
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        paths["stdlib"],
        paths["purelib"],
        paths["platlib"],
        tempfile.gettempdir(),
        *SYSTEM_FOLDERS,
    ]


FENCE = RepositoryFence.around(REPO_ROOT, process_exemptions())
_installed = False


def pytest_configure(config: pytest.Config) -> None:
    global _installed
    if not _installed:  # an audit hook cannot be removed; one per process
        sys.addaudithook(FENCE.audit)
        _installed = True
    FENCE.watching = True


def pytest_runtest_logstart(nodeid: str) -> None:
    FENCE.during = nodeid


def pytest_runtest_logfinish() -> None:
    FENCE.during = "between tests"


@pytest.fixture(autouse=True)
def _stays_inside_the_repository() -> Iterator[None]:
    """Fail the test that crossed, even when it caught the error the hook raised."""
    before = len(FENCE.crossings)
    yield
    crossed = FENCE.crossings[before:]
    if crossed:
        paths = ", ".join(c.path for c in crossed)
        pytest.fail(f"this test reached outside the repository: {paths}", pytrace=False)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    # Reports written after the tests (--junitxml=../report.xml) are the caller's choice.
    FENCE.watching = False
    if FENCE.crossings:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FENCE.crossings:
        return
    terminalreporter.section("paths outside the repository", red=True)
    for crossing in FENCE.crossings:
        terminalreporter.line(f"{crossing.during}: {crossing.path}")
