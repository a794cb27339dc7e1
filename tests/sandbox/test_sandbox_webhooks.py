"""What the stand-ins send the bot: signed Razorpay webhooks shaped like the fixtures, the signed
browser redirect, and the checkout page that triggers them."""

import asyncio
import hashlib
import hmac
import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiohttp.test_utils import TestClient

from bot.sandbox import SandboxState
from bot.sandbox import razorpay as sandbox_razorpay
from bot.sandbox.signing import (
    meta_signature,
    razorpay_callback_signature,
    razorpay_webhook_signature,
)
from bot.settings import Settings
from tests.fixtures_path import RAZORPAY_FIXTURES, WHATSAPP_FIXTURES
from tests.sandbox.conftest import NOW, FakeBot
from tests.sandbox.test_sandbox_razorpay import basic, link_request

WEBHOOKS = RAZORPAY_FIXTURES / "webhooks"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((WEBHOOKS / f"{name}.json").read_bytes())


def webhook_secret(settings: Settings) -> bytes:
    return settings.razorpay_webhook_secret[0].get_secret_value().encode()


def key_secret(settings: Settings) -> str:
    assert settings.razorpay_key_secret is not None
    return settings.razorpay_key_secret.get_secret_value()


async def new_link(client: TestClient[Any, Any], settings: Settings, **extra: Any) -> str:
    body = link_request(**extra)
    response = await client.post(
        "/sandbox/razorpay/v1/payment_links", json=body, headers=basic(settings)
    )
    assert response.status == 200
    link_id: str = (await response.json())["id"]
    return link_id


def only_event(fake_bot: FakeBot, settings: Settings) -> dict[str, Any]:
    [hook] = fake_bot.on("/webhooks/razorpay")
    expected = hmac.new(webhook_secret(settings), hook.body, hashlib.sha256).hexdigest()
    assert hook.headers["X-Razorpay-Signature"] == expected
    assert re.fullmatch(r"evt_[A-Za-z0-9]{14}", hook.headers["X-Razorpay-Event-Id"])
    event: dict[str, Any] = json.loads(hook.body)
    return event


def entity_keys(event: dict[str, Any], name: str) -> set[str]:
    return set(event["payload"][name]["entity"])


# --- signing helpers against the shared vectors -----------------------------------------------


def test_razorpay_signatures_match_the_shared_vectors() -> None:
    vectors = json.loads((RAZORPAY_FIXTURES / "signatures.json").read_text())
    checked = 0
    for vector in vectors:
        if not vector["expected_valid"]:
            continue
        body = (RAZORPAY_FIXTURES / vector["body_file"]).read_bytes()
        assert razorpay_webhook_signature(body, vector["secret"]) == vector["signature"]
        checked += 1
    assert checked > 0


def test_callback_signatures_match_the_shared_vectors() -> None:
    vectors = json.loads((RAZORPAY_FIXTURES / "callback_signatures.json").read_text())
    for vector in (v for v in vectors if v["expected_valid"]):
        p = vector["params"]
        signature = razorpay_callback_signature(
            p["razorpay_payment_link_id"],
            p["razorpay_payment_link_reference_id"],
            p["razorpay_payment_link_status"],
            p["razorpay_payment_id"],
            vector["secret"],
        )
        assert signature == p["razorpay_signature"]


def test_meta_signature_matches_the_fixture_index() -> None:
    body = (WHATSAPP_FIXTURES / "inbound_text.json").read_bytes()
    expected = "sha256=c7c05970de6c0e279b6d7d850ce645a514d8bf0081566dec7a2e4675e697581b"
    assert meta_signature(body, "test_app_secret_do_not_use") == expected


# --- events ------------------------------------------------------------------------------------


