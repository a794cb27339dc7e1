"""Stripe's and Paystack's webhook signatures against recorded vectors (tests/fixtures/*/
signatures.json): Stripe's `t=…,v1=…` HMAC-SHA256 over "{t}.{body}" with two v1 values, an old
timestamp and secrets being rolled; Paystack's HMAC-SHA512 of the raw body."""

import json
from typing import Any

import pytest

from bot.payments.paystack import sign_paystack, verify_paystack_signature
from bot.payments.stripe import sign_stripe, verify_stripe_signature
from tests.fixtures_path import PAYSTACK_FIXTURES, STRIPE_FIXTURES

STRIPE_VECTORS: list[dict[str, Any]] = json.loads(
    (STRIPE_FIXTURES / "signatures.json").read_text(encoding="utf-8")
)
PAYSTACK_VECTORS: list[dict[str, Any]] = json.loads(
    (PAYSTACK_FIXTURES / "signatures.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("vector", STRIPE_VECTORS, ids=lambda v: f"{v['body_file']}: {v['note']}")
def test_stripe_signature_vectors(vector: dict[str, Any]) -> None:
    raw = (STRIPE_FIXTURES / vector["body_file"]).read_bytes()
    valid = verify_stripe_signature(raw, vector["header"], vector["secrets"], vector["now"])
    assert valid is vector["expected_valid"]


def test_the_notes_stripe_vector_is_in_the_file() -> None:
    raw = (STRIPE_FIXTURES / "webhooks/evt_test_webhook.json").read_bytes()
    assert raw == b'{"id":"evt_test_webhook","object":"event"}'
    assert sign_stripe(raw, "whsec_test_secret", 1700000000) == (
        "t=1700000000,v1=d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990"
    )


@pytest.mark.parametrize(
    "header",
    [None, "", "v1=abc", "t=abc,v1=abc", "t=1700000000", "t=1700000000,v1=é", "garbage"],
)
def test_stripe_headers_that_cannot_be_ours(header: str | None) -> None:
    raw = (STRIPE_FIXTURES / "webhooks/evt_test_webhook.json").read_bytes()
    assert not verify_stripe_signature(raw, header, ["whsec_test_secret"], 1700000000)


def test_stripe_a_changed_body_does_not_verify() -> None:
    raw = (STRIPE_FIXTURES / "webhooks/evt_test_webhook.json").read_bytes()
    header = sign_stripe(raw, "whsec_test_secret", 1700000000)
    assert verify_stripe_signature(raw, header, ["whsec_test_secret"], 1700000000)
    assert not verify_stripe_signature(raw + b" ", header, ["whsec_test_secret"], 1700000000)
    assert not verify_stripe_signature(raw, header, [], 1700000000)


@pytest.mark.parametrize("vector", PAYSTACK_VECTORS, ids=lambda v: f"{v['body_file']}: {v['note']}")
def test_paystack_signature_vectors(vector: dict[str, Any]) -> None:
    raw = (PAYSTACK_FIXTURES / vector["body_file"]).read_bytes()
    assert (
        verify_paystack_signature(raw, vector["signature"], vector["secret"])
        is vector["expected_valid"]
    )


def test_the_notes_paystack_vector_is_in_the_file() -> None:
    raw = (PAYSTACK_FIXTURES / "webhooks/notes_vector.json").read_bytes()
    assert sign_paystack(raw, "sk_test_secret") == (
        "2130f6ef638c761fdb4ca37650bc2c13876026920e971cf65b7e5e32d03f0b7be2828b09f04ec683a910b8dc"
        "82f6cc37b80659ffb5bc6b3f916bdd09241a197d"
    )


@pytest.mark.parametrize("header", [None, "", "zz", "é" * 128])
def test_paystack_headers_that_cannot_be_ours(header: str | None) -> None:
    raw = (PAYSTACK_FIXTURES / "webhooks/notes_vector.json").read_bytes()
    assert not verify_paystack_signature(raw, header, "sk_test_secret")
    assert not verify_paystack_signature(raw, sign_paystack(raw, "sk_test_secret"), "")
