"""Shared setup for the state machine tests."""

import sys
from pathlib import Path

# pytest puts this folder, not the repository root, on sys.path (tests/flows has no
# __init__.py); drop this once pyproject sets `pythonpath = ["."]` for pytest.
REPO_ROOT = str(Path(__file__).resolve().parents[2])
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
