"""The environment decides live or sandbox, and names every missing variable at once."""

import pytest

from bot.settings import REQUIRED_IN_LIVE_MODE, Mode, SettingsError, load_settings

LIVE_ENV = {name: f"value-of-{name.lower()}" for name in REQUIRED_IN_LIVE_MODE}
HEROKU_POSTGRES = "postgres://u1:p2@ec2-3-91-1-1.compute-1.amazonaws.com:5432/d3"
EVERY_INTERFACE = "0.0.0.0"  # noqa: S104 - what a live shop on a dyno must listen on


def test_no_credentials_at_all_is_a_sandbox() -> None:
    settings = load_settings({})
    assert settings.mode is Mode.SANDBOX
    assert settings.port == 8080
    assert settings.database_url == "sqlite:///bot.sqlite3"


def test_the_sandbox_listens_on_this_machine_only_unless_host_says_otherwise() -> None:
    # It shows every order and publishes the secrets that sign payment webhooks.
    assert load_settings({}).host == "127.0.0.1"
    assert load_settings({"HOST": EVERY_INTERFACE}).host == EVERY_INTERFACE


def test_a_live_shop_listens_on_every_interface_unless_host_says_otherwise() -> None:
    assert load_settings(LIVE_ENV).host == EVERY_INTERFACE
    assert load_settings({**LIVE_ENV, "HOST": "127.0.0.1"}).host == "127.0.0.1"


def test_every_credential_is_a_live_shop() -> None:
    settings = load_settings({**LIVE_ENV, "PORT": "5000"})
    assert settings.mode is Mode.LIVE
    assert settings.port == 5000
    assert settings.whatsapp_api_base == "https://graph.facebook.com/v25.0"
    assert settings.razorpay_api_base == "https://api.razorpay.com/v1"


def test_a_partial_set_names_every_missing_variable() -> None:
    env = {"WHATSAPP_ACCESS_TOKEN": "t", "RAZORPAY_KEY_ID": "rzp_test"}
    with pytest.raises(SettingsError) as raised:
        load_settings(env)
    message = str(raised.value)
    for name in set(REQUIRED_IN_LIVE_MODE) - set(env):
        assert name in message
    assert "WHATSAPP_ACCESS_TOKEN," not in message


def test_live_mode_demands_credentials_even_when_none_are_set() -> None:
    with pytest.raises(SettingsError, match="WHATSAPP_APP_SECRET"):
        load_settings({"BOT_MODE": "live"})


def test_sandbox_can_be_forced_with_credentials_present() -> None:
    assert load_settings({**LIVE_ENV, "BOT_MODE": "sandbox"}).mode is Mode.SANDBOX


def test_webhook_secrets_accept_a_list_for_rotation() -> None:
    settings = load_settings({**LIVE_ENV, "RAZORPAY_WEBHOOK_SECRET": "new-secret, old-secret"})
    assert [s.get_secret_value() for s in settings.razorpay_webhook_secret] == [
        "new-secret",
        "old-secret",
    ]


def test_secrets_do_not_show_in_repr() -> None:
    settings = load_settings(LIVE_ENV)
    assert "value-of-whatsapp_app_secret" not in repr(settings)


def test_bad_values_are_named() -> None:
    with pytest.raises(SettingsError, match="PORT"):
        load_settings({"PORT": "eighty"})
    with pytest.raises(SettingsError, match="LOG_LEVEL"):
        load_settings({"LOG_LEVEL": "chatty"})


def test_api_bases_lose_a_trailing_slash() -> None:
    settings = load_settings({**LIVE_ENV, "WHATSAPP_API_BASE": "http://127.0.0.1:9/v25.0/"})
    assert settings.whatsapp_api_base == "http://127.0.0.1:9/v25.0"


# --- on a hosting platform ----------------------------------------------------------------------

