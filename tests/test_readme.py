"""The README keeps up with the project: every runtime dependency is explained, every variable
the bot reads is in the environment table, and the Deploy button deploys app.json's repo."""

import json
import re
import tomllib

from bot.settings import Settings
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def test_every_runtime_dependency_has_a_row_saying_what_it_is_for() -> None:
    table = section("Dependencies and why")
    # "uvloop>=0.21; sys_platform != 'win32'" -> "uvloop"
    names = [re.split(r"[^A-Za-z0-9_.-]", spec, maxsplit=1)[0] for spec in PROJECT["dependencies"]]
    missing = [name for name in names if f"| `{name}` | " not in table]
    assert names
    assert missing == []


def test_the_libraries_left_out_on_purpose_say_why_and_stay_out() -> None:
    table = section("Dependencies and why")
    installed = " ".join(PROJECT["dependencies"])
    for name, reason in [("razorpay", "synchronous `requests`"), ("aiosqlite", "issue #19")]:
        assert f"**`{name}`" in table
        assert reason in table
        assert name not in installed


def test_the_environment_table_lists_every_setting_and_nothing_else() -> None:
    table = section("Configuration").split("### The environment", 1)[1]
    listed = set(re.findall(r"^\| `([A-Z_]+)` \|", table, flags=re.MULTILINE))
    assert listed == {name.upper() for name in Settings.model_fields}


def test_the_deploy_button_deploys_the_repository_app_json_names() -> None:
    repository = json.loads((REPO / "app.json").read_text(encoding="utf-8"))["repository"]
    button = "(https://www.herokucdn.com/deploy/button.svg)"
    assert f"[![Deploy]{button}](https://heroku.com/deploy?template={repository})" in README
