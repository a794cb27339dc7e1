"""The merchant's order event names the provider that took the payment, from its link id."""

import pytest

from flows.merchant import payment_provider


@pytest.mark.parametrize(
    ("link_id", "provider"),
    [
        ("plink_Qx7Rm2KpL9vTzA", "razorpay"),
        ("cs_test_a1B2c3D4e5F6g7H8i9J0", "stripe"),
        ("ORD-20261201-4C7D2E9A1B3F-1a2b3c4d", "paystack"),
        (None, None),
        ("", None),
    ],
)
def test_the_provider_is_read_from_the_link_id(link_id: str | None, provider: str | None) -> None:
    assert payment_provider(link_id) == provider
