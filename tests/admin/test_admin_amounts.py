"""Refund amounts typed on the dashboard are read in the order's own currency, exactly."""

import pytest

from bot.merchant.dashboard.routes import parse_amount


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [
        ("249.50", "INR", 24950),
        ("₹1,249.5", "INR", 124950),
        ("250", "INR", 25000),
        ("1500", "JPY", 1500),
        ("¥1,500", "JPY", 1500),
        ("1.250", "KWD", 1250),
    ],
)
def test_an_amount_is_read_in_the_orders_currency(typed: str, currency: str, minor: int) -> None:
    assert parse_amount(typed, currency) == minor


@pytest.mark.parametrize(
    ("typed", "currency", "said"),
    [
        ("ten rupees", "INR", "like 250 or 249.50"),
        ("15.5", "JPY", "like 250,"),
        ("249.505", "INR", "like 250 or 249.50"),
        ("-5", "INR", "like 250 or 249.50"),
    ],
)
def test_an_amount_the_currency_cannot_hold_is_refused_clearly(
    typed: str, currency: str, said: str
) -> None:
    with pytest.raises(Exception, match="amount: write an amount") as refused:
        parse_amount(typed, currency)
    assert said in str(refused.value)
