"""Money in the shop's currency: prices written in major units, held in minor units with the
currency's own exponent (Babel's CLDR data), converted exactly, and shown to customers in the
currency's own format."""

from decimal import Decimal

import pytest
from babel.numbers import format_currency

from flows.catalog import ShopConfig
from flows.money import (
    InvalidPrice,
    UnknownCurrency,
    check_currency,
    exponent,
    format_inr,
    format_money,
    to_major,
    to_minor,
)


@pytest.mark.parametrize(("currency", "places"), [("INR", 2), ("JPY", 0), ("KWD", 3), ("USD", 2)])
def test_each_currency_has_its_own_exponent(currency: str, places: int) -> None:
    assert exponent(currency) == places


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("249.00", "INR", 24900),
        ("249", "INR", 24900),
        ("0.1", "INR", 10),
        ("1500", "JPY", 1500),
        ("1.250", "KWD", 1250),
        ("0.005", "KWD", 5),
        ("12.5", "KWD", 12500),
        # Exact where binary floats are not: 0.29 * 100 == 28.999999999999996.
        ("0.29", "INR", 29),
        ("1234567.89", "INR", 123456789),
    ],
)
def test_major_units_become_minor_units_exactly(text: str, currency: str, minor: int) -> None:
    assert to_minor(text, currency) == minor
    assert to_major(minor, currency) == Decimal(text)


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("1500.5", "JPY", "'1500.5' has decimals, but JPY has none"),
        ("1.2345", "KWD", "'1.2345' has more than 3 decimals"),
        ("249.999", "INR", "'249.999' has more than 2 decimals"),
        ("-1", "INR", "is not a INR amount like 249.00"),
        ("1e3", "KWD", "is not a KWD amount like 249.000"),
        ("1,000", "JPY", "is not a JPY amount like 249"),
        ("NaN", "INR", "is not a INR amount"),
        ("", "INR", "is not a INR amount"),
    ],
)
def test_more_decimals_than_the_currency_has_are_refused(
    text: str, currency: str, message: str
) -> None:
    with pytest.raises(InvalidPrice, match=message):
        to_minor(text, currency)


@pytest.mark.parametrize("code", ["RUPEES", "inr", "XYZ", "", "₹"])
def test_unknown_currency_codes_are_refused(code: str) -> None:
    with pytest.raises(UnknownCurrency, match="is not a currency code"):
        check_currency(code)


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "shown"),
    [
        (149900, "INR", "en_IN", "₹1,499.00"),
        (14999900, "INR", "en_IN", "₹1,49,999.00"),  # Indian digit grouping
        (5, "INR", "en_IN", "₹0.05"),
        (-1250, "INR", "en_IN", "-₹12.50"),
        (1500, "JPY", "ja_JP", "￥1,500"),
        (1500, "USD", "en_US", "$15.00"),
        (1250, "KWD", "en_US", "KWD1.250"),
    ],
)
def test_amounts_are_shown_in_the_currency_s_own_format(
    minor: int, currency: str, locale: str, shown: str
) -> None:
    assert format_money(minor, currency, locale).replace("\xa0", " ") == shown


def test_format_inr_is_the_indian_rupee_case() -> None:
    assert format_inr(24900) == format_money(24900, "INR", "en_IN") == "₹249.00"


def test_a_shop_reads_its_prices_in_its_own_currency() -> None:
    products = [{"id": "matcha", "name": "Matcha", "price": "1500", "category": "Tea"}]
    yen = ShopConfig.model_validate(
        {"shop": {"name": "Kissa", "currency": "JPY", "locale": "ja_JP"}, "products": products}
    )
    dinar = ShopConfig.model_validate(
        {
            "shop": {"name": "Dukkan", "currency": "KWD", "locale": "en_US"},
            "products": [{**products[0], "price": "1.250"}],
        }
    )
    rupee = ShopConfig.model_validate({"shop": {"name": "Chai"}, "products": products})

    assert yen.products[0].price == 1500
    assert yen.money(yen.products[0].price) == "￥1,500"
    assert dinar.products[0].price == 1250
    assert rupee.products[0].price == 150000
    assert rupee.money(rupee.products[0].price) == "₹1,500.00"


@pytest.mark.parametrize("locale", ["en_IN", "hi_IN", "en_US", "ja_JP", "de_DE", "fr_FR", "ar_KW"])
@pytest.mark.parametrize("currency", ["INR", "JPY", "KWD", "USD", "EUR"])
def test_every_amount_is_written_exactly_as_babel_writes_it(locale: str, currency: str) -> None:
    """format_money reads Babel's shape once per currency and locale (a message of many
    amounts would otherwise run Babel's pattern engine for each); it never writes one
    differently from Babel."""
    amounts = [*range(0, 2_000_000, 997), -1, -250, 10**15 + 1, -(10**12)]
    for minor in amounts:
        expected = format_currency(to_major(minor, currency), currency, locale=locale)
        assert format_money(minor, currency, locale) == expected, minor