async def test_pay_sends_a_signed_paid_event_shaped_like_the_fixture(
    client: TestClient[Any, Any], settings: Settings, fake_bot: FakeBot
) -> None:
    link_id = await new_link(client, settings)
    response = await client.post(f"/sandbox/razorpay-control/pay/{link_id}")
    assert response.status == 200
    outcome = await response.json()
    assert outcome["webhook"]["ok"] is True
    event = only_event(fake_bot, settings)
    reference = fixture("payment_link.paid")
    assert set(event) == set(reference)
    assert event["event"] == "payment_link.paid"
    assert sorted(event["contains"]) == sorted(reference["contains"])
    for name in ("payment_link", "order", "payment"):
        assert entity_keys(event, name) == entity_keys(reference, name), name
    link = event["payload"]["payment_link"]["entity"]
    order = event["payload"]["order"]["entity"]
    payment = event["payload"]["payment"]["entity"]
    assert (link["id"], link["status"], link["amount_paid"]) == (link_id, "paid", 149900)
    assert order["receipt"] == "ORD-1" == link["reference_id"]
    assert payment["order_id"] == order["id"] == link["order_id"]
    assert (payment["status"], payment["captured"], payment["amount"]) == ("captured", True, 149900)
    assert outcome["link"]["status"] == "paid"


async def test_every_event_has_its_own_id(
    client: TestClient[Any, Any], settings: Settings, fake_bot: FakeBot
) -> None:
    first, second = (
        await new_link(client, settings),
        await new_link(client, settings, reference_id="ORD-2"),
    )
    await client.post(f"/sandbox/razorpay-control/fail/{first}")
    await client.post(f"/sandbox/razorpay-control/pay/{first}")
    await client.post(f"/sandbox/razorpay-control/expire/{second}")
    ids = [hook.headers["X-Razorpay-Event-Id"] for hook in fake_bot.on("/webhooks/razorpay")]
    assert len(ids) == len(set(ids)) == 3


async def test_fail_sends_payment_failed_with_the_order_in_notes(
    client: TestClient[Any, Any], settings: Settings, fake_bot: FakeBot
) -> None:
    link_id = await new_link(client, settings)
    outcome = await (await client.post(f"/sandbox/razorpay-control/fail/{link_id}")).json()
    event = only_event(fake_bot, settings)
    assert event["event"] == "payment.failed"
    assert entity_keys(event, "payment") == entity_keys(fixture("payment.failed"), "payment")
    payment = event["payload"]["payment"]["entity"]
    assert payment["status"] == "failed"
    assert payment["notes"]["order_id"] == "ORD-1"
    assert payment["notes"]["payment_link_id"] == link_id
    assert outcome["link"]["status"] == "created"  # the customer may try again


async def test_expire_sends_payment_link_expired(
    client: TestClient[Any, Any], settings: Settings, fake_bot: FakeBot
) -> None:
    link_id = await new_link(client, settings)
    outcome = await (await client.post(f"/sandbox/razorpay-control/expire/{link_id}")).json()
    event = only_event(fake_bot, settings)
    assert event["event"] == "payment_link.expired"
    assert entity_keys(event, "payment_link") == entity_keys(
        fixture("payment_link.expired"), "payment_link"
    )
    assert (outcome["link"]["status"], outcome["link"]["expired_at"]) == ("expired", NOW)
    again = await client.post(f"/sandbox/razorpay-control/pay/{link_id}")
    assert again.status == 400


async def test_links_past_expire_by_expire_on_their_own(
    client: TestClient[Any, Any],
    settings: Settings,
    fake_bot: FakeBot,
    state: SandboxState,
    clock: Any,
) -> None:
    link_id = await new_link(client, settings)
    clock.now += 31 * 60
    assert state.links.due(int(clock.now)) == [link_id]


async def test_cancel_sends_payment_link_cancelled(
    client: TestClient[Any, Any], settings: Settings, fake_bot: FakeBot, state: SandboxState
) -> None:
    link_id = await new_link(client, settings)
    await client.post(
        f"/sandbox/razorpay/v1/payment_links/{link_id}/cancel", headers=basic(settings)
    )
    await state.close()  # waits for the background delivery
    assert only_event(fake_bot, settings)["event"] == "payment_link.cancelled"


async def test_webhook_redelivered_when_the_bot_fails(
    client: TestClient[Any, Any], settings: Settings, fake_bot: FakeBot
) -> None:
    fake_bot.status = 500
    link_id = await new_link(client, settings)
    outcome = await (await client.post(f"/sandbox/razorpay-control/pay/{link_id}")).json()
    assert outcome["webhook"] == {
        "ok": False,
        "status": 500,
        "attempts": 3,
        "error": "the bot answered HTTP 500: ok",
    }
    ids = {hook.headers["X-Razorpay-Event-Id"] for hook in fake_bot.on("/webhooks/razorpay")}
    assert len(ids) == 1  # a redelivery keeps the event id


