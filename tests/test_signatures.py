"""Signature checks for Meta webhooks, Razorpay webhooks and the Razorpay callback redirect."""

import json
from typing import Any

import pytest

from bot.signatures import (
    sign_meta,
    sign_razorpay,
    sign_razorpay_callback,
    verify_meta_signature,
    verify_razorpay_callback,
    verify_razorpay_signature,
)
from tests.fixtures_path import RAZORPAY_FIXTURES
from tests.whatsapp.support import APP_SECRET, FIXTURE_NAMES, INDEX, fixture

WEBHOOK_SECRET = "rzp-webhook-secret-for-tests-only"
ROTATED_SECRET = "rzp-webhook-secret-rotated-out"
KEY_SECRET = "key-secret-for-tests-only"


def _corpus(name: str) -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = json.loads((RAZORPAY_FIXTURES / name).read_bytes())
    return vectors


WEBHOOK_VECTORS = _corpus("signatures.json")
CALLBACK_VECTORS = _corpus("callback_signatures.json")


# --- Meta ----------------------------------------------------------------------------------------


def test_every_whatsapp_fixture_is_listed_in_the_index() -> None:
    assert FIXTURE_NAMES
    assert set(FIXTURE_NAMES) == set(INDEX)


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_whatsapp_fixture_verifies_with_its_signature(name: str) -> None:
    raw = fixture(name)
    size, header = INDEX[name]

    assert len(raw) == size
    assert verify_meta_signature(raw, header, APP_SECRET)
    assert sign_meta(raw, APP_SECRET) == header


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_a_signature_over_reserialised_json_fails(name: str) -> None:
    raw = fixture(name)
    for reserialised in (
        json.dumps(json.loads(raw)).encode(),
        json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).encode(),
    ):
        assert reserialised != raw
        assert not verify_meta_signature(raw, sign_meta(reserialised, APP_SECRET), APP_SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha1=" + "0" * 40,
        INDEX["inbound_text.json"][1].removeprefix("sha256="),  # digest without the prefix
        INDEX["inbound_text.json"][1].upper(),
        INDEX["inbound_text.json"][1][:-1],  # truncated
        INDEX["inbound_image.json"][1],  # another body's signature
        "sha256=" + "é" * 64,  # non-ASCII must not raise
    ],
)
def test_bad_or_missing_meta_signatures_fail(header: str | None) -> None:
    assert not verify_meta_signature(fixture("inbound_text.json"), header, APP_SECRET)


def test_meta_signature_fails_with_another_secret_or_a_changed_body() -> None:
    raw = fixture("inbound_text.json")
    header = INDEX["inbound_text.json"][1]

    assert not verify_meta_signature(raw, header, "another_secret")
    assert not verify_meta_signature(raw + b"\n", header, APP_SECRET)
    assert not verify_meta_signature(raw.replace(b"size 9", b"size 8"), header, APP_SECRET)


def test_an_empty_app_secret_never_verifies() -> None:
    raw = b"{}"
    assert not verify_meta_signature(raw, sign_meta(raw, ""), "")


# --- Razorpay webhooks ---------------------------------------------------------------------------


@pytest.mark.parametrize("vector", WEBHOOK_VECTORS, ids=lambda v: v["note"])
def test_razorpay_webhook_vectors(vector: dict[str, Any]) -> None:
    raw = (RAZORPAY_FIXTURES / vector["body_file"]).read_bytes()

    result = verify_razorpay_signature(raw, vector["signature"], [vector["secret"]])

    assert result is vector["expected_valid"]


def test_razorpay_rotation_accepts_the_previous_secret_only_while_configured() -> None:
    raw = (RAZORPAY_FIXTURES / "webhooks/payment_link.paid.json").read_bytes()
    old_signature = sign_razorpay(raw, ROTATED_SECRET)
    new_signature = sign_razorpay(raw, WEBHOOK_SECRET)

    assert verify_razorpay_signature(raw, old_signature, [WEBHOOK_SECRET, ROTATED_SECRET])
    assert verify_razorpay_signature(raw, new_signature, (WEBHOOK_SECRET, ROTATED_SECRET))
    assert not verify_razorpay_signature(raw, old_signature, [WEBHOOK_SECRET])


def test_razorpay_sign_matches_the_first_vector() -> None:
    vector = WEBHOOK_VECTORS[0]
    raw = (RAZORPAY_FIXTURES / vector["body_file"]).read_bytes()

    assert sign_razorpay(raw, vector["secret"]) == vector["signature"]


@pytest.mark.parametrize("header", [None, "", "not-hex", "é" * 64])
def test_razorpay_missing_or_malformed_header_fails(header: str | None) -> None:
    assert not verify_razorpay_signature(b"{}", header, [WEBHOOK_SECRET])


def test_razorpay_without_secrets_or_with_empty_ones_fails() -> None:
    raw = b"{}"
    assert not verify_razorpay_signature(raw, sign_razorpay(raw, WEBHOOK_SECRET), [])
    assert not verify_razorpay_signature(raw, sign_razorpay(raw, ""), [""])


def test_razorpay_refuses_a_bare_string_of_secrets() -> None:
    with pytest.raises(TypeError):
        verify_razorpay_signature(b"{}", "00", WEBHOOK_SECRET)


# --- Razorpay callback redirect ------------------------------------------------------------------


@pytest.mark.parametrize("vector", CALLBACK_VECTORS, ids=lambda v: v["note"])
def test_razorpay_callback_vectors(vector: dict[str, Any]) -> None:
    assert verify_razorpay_callback(vector["params"], vector["secret"]) is vector["expected_valid"]


@pytest.mark.parametrize(
    "missing",
    [
        "razorpay_payment_id",
        "razorpay_payment_link_id",
        "razorpay_payment_link_reference_id",
        "razorpay_payment_link_status",
        "razorpay_signature",
    ],
)
def test_razorpay_callback_with_a_missing_parameter_fails(missing: str) -> None:
    vector = CALLBACK_VECTORS[0]
    assert verify_razorpay_callback(vector["params"], vector["secret"])
    params = {k: v for k, v in vector["params"].items() if k != missing}

    assert not verify_razorpay_callback(params, vector["secret"])


def test_razorpay_callback_with_an_empty_key_secret_fails() -> None:
    assert not verify_razorpay_callback(CALLBACK_VECTORS[0]["params"], "")


def test_sign_razorpay_callback_matches_the_vectors() -> None:
    for vector in (v for v in CALLBACK_VECTORS if v["expected_valid"]):
        params = vector["params"]
        signature = sign_razorpay_callback(
            link_id=params["razorpay_payment_link_id"],
            reference_id=params["razorpay_payment_link_reference_id"],
            status=params["razorpay_payment_link_status"],
            payment_id=params["razorpay_payment_id"],
            key_secret=vector["secret"],
        )
        assert signature == params["razorpay_signature"]
