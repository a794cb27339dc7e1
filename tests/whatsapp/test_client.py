"""The send client against a mocked Graph API: wamid on success, typed errors otherwise."""

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from yarl import URL

from bot.whatsapp import (
    InvalidParameter,
    ReEngagementRequired,
    ThroughputLimited,
    TokenExpired,
    TooManyToUser,
    Undeliverable,
    UnexpectedResponse,
    UnknownError,
    WhatsAppClient,
    WhatsAppError,
    WhatsAppUnavailable,
    error_from_response,
    render_message,
)
from flows.messages import SendText

API_BASE = "https://graph.facebook.test/v25.0"
PHONE_NUMBER_ID = "500600700800900"
URL_ = f"{API_BASE}/{PHONE_NUMBER_ID}/messages"
TOKEN = "EAAG-test-token-do-not-log"
WAMID = "wamid.HBgMOTE5ODEyMzAwMDAxFQIAERgSQUJDREVGMDEyMzQ1Njc4OQA="
PAYLOAD = render_message(SendText(body="Hello"), phone="919812300001", user_id=None)


def graph_error(code: int, message: str = "Something", details: str = "") -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": "AbCdEf123",
        }
    }


def only_call(mocked: aioresponses) -> Any:
    """The one request the client made."""
    assert mocked.requests is not None
    (call,) = mocked.requests[("POST", URL(URL_))]
    return call


def sent_json(call: Any) -> Any:
    """The JSON body of a request, which must say it is JSON."""
    assert call.kwargs["headers"]["Content-Type"] == "application/json"
    return json.loads(call.kwargs["data"])


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with aioresponses() as mock:
        yield mock


@pytest.fixture
def client(session: aiohttp.ClientSession) -> WhatsAppClient:
    return WhatsAppClient(session, API_BASE + "/", PHONE_NUMBER_ID, TOKEN)


async def test_success_returns_the_wamid_and_sends_token_and_body(
    client: WhatsAppClient, mocked: aioresponses
) -> None:
    mocked.post(
        URL_,
        payload={
            "messaging_product": "whatsapp",
            "contacts": [{"input": "919812300001", "wa_id": "919812300001"}],
            "messages": [{"id": WAMID}],
        },
    )

    assert await client.send(PAYLOAD) == WAMID

    call = only_call(mocked)
    assert call.kwargs["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert sent_json(call) == PAYLOAD


async def test_mark_read_posts_the_read_status(
    client: WhatsAppClient, mocked: aioresponses
) -> None:
    mocked.post(URL_, payload={"success": True})

    await client.mark_read(WAMID)

    call = only_call(mocked)
    assert sent_json(call) == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": WAMID,
    }


@pytest.mark.parametrize(
    ("status", "code", "error_class", "transient"),
    [
        (400, 131009, InvalidParameter, False),
        (400, 131008, InvalidParameter, False),
        (400, 100, InvalidParameter, False),
        (400, 131047, ReEngagementRequired, False),
        (400, 131026, Undeliverable, False),
        (429, 130429, ThroughputLimited, True),
        (400, 131056, TooManyToUser, True),
        (500, 131000, UnknownError, True),
        (401, 190, TokenExpired, False),
    ],
)
async def test_graph_errors_map_to_classes(
    client: WhatsAppClient,
    mocked: aioresponses,
    status: int,
    code: int,
    error_class: type[WhatsAppError],
    transient: bool,
) -> None:
    mocked.post(URL_, status=status, payload=graph_error(code, details="why"))

    with pytest.raises(error_class) as caught:
        await client.send(PAYLOAD)

    error = caught.value
    assert error.is_transient is transient
    assert (error.code, error.http_status, error.details, error.fbtrace_id) == (
        code,
        status,
        "why",
        "AbCdEf123",
    )


async def test_token_expired_asks_for_an_operator(
    client: WhatsAppClient, mocked: aioresponses
) -> None:
    mocked.post(URL_, status=401, payload=graph_error(190, "Error validating access token"))

    with pytest.raises(TokenExpired) as caught:
        await client.send(PAYLOAD)

    assert caught.value.needs_attention
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(("status", "transient"), [(500, True), (503, True), (429, True)])
async def test_server_errors_and_throttling_are_transient(
    client: WhatsAppClient, mocked: aioresponses, status: int, transient: bool
) -> None:
    mocked.post(URL_, status=status, payload=graph_error(1, "Please retry"))

    with pytest.raises(WhatsAppError) as caught:
        await client.send(PAYLOAD)

    assert caught.value.is_transient is transient
    assert caught.value.http_status == status


async def test_non_json_502_is_handled(client: WhatsAppClient, mocked: aioresponses) -> None:
    mocked.post(URL_, status=502, body="<html><body>502 Bad Gateway</body></html>")

    with pytest.raises(WhatsAppError) as caught:
        await client.send(PAYLOAD)

    assert type(caught.value) is WhatsAppError
    assert caught.value.is_transient
    assert caught.value.code is None
    assert "502 Bad Gateway" in str(caught.value)


async def test_timeout_is_unavailable_and_transient(
    client: WhatsAppClient, mocked: aioresponses
) -> None:
    mocked.post(URL_, exception=TimeoutError())

    with pytest.raises(WhatsAppUnavailable) as caught:
        await client.send(PAYLOAD)

    assert caught.value.is_transient


async def test_connection_error_is_unavailable_and_transient(
    client: WhatsAppClient, mocked: aioresponses
) -> None:
    mocked.post(URL_, exception=aiohttp.ClientConnectionError("connection reset"))

    with pytest.raises(WhatsAppUnavailable, match="connection reset") as caught:
        await client.send(PAYLOAD)

    assert caught.value.is_transient


@pytest.mark.parametrize("body", [{}, {"messages": []}, {"messages": [{"id": 5}]}, None])
async def test_success_without_a_wamid_is_not_retried(
    client: WhatsAppClient, mocked: aioresponses, body: Any
) -> None:
    if body is None:
        mocked.post(URL_, status=200, body="OK")
    else:
        mocked.post(URL_, status=200, payload=body)

    with pytest.raises(UnexpectedResponse) as caught:
        await client.send(PAYLOAD)

    assert not caught.value.is_transient


def test_the_token_stays_out_of_repr(client: WhatsAppClient) -> None:
    assert TOKEN not in repr(client)
    assert URL_ in repr(client)


# --- error_from_response on its own --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error_class", "transient"),
    [
        (400, b"", WhatsAppError, False),
        (404, b"not found", WhatsAppError, False),
        (429, b"", WhatsAppError, True),
        (503, b"\xff\xfe not utf-8", WhatsAppError, True),
        (400, b"[1, 2]", WhatsAppError, False),
        (400, b'{"error": "a string"}', WhatsAppError, False),
        (400, b'{"error": {"code": "131009", "message": "bad"}}', InvalidParameter, False),
        (400, b'{"error": {"code": true}}', WhatsAppError, False),
        (400, json.dumps(graph_error(999999)).encode(), WhatsAppError, False),
        (500, json.dumps(graph_error(999999)).encode(), WhatsAppError, True),
        (400, json.dumps(graph_error(4)).encode(), ThroughputLimited, True),
    ],
)
def test_error_from_response_is_robust(
    status: int, body: bytes, error_class: type[WhatsAppError], transient: bool
) -> None:
    error = error_from_response(status, body)

    assert type(error) is error_class
    assert error.is_transient is transient
    assert error.http_status == status
    assert str(error)
