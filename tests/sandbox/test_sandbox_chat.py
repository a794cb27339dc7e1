"""The chat API: a customer's message becomes the signed Cloud API webhook Meta would send,
captured here by a tiny server standing in for the bot."""

import asyncio
import hashlib
import hmac
import json
import re
from typing import Any

from aiohttp.test_utils import TestClient

from bot.sandbox import SandboxState
from bot.settings import Settings
from tests.sandbox.conftest import NOW, FakeBot, auth_header, graph_path

PHONE = "919800000001"
API = f"/sandbox/api/customers/{PHONE}"


def app_secret(settings: Settings) -> bytes:
    assert settings.whatsapp_app_secret is not None
    return settings.whatsapp_app_secret.get_secret_value().encode()


def only_webhook(fake_bot: FakeBot, settings: Settings) -> dict[str, Any]:
    [hook] = fake_bot.on("/webhooks/whatsapp")
    digest = hmac.new(app_secret(settings), hook.body, hashlib.sha256).hexdigest()
    assert hook.headers["X-Hub-Signature-256"] == f"sha256={digest}"
    assert hook.headers["Content-Type"] == "application/json"
    envelope: dict[str, Any] = json.loads(hook.body)
    return envelope


def the_message(envelope: dict[str, Any]) -> dict[str, Any]:
    [entry] = envelope["entry"]
    [change] = entry["changes"]
    [message] = change["value"]["messages"]
    return message  # type: ignore[no-any-return]


async def test_text_becomes_a_signed_cloud_api_webhook(
    client: TestClient[Any, Any], settings: Settings, fake_bot: FakeBot
) -> None:
    response = await client.post(f"{API}/messages", json={"type": "text", "text": "hi ☕"})
    assert response.status == 200
    answer = await response.json()
    assert answer["webhook"]["ok"] is True
    assert answer["item"]["status"] == "delivered"
    envelope = only_webhook(fake_bot, settings)
    assert envelope["object"] == "whatsapp_business_account"
    [entry] = envelope["entry"]
    [change] = entry["changes"]
    assert change["field"] == "messages"
    value = change["value"]
    assert value["messaging_product"] == "whatsapp"
    assert value["metadata"]["phone_number_id"] == settings.whatsapp_phone_number_id
    assert value["metadata"]["display_phone_number"]
    assert value["contacts"] == [{"profile": {"name": "Customer 0001"}, "wa_id": PHONE}]
    message = the_message(envelope)
    assert message["from"] == PHONE
    assert re.fullmatch(r"wamid\.[A-Za-z0-9+/=]+", message["id"])
    assert message["timestamp"] == str(NOW)
    assert (message["type"], message["text"]) == ("text", {"body": "hi ☕"})
    assert "context" not in message
    # Meta escapes non-ASCII, and signs exactly those bytes.
    assert b"\\u2615" in fake_bot.on("/webhooks/whatsapp")[0].body


async def test_each_message_gets_a_fresh_wamid(
    client: TestClient[Any, Any], fake_bot: FakeBot
) -> None:
    for _ in range(3):
        await client.post(f"{API}/messages", json={"type": "text", "text": "again"})
    ids = {the_message(json.loads(h.body))["id"] for h in fake_bot.on("/webhooks/whatsapp")}
    assert len(ids) == 3


async def bot_sends_buttons(client: TestClient[Any, Any], settings: Settings) -> str:
    body = {
        "messaging_product": "whatsapp",
        "to": PHONE,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Welcome"},
            "action": {
                "buttons": [{"type": "reply", "reply": {"id": "cats:0", "title": "Browse"}}]
            },
        },
    }
    response = await client.post(graph_path(settings), json=body, headers=auth_header(settings))
    wamid: str = (await response.json())["messages"][0]["id"]
    return wamid


async def test_button_tap_carries_the_context_of_the_tapped_message(
    client: TestClient[Any, Any], settings: Settings, fake_bot: FakeBot
) -> None:
    wamid = await bot_sends_buttons(client, settings)
    tap = {"type": "button_reply", "id": "cats:0", "title": "Browse", "context": wamid}
    assert (await client.post(f"{API}/messages", json=tap)).status == 200
    message = the_message(only_webhook(fake_bot, settings))
    assert message["type"] == "interactive"
    assert message["interactive"] == {
        "type": "button_reply",
        "button_reply": {"id": "cats:0", "title": "Browse"},
    }
    assert message["context"]["id"] == wamid
    assert next(iter(message)) == "context"  # as Meta orders the keys


async def test_a_tap_from_a_script_finds_its_context(
    client: TestClient[Any, Any], settings: Settings, fake_bot: FakeBot
) -> None:
    wamid = await bot_sends_buttons(client, settings)
    await client.post(f"{API}/messages", json={"type": "button_reply", "id": "cats:0"})
    assert the_message(only_webhook(fake_bot, settings))["context"]["id"] == wamid


