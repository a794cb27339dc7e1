"""The shop's one payment provider, from PAYMENT_PROVIDER and its credentials."""

import aiohttp
from pydantic import SecretStr

from bot.clock import Clock, system_clock
from bot.payments import paystack, stripe
from bot.payments.base import PaymentProvider
from bot.payments.limits import RAZORPAY_LIMITS
from bot.payments.paystack import PaystackProvider, email_domain_of
from bot.payments.razorpay import RazorpayProvider
from bot.payments.stripe import StripeProvider
from bot.settings import PaymentProviderName, Settings
from flows.money import format_money

__all__ = ["WEBHOOK_PATHS", "amount_problems", "currency_problem", "make_provider"]

# Each provider's webhook route; only the chosen provider's exists (another answers 404).
WEBHOOK_PATHS = {
    PaymentProviderName.RAZORPAY: "/webhooks/razorpay",
    PaymentProviderName.STRIPE: "/webhooks/stripe",
    PaymentProviderName.PAYSTACK: "/webhooks/paystack",
}

_CURRENCIES = {
    PaymentProviderName.STRIPE: stripe.CURRENCIES,
    PaymentProviderName.PAYSTACK: paystack.CURRENCIES,
    PaymentProviderName.RAZORPAY: frozenset(RAZORPAY_LIMITS),
}


def make_provider(
    settings: Settings, session: aiohttp.ClientSession, clock: Clock = system_clock
) -> PaymentProvider:
    match settings.provider:
        case PaymentProviderName.STRIPE:
            return StripeProvider(
                session,
                api_base=settings.stripe_api_base,
                secret_key=_secret(settings.stripe_secret_key),
                webhook_secrets=[s.get_secret_value() for s in settings.stripe_webhook_secret],
                clock=clock,
            )
        case PaymentProviderName.PAYSTACK:
            return PaystackProvider(
                session,
                api_base=settings.paystack_api_base,
                secret_key=_secret(settings.paystack_secret_key),
                email_domain=email_domain_of(settings.public_base_url),
            )
        case PaymentProviderName.RAZORPAY:
            return RazorpayProvider(
                session,
                api_base=settings.razorpay_api_base,
                key_id=settings.razorpay_key_id or "",
                key_secret=_secret(settings.razorpay_key_secret),
                webhook_secrets=[s.get_secret_value() for s in settings.razorpay_webhook_secret],
            )


def currency_problem(provider: PaymentProviderName, currency: str) -> str | None:
    """Why the shop's currency cannot be charged with `provider`; None when it can.
    Razorpay takes INR (`bot.payments.limits`)."""
    accepted = _CURRENCIES.get(provider)
    if accepted is None or currency.upper() in accepted:
        return None
    listed = ", ".join(sorted(accepted)) if len(accepted) < 12 else "docs.stripe.com/currencies"
    return (
        f"currency {currency!r}: {provider.value.capitalize()} does not take it "
        f"(it takes {listed}); change [shop] currency or PAYMENT_PROVIDER"
    )


def amount_problems(
    provider: PaymentProviderName, currency: str, prices: dict[str, int]
) -> list[str]:
    """Products (id -> price in minor units) the provider could not charge for on their own:
    below Stripe's minimum charge for the currency, or above its eight-digit maximum; above
    Razorpay's per-payment ceiling. Paystack publishes none we could check."""
    if provider is PaymentProviderName.RAZORPAY:
        return _razorpay_amount_problems(currency, prices)
    if provider is not PaymentProviderName.STRIPE:
        return []
    least = stripe.MINIMUM_CHARGE.get(currency.upper(), 0)
    problems = []
    for product_id, price in prices.items():
        if price < least:
            problems.append(
                f"product {product_id!r}: {price} (minor units of {currency}) is below Stripe's "
                f"minimum charge of {least}; an order of only this product could not be paid"
            )
        elif price > stripe.MAXIMUM_AMOUNT:
            problems.append(
                f"product {product_id!r}: {price} (minor units of {currency}) is above Stripe's "
                f"maximum of {stripe.MAXIMUM_AMOUNT} for one payment"
            )
    return problems


def _razorpay_amount_problems(currency: str, prices: dict[str, int]) -> list[str]:
    limits = RAZORPAY_LIMITS.get(currency.upper())
    if limits is None:
        return []  # the currency itself is the problem (currency_problem)
    return [
        f"product {product_id!r}: {format_money(price, currency)} is above "
        f"{format_money(limits.maximum, currency)}, the most Razorpay takes in one payment"
        for product_id, price in prices.items()
        if price > limits.maximum
    ]


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else ""
