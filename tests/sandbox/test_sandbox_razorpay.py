"""The Razorpay stand-in's REST API: validation, uniqueness of reference ids, fetch, list, cancel,
auth and the injected faults, with Razorpay's own error shapes."""

import asyncio
import json
import re
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from bot.sandbox import SandboxState
from bot.settings import Settings
from tests.fixtures_path import RAZORPAY_FIXTURES
from tests.sandbox.conftest import NOW

BASE = "/sandbox/razorpay/v1/payment_links"
FIXTURE_LINK = json.loads((RAZORPAY_FIXTURES / "api/create_payment_link.response.json").read_text())


def basic(settings: Settings, secret: str | None = None) -> dict[str, str]:
    assert settings.razorpay_key_id is not None
    assert settings.razorpay_key_secret is not None
    password = secret or settings.razorpay_key_secret.get_secret_value()
    return {"Authorization": aiohttp.encode_basic_auth(settings.razorpay_key_id, password)}


def link_request(reference: str = "ORD-1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "amount": 149900,
        "currency": "INR",
        "reference_id": reference,
        "description": "Chai Point order ORD-1",
        "customer": {"name": "Asha", "contact": "+919800000001"},
        "notify": {"sms": False, "email": False},
        "expire_by": NOW + 30 * 60,
        "notes": {"order_id": reference},
        "callback_url": "http://localhost:8080/payments/callback",
        "callback_method": "get",
    }
    body.update(extra)
    return body


async def create(
    client: TestClient[Any, Any], settings: Settings, body: object
) -> aiohttp.ClientResponse:
    return await client.post(BASE, json=body, headers=basic(settings))


async def error_of(response: aiohttp.ClientResponse) -> tuple[int, str, str]:
    error = (await response.json())["error"]
    assert set(error) >= {"code", "description", "source", "step", "reason", "metadata"}
    return response.status, error["code"], error["description"]


async def test_create_answers_like_razorpay(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    response = await create(client, settings, link_request())
    assert response.status == 200
    link = await response.json()
    assert re.fullmatch(r"plink_[A-Za-z0-9]{14}", link["id"])
    assert link["short_url"] == f"{settings.public_base_url}/sandbox/pay/{link['id']}"
    assert link["status"] == "created"
    assert (link["amount"], link["amount_paid"], link["reference_id"]) == (149900, 0, "ORD-1")
    assert (link["cancelled_at"], link["expired_at"]) == (0, 0)  # 0 when unset, never null
    assert link["notify"] == {"email": False, "sms": False, "whatsapp": False}
    assert set(link) == set(FIXTURE_LINK)


async def test_reference_id_can_be_used_once(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    assert (await create(client, settings, link_request())).status == 200
    again = await create(client, settings, link_request())
    assert await error_of(again) == (
        400,
        "BAD_REQUEST_ERROR",
        "payment link creation with reference ID already attempted",
    )


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ({"amount": 99}, "The amount must be atleast INR 1.00"),
        ({"amount": 149.5}, "The amount must be an integer."),
        ({"amount": None}, "The amount field is required."),
        ({"reference_id": "R" * 41}, "The reference id may not be greater than 40 characters."),
        ({"expire_by": NOW + 15 * 60 - 1}, "timestamp must be atleast 15 minutes in future"),
        ({"callback_method": None}, "The callback method field is required"),
        ({"callback_url": None}, "The callback url field is required"),
        ({"callback_method": "post"}, "The selected callback method is invalid."),
        ({"surprise": 1}, "surprise is/are not required and should not be sent"),
        ({"notes": {f"k{n}": "v" for n in range(16)}}, "less than or equal to 15"),
    ],
)
async def test_create_validation(
    client: TestClient[Any, Any], settings: Settings, change: dict[str, Any], description: str
) -> None:
    body = {k: v for k, v in link_request(**change).items() if v is not None}
    status, code, text = await error_of(await create(client, settings, body))
    assert (status, code) == (400, "BAD_REQUEST_ERROR")
    assert description in text


