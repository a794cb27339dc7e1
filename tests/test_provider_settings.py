"""PAYMENT_PROVIDER: the provider whose credentials are set, else Razorpay; two providers'
credentials without the variable is an error naming both; live mode needs the chosen one's."""

from pathlib import Path

import pytest

from bot.cli import main
from bot.payments.choose import amount_problems, currency_problem
from bot.settings import (
    WHATSAPP_SECRETS,
    Mode,
    PaymentProviderName,
    SettingsError,
    load_settings,
)

WHATSAPP = {name: f"value-of-{name.lower()}" for name in WHATSAPP_SECRETS}
RAZORPAY = {
    "RAZORPAY_KEY_ID": "rzp_live_x",
    "RAZORPAY_KEY_SECRET": "s",
    "RAZORPAY_WEBHOOK_SECRET": "w",
}
STRIPE = {"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_new,whsec_old"}
PAYSTACK = {"PAYSTACK_SECRET_KEY": "sk_live_p"}
PUBLIC = {"PUBLIC_BASE_URL": "https://shop.example.com/"}


def test_the_provider_with_credentials_is_chosen() -> None:
    assert load_settings({**WHATSAPP, **RAZORPAY}).provider is PaymentProviderName.RAZORPAY
    stripe = load_settings({**WHATSAPP, **STRIPE, **PUBLIC})
    assert stripe.provider is PaymentProviderName.STRIPE
    assert [s.get_secret_value() for s in stripe.stripe_webhook_secret] == [
        "whsec_new",
        "whsec_old",
    ]
    paystack = load_settings({**WHATSAPP, **PAYSTACK, **PUBLIC})
    assert paystack.provider is PaymentProviderName.PAYSTACK
    assert paystack.mode is Mode.LIVE


def test_no_credentials_is_razorpay_and_a_sandbox() -> None:
    settings = load_settings({})
    assert (settings.provider, settings.mode) == (PaymentProviderName.RAZORPAY, Mode.SANDBOX)


def test_two_providers_credentials_without_the_variable_name_both() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**WHATSAPP, **RAZORPAY, **PAYSTACK, **PUBLIC})
    message = str(raised.value)
    assert "razorpay and paystack" in message
    assert "PAYSTACK_SECRET_KEY" in message
    assert "RAZORPAY_KEY_ID" in message
    assert "PAYMENT_PROVIDER" in message


def test_the_variable_settles_it_and_needs_that_providers_credentials() -> None:
    chosen = load_settings(
        {**WHATSAPP, **RAZORPAY, **STRIPE, **PUBLIC, "PAYMENT_PROVIDER": "Stripe"}
    )
    assert chosen.provider is PaymentProviderName.STRIPE
    with pytest.raises(SettingsError) as raised:
        load_settings({**WHATSAPP, **RAZORPAY, "PAYMENT_PROVIDER": "paystack", **PUBLIC})
    assert "PAYSTACK_SECRET_KEY" in str(raised.value)
    assert "RAZORPAY_KEY_ID" not in str(raised.value)


def test_an_unknown_provider_is_named() -> None:
    with pytest.raises(SettingsError, match="PAYMENT_PROVIDER"):
        load_settings({"PAYMENT_PROVIDER": "paypal"})


def test_stripe_or_paystack_live_needs_the_public_address_for_the_return_page() -> None:
    for credentials in (STRIPE, PAYSTACK):
        with pytest.raises(SettingsError, match="PUBLIC_BASE_URL"):
            load_settings({**WHATSAPP, **credentials})


def test_a_half_set_stripe_names_what_is_missing() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings({**WHATSAPP, "STRIPE_SECRET_KEY": "sk_live_x", **PUBLIC})
    assert "STRIPE_WEBHOOK_SECRET" in str(raised.value)


@pytest.mark.parametrize(
    ("provider", "currency", "fine"),
    [
        (PaymentProviderName.STRIPE, "USD", True),
        (PaymentProviderName.STRIPE, "jpy", True),
        (PaymentProviderName.STRIPE, "XXX", False),
        (PaymentProviderName.PAYSTACK, "NGN", True),
        (PaymentProviderName.PAYSTACK, "INR", False),
        (PaymentProviderName.RAZORPAY, "INR", True),
    ],
)
def test_the_shops_currency_must_be_one_the_provider_takes(
    provider: PaymentProviderName, currency: str, fine: bool
) -> None:
    problem = currency_problem(provider, currency)
    assert (problem is None) is fine
    if problem is not None:
        assert currency in problem
        assert provider.value.capitalize() in problem


CONFIG = """
[shop]
name = "Chai Point"

[[products]]
id = "chai"
name = "Masala Chai 250 g"
price = "249.00"
category = "Tea"
"""


def check_config(
    tmp_path: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    code = main(["check-config", str(path)], env=env)
    return code, capsys.readouterr().err


def test_check_config_names_mixed_credentials_and_a_currency_the_provider_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = check_config(tmp_path, {**RAZORPAY, **STRIPE}, capsys)
    assert code == 1
    assert "razorpay and stripe" in report

    code, report = check_config(tmp_path, {"PAYMENT_PROVIDER": "paystack"}, capsys)
    assert code == 1
    assert "currency 'INR': Paystack does not take it" in report

    code, report = check_config(tmp_path, {"PAYMENT_PROVIDER": "paypal"}, capsys)
    assert code == 1
    assert "PAYMENT_PROVIDER='paypal'" in report

    assert check_config(tmp_path, {"PAYMENT_PROVIDER": "stripe"}, capsys)[0] == 0
    assert check_config(tmp_path, {}, capsys)[0] == 0


def test_stripe_minimum_and_maximum_charges_per_product() -> None:
    prices = {"sticker": 40, "chai": 24900, "gold": 100_000_000}
    problems = amount_problems(PaymentProviderName.STRIPE, "INR", prices)
    assert len(problems) == 2
    assert "'sticker'" in problems[0]
    assert "minimum charge of 50" in problems[0]
    assert "'gold'" in problems[1]
    assert "maximum of 99999999" in problems[1]
    assert amount_problems(PaymentProviderName.PAYSTACK, "NGN", prices) == []
