"""The files Heroku's Python buildpack reads stay in step with pyproject.toml.

The buildpack ignores pyproject.toml's dependencies and requires-python: it installs
requirements.txt and runs the Python named in .python-version. A dependency added to one and
not the other would deploy an app that fails at import.
"""

import re
import tomllib
from collections.abc import Iterable
from importlib import metadata
from typing import Any

import pytest
from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests.conftest import REPO

# The buildpack stops when it finds none of these, or more than one.
PACKAGE_MANAGER_FILES = ("requirements.txt", "Pipfile.lock", "poetry.lock", "uv.lock")
# Where a marker must say the same in both files: the platforms and Pythons a merchant may use.
ENVIRONMENTS = [
    {
        "sys_platform": platform,
        "platform_system": system,
        "platform_python_implementation": implementation,
        "python_version": version,
        "python_full_version": f"{version}.0",
    }
    for platform, system in (("linux", "Linux"), ("darwin", "Darwin"), ("win32", "Windows"))
    for implementation in ("CPython", "PyPy")
    for version in ("3.11", "3.12", "3.13", "3.14")
]


def project() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]  # type: ignore[no-any-return]


def declared() -> list[Requirement]:
    return [Requirement(line) for line in project()["dependencies"]]


def requirement_lines() -> list[str]:
    lines = (line.strip() for line in (REPO / "requirements.txt").read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def pins() -> dict[str, Requirement]:
    pinned = [Requirement(line) for line in requirement_lines() if not line.startswith("-")]
    return {canonicalize_name(requirement.name): requirement for requirement in pinned}


def pinned_version(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", f"{requirement} is not pinned with =="
    return specifier.version


def applies(marker: Marker | None, environment: dict[str, str]) -> bool:
    return marker is None or marker.evaluate({**default_environment(), **environment, "extra": ""})


def test_requirements_txt_is_the_only_package_manager_file() -> None:
    present = [name for name in PACKAGE_MANAGER_FILES if (REPO / name).exists()]
    assert present == ["requirements.txt"]
    # runtime.txt is deprecated (and an error with uv): .python-version names the Python.
    assert not (REPO / "runtime.txt").exists()


def test_the_app_itself_installs_last() -> None:
    assert requirement_lines()[-1] == "-e ."


def test_every_dependency_is_pinned_within_its_range_under_the_same_marker() -> None:
    pinned = pins()
    for wanted in declared():
        name = canonicalize_name(wanted.name)
        assert name in pinned, f"{wanted.name} is in pyproject.toml but not in requirements.txt"
        pin = pinned[name]
        version = pinned_version(pin)
        assert wanted.specifier.contains(version, prereleases=True), (
            f"requirements.txt pins {wanted.name}=={version}, outside pyproject's {wanted}"
        )
        for environment in ENVIRONMENTS:
            assert applies(pin.marker, environment) == applies(wanted.marker, environment), (
                f"{wanted.name}: the markers differ for {environment}"
            )


def test_every_package_the_app_needs_here_is_pinned_and_nothing_else() -> None:
    needed = needed_here(declared())
    pinned_here = {
        name for name, pin in pins().items() if applies(pin.marker, default_environment())
    }
    assert needed - pinned_here == set(), "needed but not pinned in requirements.txt"
    assert pinned_here - needed == set(), "pinned in requirements.txt but needed by nothing"


def needed_here(top: Iterable[Requirement]) -> set[str]:
    """The installed dependency closure of `top` on this machine's platform and Python."""
    queue = [r for r in top if applies(r.marker, default_environment())]
    seen: set[str] = set()
    while queue:
        requirement = queue.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(name) or []:
            child = Requirement(line)
            extras = ["", *sorted(requirement.extras)]
            if child.marker is None or any(
                child.marker.evaluate({**default_environment(), "extra": extra}) for extra in extras
            ):
                queue.append(child)
    return seen


def test_python_version_is_in_major_form_and_allowed_by_pyproject() -> None:
    lines = (REPO / ".python-version").read_text().splitlines()
    versions = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert len(versions) == 1, versions
    (version,) = versions
    # Major form (3.11): the buildpack then takes each new patch release as it ships.
    assert re.fullmatch(r"3\.\d+", version), version
    assert SpecifierSet(project()["requires-python"]).contains(version), version


@pytest.mark.parametrize("entry", [".venv/", "venv/", ".heroku/"])
def test_local_virtualenvs_and_buildpack_leftovers_are_not_committed(entry: str) -> None:
    # The buildpack refuses a committed virtualenv (.venv/ or venv/).
    assert entry in (REPO / ".gitignore").read_text().splitlines()