async def test_list_reply(
    client: TestClient[Any, Any], settings: Settings, fake_bot: FakeBot
) -> None:
    pick = {"type": "list_reply", "id": "cat:tea", "title": "Tea", "description": "4 products"}
    await client.post(f"{API}/messages", json=pick)
    interactive = the_message(only_webhook(fake_bot, settings))["interactive"]
    assert interactive == {
        "type": "list_reply",
        "list_reply": {"id": "cat:tea", "title": "Tea", "description": "4 products"},
    }


async def test_customer_name_goes_into_the_profile(
    client: TestClient[Any, Any], settings: Settings, fake_bot: FakeBot
) -> None:
    await client.post(f"{API}/messages", json={"type": "text", "text": "hi", "name": "Asha"})
    contact = only_webhook(fake_bot, settings)["entry"][0]["changes"][0]["value"]["contacts"][0]
    assert contact["profile"]["name"] == "Asha"


async def test_bad_input_is_refused(client: TestClient[Any, Any], fake_bot: FakeBot) -> None:
    for body in ({"type": "text", "text": ""}, {"type": "voice"}, {"type": "button_reply"}):
        assert (await client.post(f"{API}/messages", json=body)).status == 400
    bad_phone = await client.post("/sandbox/api/customers/12ab/messages", json={"type": "text"})
    assert bad_phone.status == 400
    assert fake_bot.received == []


async def test_a_bot_that_fails_leaves_a_failed_message(
    client: TestClient[Any, Any], fake_bot: FakeBot, state: SandboxState
) -> None:
    fake_bot.status = 500
    answer = await (
        await client.post(f"{API}/messages", json={"type": "text", "text": "hi"})
    ).json()
    assert answer["webhook"]["ok"] is False
    assert len(fake_bot.received) == 3  # retried, like Meta
    [item] = state.hub.log(PHONE).items
    assert item.status == "failed"
    assert item.error is not None
    assert "HTTP 500" in item.error["details"]


async def test_history_and_customers(client: TestClient[Any, Any], settings: Settings) -> None:
    await client.post(f"{API}/messages", json={"type": "text", "text": "hi"})
    await bot_sends_buttons(client, settings)
    history = await (await client.get(f"{API}/messages")).json()
    assert [i["sender"] for i in history["items"]] == ["customer", "shop"]
    customers = await (await client.get("/sandbox/api/customers")).json()
    assert customers[0]["phone"] == PHONE
    assert customers[0]["last"] == "Welcome [Browse]"


async def read_events(client: TestClient[Any, Any], count: int, **headers: str) -> list[Any]:
    """The first `count` events of the stream, as (id, item) pairs."""
    events: list[Any] = []
    async with client.get(f"{API}/events", headers=headers) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        event_id = None
        async for raw in response.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                events.append((event_id, json.loads(line[6:])))
                if len(events) == count:
                    break
    return events


async def test_events_replay_history_then_stream_live(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    await client.post(f"{API}/messages", json={"type": "text", "text": "hi"})
    reader = asyncio.create_task(read_events(client, 2))
    await asyncio.sleep(0.05)
    await bot_sends_buttons(client, settings)
    (first_id, history), (live_id, live) = await asyncio.wait_for(reader, 5)
    # The history arrives in its latest state (delivered), then the bot's reply live.
    assert (history["sender"], history["status"]) == ("customer", "delivered")
    assert (live["sender"], live["message"]["interactive"]["type"]) == ("shop", "button")
    assert first_id < live_id


async def test_events_resume_after_last_event_id(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    await client.post(f"{API}/messages", json={"type": "text", "text": "hi"})
    [(seen, _)] = await read_events(client, 1)
    await bot_sends_buttons(client, settings)
    [(next_id, item)] = await asyncio.wait_for(
        read_events(client, 1, **{"Last-Event-ID": str(seen)}), 5
    )
    assert next_id > seen
    assert item["sender"] == "shop"


async def test_pages_and_new_customers(client: TestClient[Any, Any]) -> None:
    first = await client.get("/sandbox", allow_redirects=False)
    assert first.status == 302
    assert first.headers["Location"] == "/sandbox?phone=919800000001"
    page = await client.get("/sandbox?phone=919800000001")
    assert "chat.js" in await page.text()
    numbers = set()
    for _ in range(3):
        fresh = await client.get("/sandbox/new", allow_redirects=False)
        numbers.add(fresh.headers["Location"])
    assert len(numbers) == 3
    for asset in ("chat.js", "chat.css", "pages.css"):
        assert (await client.get(f"/sandbox/static/{asset}")).status == 200
    info = await (await client.get("/sandbox/api/info")).json()
    assert info["shop"] == "Sandbox shop"  # no shop config on this bare app