async def test_expiry_of_exactly_fifteen_minutes_is_fine(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    response = await create(client, settings, link_request(expire_by=NOW + 15 * 60))
    assert response.status == 200


@pytest.mark.parametrize("secret", ["wrong-secret", None])
async def test_basic_auth_is_checked(
    client: TestClient[Any, Any], settings: Settings, secret: str | None
) -> None:
    auth = basic(settings, secret) if secret else {}
    response = await client.post(BASE, json=link_request(), headers=auth)
    assert (await error_of(response))[:2] == (401, "BAD_REQUEST_ERROR")
    response = await client.get(f"{BASE}/plink_whatever", headers=auth)
    assert response.status == 401


async def test_fetch_and_list_by_reference(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    first = await (await create(client, settings, link_request("ORD-A"))).json()
    await create(client, settings, link_request("ORD-B"))
    fetched = await client.get(f"{BASE}/{first['id']}", headers=basic(settings))
    assert await fetched.json() == first
    listed = await client.get(BASE, params={"reference_id": "ORD-A"}, headers=basic(settings))
    assert await listed.json() == {"count": 1, "payment_links": [first]}
    everything = await (await client.get(BASE, headers=basic(settings))).json()
    assert everything["count"] == 2
    nothing = await client.get(BASE, params={"reference_id": "nope"}, headers=basic(settings))
    assert await nothing.json() == {"count": 0, "payment_links": []}
    missing = await client.get(f"{BASE}/plink_00000000000000", headers=basic(settings))
    assert (await error_of(missing))[:2] == (400, "BAD_REQUEST_ERROR")


async def test_cancel_only_from_created(
    client: TestClient[Any, Any], settings: Settings, clock: Any
) -> None:
    link = await (await create(client, settings, link_request())).json()
    cancelled = await client.post(f"{BASE}/{link['id']}/cancel", headers=basic(settings))
    body = await cancelled.json()
    assert (body["status"], body["cancelled_at"]) == ("cancelled", NOW)
    again = await client.post(f"{BASE}/{link['id']}/cancel", headers=basic(settings))
    assert (await error_of(again))[:2] == (400, "BAD_REQUEST_ERROR")


async def test_cannot_cancel_a_paid_link(client: TestClient[Any, Any], settings: Settings) -> None:
    link = await (await create(client, settings, link_request())).json()
    paid = await client.post(f"/sandbox/razorpay-control/pay/{link['id']}")
    assert paid.status == 200
    refused = await client.post(f"{BASE}/{link['id']}/cancel", headers=basic(settings))
    assert await error_of(refused) == (
        400,
        "BAD_REQUEST_ERROR",
        "cannot cancel or expire an already paid/partially paid link",
    )


async def test_injected_server_error_creates_nothing(
    client: TestClient[Any, Any], settings: Settings, state: SandboxState
) -> None:
    state.razorpay_faults.error_rate = 1.0
    status, code, _ = await error_of(await create(client, settings, link_request()))
    assert (status, code) == (500, "SERVER_ERROR")
    state.razorpay_faults.error_rate = 0.0
    # Nothing was created, so the same reference id still works.
    assert (await create(client, settings, link_request())).status == 200


async def test_timeout_after_create_leaves_the_link_behind(
    client: TestClient[Any, Any], settings: Settings, state: SandboxState
) -> None:
    state.razorpay_faults.timeout_after_create_rate = 1.0
    state.razorpay_faults.timeout_seconds = 5.0
    with pytest.raises(asyncio.TimeoutError):
        await client.post(
            BASE,
            json=link_request(),
            headers=basic(settings),
            timeout=aiohttp.ClientTimeout(total=0.3),
        )
    state.razorpay_faults.timeout_after_create_rate = 0.0
    retry = await create(client, settings, link_request())
    assert "already attempted" in (await error_of(retry))[2]
    found = await client.get(BASE, params={"reference_id": "ORD-1"}, headers=basic(settings))
    assert (await found.json())["count"] == 1
