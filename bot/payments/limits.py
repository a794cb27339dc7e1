"""What each payment provider takes: which currencies, and the smallest and largest amount of
one payment in each. `python -m bot check-config` and the start check a shop's `config.toml`
against the provider's limits, so a price that no link could ever carry is found before a
customer meets it. A provider module registers its limits here (`PROVIDER_LIMITS`)."""

from collections.abc import Mapping
from dataclasses import dataclass

from flows.catalog import ShopConfig

__all__ = ["PROVIDER_LIMITS", "AmountLimits", "ProviderLimits", "payment_problems"]


@dataclass(frozen=True, slots=True)
class AmountLimits:
    """One payment's bounds in one currency, in minor units."""

    minimum: int
    maximum: int


@dataclass(frozen=True, slots=True)
class ProviderLimits:
    name: str
    currencies: Mapping[str, AmountLimits]
    other_currencies: str  # why a currency outside `currencies` is refused, for the merchant


RAZORPAY = ProviderLimits(
    name="Razorpay",
    currencies={
        # "The amount must be at least INR 1.00"; ₹5,00,000 is the default per-payment ceiling
        # of a new account (Razorpay raises it on request).
        "INR": AmountLimits(minimum=100, maximum=50_000_000),
    },
    other_currencies=(
        "the bot's Razorpay payment links take INR (other currencies need Razorpay's "
        "international payments and are not supported here)"
    ),
)

PROVIDER_LIMITS: dict[str, ProviderLimits] = {"razorpay": RAZORPAY}


def payment_problems(shop: ShopConfig, provider: str) -> list[str]:
    """Every way the shop's currency and prices break the provider's limits, one line each."""
    limits = PROVIDER_LIMITS.get(provider)
    if limits is None:
        return []  # a provider that registered no limits: nothing to check against
    currency = shop.shop.currency
    bounds = limits.currencies.get(currency)
    if bounds is None:
        return [
            f"shop.currency: {currency} is not taken by {limits.name}: {limits.other_currencies}"
        ]
    return [
        f"product {product.id!r}, field price: {shop.money(product.price)} is above "
        f"{shop.money(bounds.maximum)}, the most {limits.name} takes in one payment"
        for product in shop.products
        if product.price > bounds.maximum
    ]
