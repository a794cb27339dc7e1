"""create_link and cancel_link against a mocked Razorpay REST API (aioresponses)."""

import base64
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from razorpay_corpus import API_BASE, KEY_ID, KEY_SECRET, api_json, make_provider
from yarl import URL

from bot.payments import (
    CreatedLink,
    LinkRequest,
    PaymentProvider,
    ProviderRejected,
    ProviderUnavailable,
)
from bot.payments.razorpay import RazorpayProvider

CREATE_URL = f"{API_BASE}/payment_links"
FIND_URL = f"{API_BASE}/payment_links?reference_id=wa-ord-2025-000042"
ORDER = "wa-ord-2025-000042"
CREATED = CreatedLink(
    link_id="plink_Qx7Rm2KpL9vTzA",
    url="https://rzp.io/rzp/k3Jd9Qa",
    expires_at=1760003600,
    status="created",
)


def link_request(**changes: Any) -> LinkRequest:
    """The corpus story: order 42, ₹1,499.00, created on 2025-10-09."""
    fields: dict[str, Any] = {
        "order_id": ORDER,
        "amount": 149900,
        "currency": "INR",
        "description": "WhatsApp order wa-ord-2025-000042: 2 items",
        "customer_name": "Asha Verma",
        "customer_phone": "919812345678",
        "expire_by": 1760003600,
        "callback_url": "https://shop.example.in/pay/return",
        "notes": {"wa_id": "919812345678", "cart_id": "cart_7f3a91", "channel": "whatsapp"},
    }
    fields.update(changes)
    return LinkRequest(**fields)


def sent(mocked: aioresponses, method: str, url: str) -> list[dict[str, Any]]:
    """The keyword arguments of every request made to `url`."""
    calls = (mocked.requests or {}).get((method, URL(url)), [])
    return [call.kwargs for call in calls]


def sent_body(mocked: aioresponses) -> dict[str, Any]:
    (call,) = sent(mocked, "POST", CREATE_URL)
    body: dict[str, Any] = call["json"]
    return body


def existing(**changes: Any) -> dict[str, Any]:
    link: dict[str, Any] = api_json("create_payment_link.response.json")
    link.update(changes)
    return {"payment_links": [link]}


def test_razorpay_is_a_payment_provider(provider: RazorpayProvider) -> None:
    typed: PaymentProvider = provider  # mypy checks the Protocol here
    assert typed.name == "razorpay"


# --- create_link: the request -----------------------------------------------------------------


async def test_create_link_sends_the_documented_body(
    provider: RazorpayProvider, mocked: aioresponses
) -> None:
    mocked.post(CREATE_URL, payload=api_json("create_payment_link.response.json"))

    created = await provider.create_link(link_request())

    expected = api_json("create_payment_link.request.json")
    del expected["customer"]["email"]  # we know a phone, not an email
    expected["notes"] = {"order_id": ORDER, **expected["notes"]}
    assert sent_body(mocked) == expected
    assert created == CREATED


async def test_create_link_authenticates_with_the_api_key(
    provider: RazorpayProvider, mocked: aioresponses
) -> None:
    mocked.post(CREATE_URL, payload=api_json("create_payment_link.response.json"))

    await provider.create_link(link_request())

    (call,) = sent(mocked, "POST", CREATE_URL)
    token = base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
    assert call["headers"]["Authorization"] == f"Basic {token}"
    assert call.get("auth") is None


async def test_callback_only_when_given_and_customer_only_when_known(
    provider: RazorpayProvider, mocked: aioresponses
) -> None:
    mocked.post(CREATE_URL, payload=api_json("create_payment_link.response.json"))

    request = link_request(callback_url=None, customer_name=None, customer_phone=None)
    await provider.create_link(request)

    body = sent_body(mocked)
    assert not {"callback_url", "callback_method", "customer"} & body.keys()
    assert body["notify"] == {"sms": False, "email": False}
    assert body["reminder_enable"] is False


@pytest.mark.parametrize(
    ("name", "phone", "customer"),
    [
        ("  Asha  ", None, {"name": "Asha"}),
        (None, "+919812345678", {"contact": "+919812345678"}),
        ("", "919812345678", {"contact": "+919812345678"}),
        ("Asha", "CC.9f8e7d", {"name": "Asha"}),  # a business-scoped id is not a phone
    ],
)
async def test_customer_fields(
    provider: RazorpayProvider,
    mocked: aioresponses,
    name: str | None,
    phone: str | None,
    customer: dict[str, str],
) -> None:
    mocked.post(CREATE_URL, payload=api_json("create_payment_link.response.json"))

    await provider.create_link(link_request(customer_name=name, customer_phone=phone))

    assert sent_body(mocked)["customer"] == customer


