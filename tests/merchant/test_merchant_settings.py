"""The merchant channels' settings: each channel needs its pair, the webhook secret has the
Standard Webhooks form, owner numbers are digits."""

import pytest

from bot.settings import SettingsError, load_settings

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_every_channel_is_optional_and_off_by_default() -> None:
    settings = load_settings({})
    assert settings.merchant_webhook_url is None
    assert settings.owner_whatsapp == ()
    assert settings.merchant_webhook_allow_private is False


def test_owner_numbers_are_a_comma_separated_list() -> None:
    settings = load_settings({"OWNER_WHATSAPP": "+919900000077, 919900000078"})
    assert settings.owner_whatsapp == ("919900000077", "919900000078")
    with pytest.raises(SettingsError, match="OWNER_WHATSAPP"):
        load_settings({"OWNER_WHATSAPP": "91990000007x"})


@pytest.mark.parametrize(
    "env",
    [
        {"MERCHANT_WEBHOOK_URL": "https://hooks.example.com/x"},
        {"MERCHANT_EMAIL": "owner@example.com"},
        {"TELEGRAM_BOT_TOKEN": "123:ABC"},
        {"TELEGRAM_CHAT_ID": "-100"},
    ],
)
def test_a_channel_half_set_up_is_refused(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="go together"):
        load_settings(env)


@pytest.mark.parametrize(
    "secret", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_c2hvcnQ=", "whsec_%%"]
)
def test_the_webhook_secret_must_have_the_standard_webhooks_form(secret: str) -> None:
    env = {"MERCHANT_WEBHOOK_URL": "https://hooks.example.com/x", "MERCHANT_WEBHOOK_SECRET": secret}
    with pytest.raises(SettingsError, match="whsec_"):
        load_settings(env)
    env["MERCHANT_WEBHOOK_SECRET"] = SECRET
    assert load_settings(env).merchant_webhook_secret is not None


def test_smtp_url_names_its_scheme() -> None:
    with pytest.raises(SettingsError, match="SMTP_URL"):
        load_settings({"MERCHANT_EMAIL": "o@example.com", "SMTP_URL": "mail.example.com:587"})
