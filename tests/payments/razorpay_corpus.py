"""The Razorpay corpus and a provider built for tests (imported by the test modules)."""

import json
from typing import Any

import aiohttp

from bot.payments.razorpay import RazorpayProvider
from tests.fixtures_path import RAZORPAY_FIXTURES

RAZORPAY = RAZORPAY_FIXTURES
WEBHOOKS = RAZORPAY / "webhooks"

API_BASE = "https://api.razorpay.test/v1"
KEY_ID = "rzp_test_key_id"
KEY_SECRET = "key-secret-for-tests-only"
WEBHOOK_SECRET = "rzp-webhook-secret-for-tests-only"
ROTATED_SECRET = "rzp-webhook-secret-rotated-out"


def webhook_bytes(name: str) -> bytes:
    """A webhook body exactly as Razorpay sent it (the file bytes are the HTTP body)."""
    return (WEBHOOKS / name).read_bytes()


def api_json(name: str) -> Any:
    return json.loads((RAZORPAY / "api" / name).read_text(encoding="utf-8"))


def corpus_json(name: str) -> Any:
    return json.loads((RAZORPAY / name).read_text(encoding="utf-8"))


class _NoSession:
    """Webhook and callback checks never touch the session; this stands in for one."""

    timeout = aiohttp.ClientTimeout(total=5)


def make_provider(
    session: aiohttp.ClientSession | None = None,
    *,
    key_secret: str = KEY_SECRET,
    webhook_secrets: tuple[str, ...] = (WEBHOOK_SECRET, ROTATED_SECRET),
    api_base: str = API_BASE,
) -> RazorpayProvider:
    stand_in: Any = _NoSession()
    return RazorpayProvider(
        session if session is not None else stand_in,
        api_base,
        key_id=KEY_ID,
        key_secret=key_secret,
        webhook_secrets=webhook_secrets,
    )