PLATFORMS = {
    "Heroku": {"DYNO": "web.1"},
    "Scalingo": {"CONTAINER": "web-1", "CONTAINER_VERSION": "0f3c9a1", "APP": "chai-point"},
    "Google Cloud Run": {"K_SERVICE": "shop"},
    "Render": {"RENDER": "true"},
    "Railway": {"RAILWAY_ENVIRONMENT": "production"},
    "Fly.io": {"FLY_APP_NAME": "chai-point"},
}
WITHOUT_A_DISK = ["Heroku", "Scalingo", "Google Cloud Run"]
WITH_A_DISK = ["Render", "Railway", "Fly.io"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_platform_without_credentials_never_becomes_a_sandbox(platform: str) -> None:
    env = {**PLATFORMS[platform], "DATABASE_URL": HEROKU_POSTGRES}
    with pytest.raises(SettingsError) as raised:
        load_settings(env)
    message = str(raised.value)
    for name in REQUIRED_IN_LIVE_MODE:
        assert name in message
    assert platform in message
    assert "BOT_MODE=sandbox" in message


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_platform_with_some_credentials_names_the_rest(platform: str) -> None:
    env = {**PLATFORMS[platform], "DATABASE_URL": HEROKU_POSTGRES, "RAZORPAY_KEY_ID": "rzp"}
    with pytest.raises(SettingsError, match="WHATSAPP_ACCESS_TOKEN") as raised:
        load_settings(env)
    assert "RAZORPAY_KEY_ID," not in str(raised.value)


def test_a_sandbox_asked_for_on_a_platform_runs_and_still_listens_on_loopback() -> None:
    settings = load_settings({"DYNO": "web.1", "BOT_MODE": "sandbox"})
    assert settings.mode is Mode.SANDBOX
    assert settings.host == "127.0.0.1"


@pytest.mark.parametrize("platform", WITHOUT_A_DISK)
@pytest.mark.parametrize("url", [None, "sqlite:////app/data/bot.sqlite3"])
def test_a_live_shop_refuses_sqlite_where_the_disk_is_wiped(platform: str, url: str | None) -> None:
    env = {**LIVE_ENV, **PLATFORMS[platform], **({"DATABASE_URL": url} if url else {})}
    with pytest.raises(SettingsError) as raised:
        load_settings(env)
    message = str(raised.value)
    assert message.startswith("DATABASE_URL is a SQLite file")
    assert "wipes the filesystem on every restart" in message
    assert "Postgres" in message


def test_on_heroku_the_refusal_says_how_to_add_postgres() -> None:
    with pytest.raises(SettingsError, match="heroku addons:create heroku-postgresql:essential-0"):
        load_settings({**LIVE_ENV, "DYNO": "web.1"})


@pytest.mark.parametrize("platform", WITHOUT_A_DISK)
def test_a_live_shop_on_postgres_starts_where_the_disk_is_wiped(platform: str) -> None:
    env = {**LIVE_ENV, **PLATFORMS[platform], "DATABASE_URL": HEROKU_POSTGRES}
    settings = load_settings(env)
    assert settings.mode is Mode.LIVE
    assert settings.host == EVERY_INTERFACE


@pytest.mark.parametrize("platform", WITH_A_DISK)
def test_a_live_shop_keeps_sqlite_where_a_disk_can_be_attached(platform: str) -> None:
    env = {**LIVE_ENV, **PLATFORMS[platform], "DATABASE_URL": "sqlite:////data/bot.sqlite3"}
    assert load_settings(env).database_url == "sqlite:////data/bot.sqlite3"


def test_heroku_ci_is_not_a_dyno_that_loses_data() -> None:
    assert load_settings({**LIVE_ENV, "DYNO": "run.1", "CI": "true"}).mode is Mode.LIVE


def test_a_sandbox_asked_for_on_heroku_may_keep_its_made_up_orders_in_sqlite() -> None:
    assert load_settings({"DYNO": "web.1", "BOT_MODE": "sandbox"}).database_url.startswith(
        "sqlite:"
    )


def test_every_problem_on_a_fresh_dyno_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({"DYNO": "web.1", "PORT": "41234"})
    first, second = raised.value.problems
    assert first.startswith("missing required environment variables: WHATSAPP_ACCESS_TOKEN")
    assert second.startswith("DATABASE_URL is a SQLite file")


def test_the_shutdown_grace_must_fit_herokus_thirty_seconds() -> None:
    heroku = {**LIVE_ENV, "DYNO": "web.1", "DATABASE_URL": HEROKU_POSTGRES}
    with pytest.raises(SettingsError, match="SHUTDOWN_GRACE_SECONDS=27 does not fit"):
        load_settings({**heroku, "SHUTDOWN_GRACE_SECONDS": "27"})
    assert (
        load_settings({**heroku, "SHUTDOWN_GRACE_SECONDS": "26.5"}).shutdown_grace_seconds == 26.5
    )
    # Off Heroku the window is the merchant's to choose.
    assert load_settings({**LIVE_ENV, "SHUTDOWN_GRACE_SECONDS": "60"}).shutdown_grace_seconds == 60
