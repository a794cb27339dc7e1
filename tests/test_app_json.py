"""app.json, which Heroku's Deploy button reads, agrees with the settings the bot reads."""

import json
from typing import Any

from bot.settings import REQUIRED_IN_LIVE_MODE, Mode, Settings, load_settings
from storage.database_url import parse_database_url
from storage.postgres_connection import ssl_mode
from tests.conftest import REPO

APP_JSON: dict[str, Any] = json.loads((REPO / "app.json").read_text())
ENV: dict[str, dict[str, Any]] = APP_JSON["env"]
# The field names of the app.json schema (heroku/app.json, lib/schema.js).
SCHEMA_FIELDS = {
    "name",
    "description",
    "keywords",
    "website",
    "repository",
    "logo",
    "success_url",
    "scripts",
    "env",
    "formation",
    "addons",
    "buildpacks",
    "environments",
    "stack",
    "image",
}
ENV_FIELDS = {"description", "value", "required", "generator"}
# The Postgres add-on sets DATABASE_URL and the platform sets PORT; a value here would fight them.
SET_BY_HEROKU = {"DATABASE_URL", "PORT", "DYNO"}


def setting_names() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def test_only_fields_of_the_app_json_schema() -> None:
    assert set(APP_JSON) <= SCHEMA_FIELDS
    assert 0 < len(APP_JSON["name"]) <= 30
    assert APP_JSON["description"]
    assert APP_JSON["repository"] == "https://github.com/OWNER/REPO"


def test_every_variable_the_bot_reads_is_described_and_nothing_else() -> None:
    assert set(ENV) == setting_names() - SET_BY_HEROKU
    for name, spec in ENV.items():
        assert set(spec) <= ENV_FIELDS, name
        assert spec["description"].strip(), name
        # Heroku takes a variable without "required" as required: say it every time.
        assert isinstance(spec["required"], bool), name
        assert spec.get("generator", "secret") == "secret", name


def test_the_live_credentials_are_required_and_everything_else_optional() -> None:
    required = {name for name, spec in ENV.items() if spec["required"]}
    assert required == {*REQUIRED_IN_LIVE_MODE, "BOT_MODE"}
    assert ENV["BOT_MODE"]["value"] == Mode.LIVE.value


def test_tokens_the_merchant_only_has_to_copy_are_generated() -> None:
    for name in ("WHATSAPP_VERIFY_TOKEN", "RAZORPAY_WEBHOOK_SECRET"):
        assert ENV[name]["generator"] == "secret"
        assert "value" not in ENV[name]


def test_a_web_dyno_that_does_not_sleep_on_heroku_postgres() -> None:
    assert APP_JSON["buildpacks"] == [{"url": "heroku/python"}]
    web = APP_JSON["formation"]["web"]
    assert web["size"] == "basic"  # eco dynos sleep after 30 idle minutes; webhooks would wait
    assert web["quantity"] >= 1
    assert "heroku-postgresql:essential-0" in APP_JSON["addons"]


def test_what_the_button_sets_starts_a_live_shop_on_a_dyno() -> None:
    given = {name: spec["value"] for name, spec in ENV.items() if "value" in spec}
    typed_or_generated = {
        name: f"filled-in-{name.lower()}"
        for name, spec in ENV.items()
        if spec["required"] and "value" not in spec
    }
    dyno = {
        "DYNO": "web.1",
        "PORT": "41234",
        "DATABASE_URL": "postgres://u1:p2@ec2-3-91-1-1.compute-1.amazonaws.com:5432/d3",
    }
    settings = load_settings({**given, **typed_or_generated, **dyno})
    assert settings.mode is Mode.LIVE
    assert settings.host == "0.0.0.0"  # noqa: S104 - where Heroku's router connects
    assert settings.port == 41234
    database = parse_database_url(settings.database_url)
    assert ssl_mode(database, settings.postgres_options()) == "require"
