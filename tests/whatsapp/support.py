"""Shared helpers for the WhatsApp tests: fixture bytes, their signatures, derived variants."""

import json
import re
from collections.abc import Callable
from typing import Any

from tests.fixtures_path import WHATSAPP_FIXTURES

APP_SECRET = "test_app_secret_do_not_use"

# A row of INDEX.md's table: | `file.json` | what | bytes | `sha256=...` |
_ROW = re.compile(
    r"^\| `(?P<name>[\w.]+\.json)` \|.*\| (?P<size>\d+) \| `(?P<sig>sha256=[0-9a-f]{64})` \|$"
)


def _index() -> dict[str, tuple[int, str]]:
    text = (WHATSAPP_FIXTURES / "INDEX.md").read_text(encoding="utf-8")
    rows = (_ROW.match(line) for line in text.splitlines())
    return {m["name"]: (int(m["size"]), m["sig"]) for m in rows if m}


INDEX = _index()  # file name -> (size in bytes, X-Hub-Signature-256)
FIXTURE_NAMES = sorted(path.name for path in WHATSAPP_FIXTURES.glob("*.json"))


def fixture(name: str) -> bytes:
    """A fixture's exact bytes: what Meta signed."""
    return (WHATSAPP_FIXTURES / name).read_bytes()


def variant(name: str, change: Callable[[dict[str, Any]], None]) -> bytes:
    """A fixture changed in place by `change`, re-encoded compactly (and so re-signed below)."""
    body = json.loads(fixture(name))
    change(body)
    return json.dumps(body, separators=(",", ":")).encode()


def value_of(body: dict[str, Any]) -> dict[str, Any]:
    """The first change's value: every single-message fixture keeps its update there."""
    value: dict[str, Any] = body["entry"][0]["changes"][0]["value"]
    return value


def first_message(body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = value_of(body)["messages"][0]
    return message
