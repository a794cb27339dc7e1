"""The environment decides live or sandbox, and names every missing variable at once."""

import pytest

from bot.settings import REQUIRED_IN_LIVE_MODE, Mode, SettingsError, load_settings

LIVE_ENV = {name: f"value-of-{name.lower()}" for name in REQUIRED_IN_LIVE_MODE}


def test_no_credentials_at_all_is_a_sandbox() -> None:
    settings = load_settings({})
    assert settings.mode is Mode.SANDBOX
    assert settings.port == 8080
    assert settings.host == "0.0.0.0"  # noqa: S104 - the default a web dyno needs
    assert settings.database_url == "sqlite:///bot.sqlite3"


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