async def test_long_description_and_notes_are_cut_to_razorpay_limits(
    provider: RazorpayProvider, mocked: aioresponses
) -> None:
    mocked.post(CREATE_URL, payload=api_json("create_payment_link.response.json"))
    notes = {f"k{index:02}": "v" * 300 for index in range(20)} | {"order_id": "forged"}

    await provider.create_link(link_request(description=" चाय " * 1000, notes=notes))

    body = sent_body(mocked)
    assert len(body["description"]) == 2048
    assert not body["description"].startswith(" ")
    assert len(body["notes"]) == 15
    assert body["notes"]["order_id"] == ORDER  # the caller cannot override our key
    assert all(len(value) <= 255 for value in body["notes"].values())


async def test_reference_id_over_40_characters_is_refused_without_a_call(
    provider: RazorpayProvider, mocked: aioresponses
) -> None:
    with pytest.raises(ProviderRejected, match="reference id") as caught:
        await provider.create_link(link_request(order_id="o" * 41))

    assert not caught.value.is_transient
    assert not mocked.requests


async def test_api_base_with_trailing_slash(session: aiohttp.ClientSession) -> None:
    provider = make_provider(session, api_base=f"{API_BASE}/")
    with aioresponses() as mocked:
        mocked.post(CREATE_URL, payload=api_json("create_payment_link.response.json"))

        assert await provider.create_link(link_request()) == CREATED


# --- create_link: failures ----------------------------------------------------------------------


async def test_server_error_is_transient(provider: RazorpayProvider, mocked: aioresponses) -> None:
    mocked.post(CREATE_URL, status=500, payload=api_json("error.server_error.json"))

    with pytest.raises(ProviderUnavailable) as caught:
        await provider.create_link(link_request())

    error = caught.value
    assert (error.is_transient, error.status, error.code) == (True, 500, "SERVER_ERROR")


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (502, "<html>Bad Gateway</html>"),
        (503, ""),
        (429, '{"error": "slow down"}'),
        (400, '{"error": {"code": "SERVER_ERROR", "description": "try again"}}'),
    ],
    ids=["502-html", "503-empty", "429", "server-error-code"],
)
async def test_gateway_pages_and_throttling_are_transient(
    provider: RazorpayProvider, mocked: aioresponses, status: int, body: str
) -> None:
    mocked.post(CREATE_URL, status=status, body=body)

    with pytest.raises(ProviderUnavailable) as caught:
        await provider.create_link(link_request())

    assert caught.value.status == status
    assert caught.value.description


@pytest.mark.parametrize(
    ("exception", "message"),
    [
        (TimeoutError(), "timed out"),
        (aiohttp.ServerTimeoutError(), "timed out"),
        (aiohttp.ClientConnectionError("reset by peer"), "reset by peer"),
    ],
    ids=["timeout", "server-timeout", "connection"],
)
async def test_no_answer_is_transient(
    provider: RazorpayProvider, mocked: aioresponses, exception: Exception, message: str
) -> None:
    mocked.post(CREATE_URL, exception=exception)

    with pytest.raises(ProviderUnavailable, match=message) as caught:
        await provider.create_link(link_request())

    assert caught.value.is_transient
    assert caught.value.status is None


async def test_bad_request_is_permanent_and_keeps_the_description(
    provider: RazorpayProvider, mocked: aioresponses
) -> None:
    mocked.post(CREATE_URL, status=400, payload=api_json("error.expire_by_too_soon.json"))

    with pytest.raises(ProviderRejected, match="15 minutes") as caught:
        await provider.create_link(link_request())

    error = caught.value
    assert (error.is_transient, error.status, error.code) == (False, 400, "BAD_REQUEST_ERROR")
    assert error.description == "timestamp must be atleast 15 minutes in future"
    assert len(sent(mocked, "POST", CREATE_URL)) == 1  # one attempt: the worker retries


@pytest.mark.parametrize(
    ("status", "body"),
    [(401, "Unauthorized"), (400, '{"error": {"code": "BAD_REQUEST_ERROR"}}')],
    ids=["401-text", "400-no-description"],
)
async def test_other_client_errors_are_permanent(
    provider: RazorpayProvider, mocked: aioresponses, status: int, body: str
) -> None:
    mocked.post(CREATE_URL, status=status, body=body)

    with pytest.raises(ProviderRejected) as caught:
        await provider.create_link(link_request())

    assert caught.value.status == status
    assert caught.value.description


async def test_unreadable_success_is_transient(
    provider: RazorpayProvider, mocked: aioresponses
) -> None:
    # The link may exist; the retry's "already attempted" path then finds it.
    mocked.post(CREATE_URL, status=200, body="<html>ok</html>")

    with pytest.raises(ProviderUnavailable, match="unreadable"):
        await provider.create_link(link_request())


