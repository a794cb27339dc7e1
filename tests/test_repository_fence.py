"""The fence around the repository: a test that reads beside the checkout fails the run."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.repository_fence import REPO_ROOT, RepositoryFence

# The machine as the fence sees it; /scratch plays the temporary folder (tempfile.gettempdir()).
SYSTEM = ["/scratch", "/usr", "/proc", "/etc"]


def test_a_sibling_folder_of_the_checkout_is_outside() -> None:
    fence = RepositoryFence.around(Path("/work/shop"), SYSTEM)
    assert fence.forbids("/work/shared/fixtures/whatsapp/inbound_text.json")
    assert fence.forbids("/work/shop/../shared/REFERENCE.md")
    assert fence.forbids("/work")
    assert fence.forbids("/work/shop-other/tests/fixtures/x.json")


def test_the_checkout_and_the_rest_of_the_machine_are_inside() -> None:
    fence = RepositoryFence.around(Path("/work/shop"), SYSTEM)
    assert not fence.forbids("/work/shop/tests/fixtures/whatsapp/inbound_text.json")
    assert not fence.forbids("/work/shop")
    assert not fence.forbids("/scratch/pytest-of-ci/pytest-3/test_x0/config.toml")
    assert not fence.forbids("/usr/lib/python3.11/json/__init__.py")


def test_a_clone_in_a_temporary_folder_is_still_fenced() -> None:
    # .ci/run clones into `mktemp -d`: the temporary folder holds the whole neighbourhood.
    fence = RepositoryFence.around(Path("/scratch/tmp.Ab12/shop"), SYSTEM)
    assert fence.forbids("/scratch/tmp.Ab12/shared/fixtures/razorpay/signatures.json")
    assert not fence.forbids("/scratch/pytest-of-ci/pytest-3/test_x0/config.toml")


def test_a_checkout_at_the_top_of_the_disk_keeps_the_system_usable() -> None:
    fence = RepositoryFence.around(Path("/app"), SYSTEM)
    assert fence.forbids("/shared/fixtures/whatsapp/inbound_text.json")
    assert not fence.forbids("/usr/lib/python3.11/json/__init__.py")
    assert not fence.forbids("/proc/self/status")
    assert not fence.forbids("/app/config.toml")


# --- the plugin in a real pytest run -----------------------------------------------------------

OUTSIDE = REPO_ROOT.parent / "shared" / "fixtures" / "whatsapp" / "inbound_text.json"

READS_BESIDE_THE_REPOSITORY = f"""
def test_reads_a_fixture_beside_the_checkout():
    try:
        open({str(OUTSIDE)!r}, "rb").close()
    except Exception:
        pass  # a missing file must not hide the attempt
"""

READS_AT_IMPORT = f"""
import os
try:
    os.listdir({str(OUTSIDE.parent)!r})
except Exception:
    pass

def test_nothing_else():
    pass
"""

READS_INSIDE = f"""
def test_reads_the_repository_and_its_own_tmp_path(tmp_path):
    open({str(REPO_ROOT / "README.md")!r}, "rb").close()
    (tmp_path / "scratch.txt").write_text("ok")
    assert (tmp_path / "scratch.txt").read_text() == "ok"
"""


def _pytest_with_the_fence(tmp_path: Path, **probes: str) -> subprocess.CompletedProcess[str]:
    """Run the probe test files in a fresh pytest process with only this plugin loaded."""
    for name, source in probes.items():
        (tmp_path / f"test_{name}.py").write_text(textwrap.dedent(source))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    plugins = ["-p", "no:cacheprovider", "-p", "tests.repository_fence"]
    files = [f"test_{name}.py" for name in probes]
    return subprocess.run(  # noqa: S603 - our own interpreter running pytest
        [sys.executable, "-m", "pytest", "-v", *plugins, *files],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_reading_beside_the_repository_fails_the_run_even_when_caught(tmp_path: Path) -> None:
    run = _pytest_with_the_fence(
        tmp_path, beside=READS_BESIDE_THE_REPOSITORY, at_import=READS_AT_IMPORT
    )
    out = run.stdout
    assert run.returncode == pytest.ExitCode.TESTS_FAILED, out + run.stderr
    assert "ERROR test_beside.py::test_reads_a_fixture_beside_the_checkout" in out
    assert "this test reached outside the repository" in out
    # The read at import happened outside any test; the summary names it and the run fails.
    assert f"collection: {OUTSIDE.parent}" in out
    assert f"test_beside.py::test_reads_a_fixture_beside_the_checkout: {OUTSIDE}" in out


def test_reading_the_repository_and_tmp_dirs_passes(tmp_path: Path) -> None:
    run = _pytest_with_the_fence(tmp_path, inside=READS_INSIDE)
    assert run.returncode == pytest.ExitCode.OK, run.stdout + run.stderr
    assert "paths outside the repository" not in run.stdout
