"""Razorpay's currencies and the bounds of one payment in each, in minor units: what
`bot.payments.choose` checks a shop's `config.toml` against (check-config and the start), so a
price no link could ever carry is found before a customer meets it. Stripe's and Paystack's
live in their own modules."""

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["RAZORPAY_LIMITS", "AmountLimits"]


@dataclass(frozen=True, slots=True)
class AmountLimits:
    """One payment's bounds in one currency, in minor units."""

    minimum: int
    maximum: int


RAZORPAY_LIMITS: Mapping[str, AmountLimits] = {
    # "The amount must be at least INR 1.00"; ₹5,00,000 is the default per-payment ceiling of a
    # new account (Razorpay raises it on request). Other currencies need Razorpay's
    # international payments, which this bot's payment links do not set up.
    "INR": AmountLimits(minimum=100, maximum=50_000_000),
}