async def test_success_without_a_link_url_is_transient(
    provider: RazorpayProvider, mocked: aioresponses
) -> None:
    response = api_json("create_payment_link.response.json") | {"short_url": ""}
    mocked.post(CREATE_URL, payload=response)

    with pytest.raises(ProviderUnavailable, match="short_url"):
        await provider.create_link(link_request())


async def test_session_that_raises_for_status_still_gets_our_errors(
    mocked: aioresponses,
) -> None:
    async with aiohttp.ClientSession(raise_for_status=True) as strict:
        mocked.post(CREATE_URL, status=400, payload=api_json("error.expire_by_too_soon.json"))

        with pytest.raises(ProviderRejected):
            await make_provider(strict).create_link(link_request())


# --- create_link: "already attempted" -----------------------------------------------------------


async def test_already_attempted_returns_the_existing_link(
    provider: RazorpayProvider, mocked: aioresponses
) -> None:
    mocked.post(CREATE_URL, status=400, payload=api_json("error.duplicate_reference_id.json"))
    mocked.get(FIND_URL, payload=existing())

    assert await provider.create_link(link_request()) == CREATED
    assert len(sent(mocked, "GET", FIND_URL)) == 1


async def test_already_attempted_and_since_paid_is_returned_as_paid(
    provider: RazorpayProvider, mocked: aioresponses
) -> None:
    mocked.post(CREATE_URL, status=400, payload=api_json("error.duplicate_reference_id.json"))
    mocked.get(
        FIND_URL, payload={"payment_links": [api_json("fetch_payment_link.paid.response.json")]}
    )

    created = await provider.create_link(link_request())

    assert created.link_id == "plink_Qx7Rm2KpL9vTzA"
    assert created.status == "paid"


@pytest.mark.parametrize("status", ["cancelled", "expired"])
async def test_already_attempted_with_a_dead_link_is_permanent(
    provider: RazorpayProvider, mocked: aioresponses, status: str
) -> None:
    mocked.post(CREATE_URL, status=400, payload=api_json("error.duplicate_reference_id.json"))
    mocked.get(FIND_URL, payload=existing(status=status))

    with pytest.raises(ProviderRejected, match=f"{status}.*cannot be reused") as caught:
        await provider.create_link(link_request())

    assert caught.value.code == "REFERENCE_ID_USED"


async def test_already_attempted_for_another_amount_is_permanent(
    provider: RazorpayProvider, mocked: aioresponses
) -> None:
    mocked.post(CREATE_URL, status=400, payload=api_json("error.duplicate_reference_id.json"))
    mocked.get(FIND_URL, payload=existing(amount=100))

    with pytest.raises(ProviderRejected, match="not 149900 INR"):
        await provider.create_link(link_request())


async def test_already_attempted_but_not_listed_yet_is_transient(
    provider: RazorpayProvider, mocked: aioresponses
) -> None:
    mocked.post(CREATE_URL, status=400, payload=api_json("error.duplicate_reference_id.json"))
    mocked.get(FIND_URL, payload={"entity": "collection", "payment_links": []})

    with pytest.raises(ProviderUnavailable, match="already used"):
        await provider.create_link(link_request())


async def test_already_attempted_then_lookup_fails_is_transient(
    provider: RazorpayProvider, mocked: aioresponses
) -> None:
    mocked.post(CREATE_URL, status=400, payload=api_json("error.duplicate_reference_id.json"))
    mocked.get(FIND_URL, status=504, body="Gateway Timeout")

    with pytest.raises(ProviderUnavailable, match="HTTP 504"):
        await provider.create_link(link_request())


# --- cancel_link ------------------------------------------------------------------------------

CANCEL_URL = f"{API_BASE}/payment_links/plink_Tf6Xy3ZsC8nKaR/cancel"


async def test_cancel_link(provider: RazorpayProvider, mocked: aioresponses) -> None:
    mocked.post(CANCEL_URL, payload=api_json("cancel_payment_link.response.json"))

    await provider.cancel_link("plink_Tf6Xy3ZsC8nKaR")

    (call,) = sent(mocked, "POST", CANCEL_URL)
    assert call["json"] is None


async def test_cancel_of_a_paid_link_is_rejected(
    provider: RazorpayProvider, mocked: aioresponses
) -> None:
    mocked.post(CANCEL_URL, status=400, payload=api_json("error.cancel_paid_link.json"))

    with pytest.raises(ProviderRejected, match="already paid") as caught:
        await provider.cancel_link("plink_Tf6Xy3ZsC8nKaR")

    assert caught.value.code == "BAD_REQUEST_ERROR"


async def test_cancel_when_razorpay_is_down_is_transient(
    provider: RazorpayProvider, mocked: aioresponses
) -> None:
    mocked.post(CANCEL_URL, exception=TimeoutError())

    with pytest.raises(ProviderUnavailable, match="timed out"):
        await provider.cancel_link("plink_Tf6Xy3ZsC8nKaR")
