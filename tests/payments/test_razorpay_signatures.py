"""Webhook and callback-redirect signatures against the shared Razorpay vectors."""

from typing import Any

import pytest
from razorpay_corpus import (
    KEY_SECRET,
    ROTATED_SECRET,
    WEBHOOK_SECRET,
    corpus_json,
    make_provider,
    webhook_bytes,
)

from bot.payments import CallbackResult
from bot.signatures import sign_razorpay, sign_razorpay_callback

WEBHOOK_VECTORS: list[dict[str, Any]] = corpus_json("signatures.json")
CALLBACK_VECTORS: list[dict[str, Any]] = corpus_json("callback_signatures.json")
PAID = "payment_link.paid.json"


def _body(vector: dict[str, Any]) -> bytes:
    return webhook_bytes(vector["body_file"].removeprefix("webhooks/"))


@pytest.mark.parametrize("vector", WEBHOOK_VECTORS, ids=lambda v: v["note"])
def test_webhook_vectors_with_the_receivers_secret(vector: dict[str, Any]) -> None:
    provider = make_provider(webhook_secrets=(vector["secret"],))
    headers = {"X-Razorpay-Signature": vector["signature"]}

    assert provider.verify_webhook(_body(vector), headers) is vector["expected_valid"]


@pytest.mark.parametrize("vector", WEBHOOK_VECTORS, ids=lambda v: v["note"])
def test_webhook_vectors_during_a_rotation(vector: dict[str, Any]) -> None:
    # Both secrets configured: everything valid stays valid, nothing invalid becomes valid.
    provider = make_provider(webhook_secrets=(WEBHOOK_SECRET, ROTATED_SECRET))
    headers = {"x-razorpay-signature": vector["signature"]}

    assert provider.verify_webhook(_body(vector), headers) is vector["expected_valid"]


def test_old_secret_is_refused_once_rotation_ends() -> None:
    raw = webhook_bytes(PAID)
    headers = {"X-Razorpay-Signature": sign_razorpay(raw, ROTATED_SECRET)}

    assert make_provider(webhook_secrets=(WEBHOOK_SECRET, ROTATED_SECRET)).verify_webhook(
        raw, headers
    )
    assert not make_provider(webhook_secrets=(WEBHOOK_SECRET,)).verify_webhook(raw, headers)


def test_tampered_body_with_the_original_signature_is_refused() -> None:
    signature = sign_razorpay(webhook_bytes(PAID), WEBHOOK_SECRET)
    tampered = webhook_bytes("variants/payment_link.paid.tampered.json")

    assert not make_provider().verify_webhook(tampered, {"X-Razorpay-Signature": signature})


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Razorpay-Signature": ""}, {"X-Hub-Signature-256": "sha256=00"}],
    ids=["absent", "empty", "wrong-header"],
)
def test_missing_signature_is_refused(headers: dict[str, str]) -> None:
    assert not make_provider().verify_webhook(webhook_bytes(PAID), headers)


def test_no_configured_secret_refuses_everything() -> None:
    raw = webhook_bytes(PAID)
    headers = {"X-Razorpay-Signature": sign_razorpay(raw, WEBHOOK_SECRET)}

    assert not make_provider(webhook_secrets=()).verify_webhook(raw, headers)


# --- callback redirect ------------------------------------------------------------------------


@pytest.mark.parametrize("vector", CALLBACK_VECTORS, ids=lambda v: v["note"])
def test_callback_vectors(vector: dict[str, Any]) -> None:
    params: dict[str, str] = vector["params"]

    result = make_provider(key_secret=vector["secret"]).verify_callback(params)

    if not vector["expected_valid"]:
        assert result is None
        return
    assert result == CallbackResult(
        order_id=params["razorpay_payment_link_reference_id"],
        link_id=params["razorpay_payment_link_id"],
        payment_id=params["razorpay_payment_id"],
        status=params["razorpay_payment_link_status"],
    )


def _valid_query() -> dict[str, str]:
    query = {
        "razorpay_payment_id": "pay_Qx7Ro5JtF3gNsU",
        "razorpay_payment_link_id": "plink_Qx7Rm2KpL9vTzA",
        "razorpay_payment_link_reference_id": "wa-ord-2025-000042",
        "razorpay_payment_link_status": "paid",
    }
    query["razorpay_signature"] = sign_razorpay_callback(
        link_id=query["razorpay_payment_link_id"],
        reference_id=query["razorpay_payment_link_reference_id"],
        status=query["razorpay_payment_link_status"],
        payment_id=query["razorpay_payment_id"],
        key_secret=KEY_SECRET,
    )
    return query


def test_callback_with_our_order() -> None:
    result = make_provider().verify_callback(_valid_query())

    assert result == CallbackResult(
        order_id="wa-ord-2025-000042",
        link_id="plink_Qx7Rm2KpL9vTzA",
        payment_id="pay_Qx7Ro5JtF3gNsU",
        status="paid",
    )


@pytest.mark.parametrize("missing", sorted(_valid_query()))
def test_callback_missing_any_parameter_is_invalid(missing: str) -> None:
    query = _valid_query()
    del query[missing]

    assert make_provider().verify_callback(query) is None


def test_callback_checked_with_another_key_secret_is_invalid() -> None:
    assert make_provider(key_secret=WEBHOOK_SECRET).verify_callback(_valid_query()) is None


def test_callback_with_empty_query_is_invalid() -> None:
    assert make_provider().verify_callback({}) is None
