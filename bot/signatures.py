"""Webhook and redirect signatures for Meta (WhatsApp) and Razorpay.

Every check hashes the raw bytes exactly as received: re-serialised JSON differs in spacing,
escapes and key order, so it never matches. Comparisons run in constant time, and anything
missing or malformed is simply "not valid" (False), never an exception, so a route can answer
403 without special cases. The `sign_*` functions produce what the provider would send; tests
and local tooling use them.
"""

import hashlib
import hmac
from collections.abc import Mapping, Sequence

_META_PREFIX = "sha256="

# Query parameters of the payment-link callback redirect, in the order Razorpay signs them.
CALLBACK_SIGNED_PARAMS = (
    "razorpay_payment_link_id",
    "razorpay_payment_link_reference_id",
    "razorpay_payment_link_status",
    "razorpay_payment_id",
)
CALLBACK_SIGNATURE_PARAM = "razorpay_signature"


def _hex_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _same(presented: str, expected: str) -> bool:
    # compare_digest refuses non-ASCII str; a header with such bytes is simply not ours.
    try:
        presented_bytes = presented.encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(presented_bytes, expected.encode("ascii"))


# --- Meta / WhatsApp ---------------------------------------------------------------------------


def sign_meta(raw: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` header value Meta sends for `raw`."""
    return _META_PREFIX + _hex_hmac(app_secret, raw)


def verify_meta_signature(raw: bytes, header: str | None, app_secret: str) -> bool:
    """True when `header` is `sha256=<hex HMAC-SHA256 of raw keyed with app_secret>`.

    An empty secret never verifies: it would mean anyone could sign, so it is a
    misconfiguration, not a key.
    """
    if not header or not app_secret or not header.startswith(_META_PREFIX):
        return False
    return _same(header, sign_meta(raw, app_secret))


# --- Razorpay webhooks -------------------------------------------------------------------------


def sign_razorpay(raw: bytes, webhook_secret: str) -> str:
    """The `X-Razorpay-Signature` header value: lowercase hex HMAC-SHA256 of the raw body."""
    return _hex_hmac(webhook_secret, raw)


def verify_razorpay_signature(raw: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """True when `header` matches the body under any of `secrets`.

    Several secrets are accepted because, after a rotation, Razorpay still retries older events
    signed with the previous secret. Upper-case hex is rejected, as razorpay-python does.
    """
    if isinstance(secrets, str):
        # A bare str is a Sequence[str] of characters: catch the easy mistake loudly.
        raise TypeError("secrets must be a sequence of secrets, not one str")
    if not header:
        return False
    # Check every secret, not just until the first match, so timing says nothing about which.
    results = [_same(header, sign_razorpay(raw, secret)) for secret in secrets if secret]
    return any(results)


# --- Razorpay payment-link callback redirect ---------------------------------------------------


def _callback_message(link_id: str, reference_id: str, status: str, payment_id: str) -> bytes:
    return "|".join((link_id, reference_id, status, payment_id)).encode("utf-8")


def sign_razorpay_callback(
    *, link_id: str, reference_id: str, status: str, payment_id: str, key_secret: str
) -> str:
    """The `razorpay_signature` query parameter Razorpay adds to the callback redirect."""
    message = _callback_message(link_id, reference_id, status, payment_id)
    return _hex_hmac(key_secret, message)


def verify_razorpay_callback(params: Mapping[str, str], key_secret: str) -> bool:
    """Check the callback redirect's query parameters, keyed with the API key secret.

    The reference id may legitimately be empty (a link created without one); any parameter
    that is absent altogether makes the redirect invalid.
    """
    if not key_secret:
        return False
    signature = params.get(CALLBACK_SIGNATURE_PARAM)
    values = [params.get(name) for name in CALLBACK_SIGNED_PARAMS]
    if not signature or any(value is None for value in values):
        return False
    link_id, reference_id, status, payment_id = (str(value) for value in values)
    expected = sign_razorpay_callback(
        link_id=link_id,
        reference_id=reference_id,
        status=status,
        payment_id=payment_id,
        key_secret=key_secret,
    )
    return _same(signature, expected)