# --- checkout page -----------------------------------------------------------------------------


async def test_checkout_page_shows_the_order(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    link_id = await new_link(client, settings, amount=14990050)
    page = await (await client.get(f"/sandbox/pay/{link_id}")).text()
    assert "₹1,49,900.50" in page
    assert "ORD-1" in page
    assert "Chai Point order ORD-1" in page
    for action in ("pay", "fail", "expire"):
        assert f'action="/sandbox/pay/{link_id}/{action}"' in page
    assert (await client.get("/sandbox/pay/plink_nope")).status == 404


async def test_pay_button_redirects_to_the_signed_callback(
    client: TestClient[Any, Any], settings: Settings, fake_bot: FakeBot
) -> None:
    link_id = await new_link(client, settings)
    response = await client.post(f"/sandbox/pay/{link_id}/pay", allow_redirects=False)
    assert response.status == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/payments/callback"
    params = dict(parse_qsl(target.query))
    event = only_event(fake_bot, settings)
    payment_id = event["payload"]["payment"]["entity"]["id"]
    assert params["razorpay_payment_id"] == payment_id
    assert params["razorpay_payment_link_id"] == link_id
    assert params["razorpay_payment_link_reference_id"] == "ORD-1"
    assert params["razorpay_payment_link_status"] == "paid"
    message = f"{link_id}|ORD-1|paid|{payment_id}".encode()
    expected = hmac.new(key_secret(settings).encode(), message, hashlib.sha256).hexdigest()
    assert params["razorpay_signature"] == expected


async def test_without_callback_the_page_says_paid(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    link_id = await new_link(client, settings, callback_url=None, callback_method=None)
    response = await client.post(f"/sandbox/pay/{link_id}/pay")
    assert response.status == 200
    assert "go back to WhatsApp" in await response.text()


@pytest.mark.parametrize(("action", "notice"), [("fail", "Payment failed"), ("expire", "expired")])
async def test_fail_and_expire_come_back_to_the_page(
    client: TestClient[Any, Any], settings: Settings, action: str, notice: str
) -> None:
    link_id = await new_link(client, settings)
    response = await client.post(f"/sandbox/pay/{link_id}/{action}")
    assert response.status == 200
    assert str(response.url).startswith(str(client.make_url(f"/sandbox/pay/{link_id}")))
    assert notice in await response.text()


# --- refunds -------------------------------------------------------------------------------------


async def test_refunds_once_per_key_and_sends_refund_processed_like_the_fixture(
    client: TestClient[Any, Any],
    settings: Settings,
    fake_bot: FakeBot,
    state: SandboxState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sandbox_razorpay, "REFUND_SECONDS", 0.0)
    link_id = await new_link(client, settings)
    await client.post(f"/sandbox/razorpay-control/pay/{link_id}")
    payment_id = only_event(fake_bot, settings)["payload"]["payment"]["entity"]["id"]
    fake_bot.received.clear()

    async def refund(amount: int, key: str) -> Any:
        response = await client.post(
            f"/sandbox/razorpay/v1/payments/{payment_id}/refund",
            json={"amount": amount, "notes": {"refund_id": "1", "order_id": "ORD-1"}},
            headers={**basic(settings), "X-Refund-Idempotency": key},
        )
        return response.status, await response.json()

    running = set(state.tasks)  # the expiry sweep runs until shutdown
    first = await refund(50_000, "refund-key-0001")
    retried = await refund(50_000, "refund-key-0001")
    too_much = await refund(100_000, "refund-key-0002")
    await asyncio.gather(*(state.tasks - running))  # the refund's webhook

    assert first[0] == retried[0] == 200
    assert first[1]["id"] == retried[1]["id"]
    assert first[1]["status"] == "pending"
    assert too_much[0] == 400
    assert too_much[1]["error"]["description"] == (
        "The refund amount provided is greater than amount captured"
    )
    event = only_event(fake_bot, settings)
    assert event["event"] == "refund.processed"
    assert entity_keys(event, "refund") == entity_keys(fixture("refund.processed"), "refund")
    processed = event["payload"]["refund"]["entity"]
    assert (processed["id"], processed["status"], processed["amount"]) == (
        first[1]["id"],
        "processed",
        50_000,
    )
    assert processed["notes"] == {"refund_id": "1", "order_id": "ORD-1"}
