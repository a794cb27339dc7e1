"""Other web sites cannot use the sandbox: JSON only, same-origin requests only, and only for
host names it serves (DNS rebinding); and what it keeps of each chat is bounded."""

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.sandbox import SandboxState
from bot.sandbox.guard import host_name
from bot.sandbox.hub import MAX_CUSTOMERS, MAX_ITEMS_PER_CUSTOMER, ChatHub
from tests.sandbox.conftest import FakeBot

API = "/sandbox/api/customers/919800000001"
HELLO = json.dumps({"type": "text", "text": "hello"})


def own_origin(client: TestClient[Any, Any]) -> str:
    return f"http://{client.host}:{client.port}"


# --- JSON only --------------------------------------------------------------------------------


async def test_a_message_sent_as_text_plain_is_refused(
    client: TestClient[Any, Any], fake_bot: FakeBot
) -> None:
    # A cross-site page may send text/plain without a preflight; application/json it may not.
    response = await client.post(
        f"{API}/messages", data=HELLO, headers={"Content-Type": "text/plain"}
    )
    assert response.status == 415
    assert fake_bot.received == []
    ok = await client.post(
        f"{API}/messages", data=HELLO, headers={"Content-Type": "application/json"}
    )
    assert ok.status == 200


# --- same origin ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "http://localhost.evil.example"]
)
async def test_a_cross_site_post_is_refused(
    client: TestClient[Any, Any], fake_bot: FakeBot, origin: str
) -> None:
    headers = {"Content-Type": "application/json", "Origin": origin}
    response = await client.post(f"{API}/messages", data=HELLO, headers=headers)
    assert response.status == 403
    assert fake_bot.received == []


async def test_a_cross_site_form_cannot_pay_a_link(
    client: TestClient[Any, Any], state: SandboxState, fake_bot: FakeBot
) -> None:
    link = state.links.create(
        {"amount": 24900, "currency": "INR", "reference_id": "ord_guard"},
        now=1_790_000_000,
        public_url="http://localhost:8080",
    )
    forged = await client.post(
        f"/sandbox/pay/{link['id']}/pay", headers={"Origin": "https://evil.example"}
    )
    assert forged.status == 403
    assert state.links.get(link["id"])["status"] == "created"
    assert fake_bot.received == []


async def test_same_origin_pages_and_tools_without_origin_are_served(
    client: TestClient[Any, Any],
) -> None:
    same = {"Content-Type": "application/json", "Origin": own_origin(client)}
    assert (await client.post(f"{API}/messages", data=HELLO, headers=same)).status == 200
    public = {"Content-Type": "application/json", "Origin": "http://localhost:8080"}
    assert (await client.post(f"{API}/messages", data=HELLO, headers=public)).status == 200
    curl = {"Content-Type": "application/json"}  # no Origin at all
    assert (await client.post(f"{API}/messages", data=HELLO, headers=curl)).status == 200


# --- host names (DNS rebinding) ---------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "localhost.evil.example"])
async def test_a_host_name_the_sandbox_does_not_serve_is_refused(
    client: TestClient[Any, Any], host: str
) -> None:
    # After rebinding, evil.example points at 127.0.0.1, but the browser still says so.
    for path in ("/sandbox/api/customers", "/sandbox/orders", f"{API}/messages", "/sandbox"):
        response = await client.get(path, headers={"Host": host})
        assert response.status == 421, path


@pytest.mark.parametrize("host", ["localhost:8080", "LOCALHOST", "127.0.0.1:8080", "[::1]:8080"])
async def test_loopback_names_and_addresses_are_served(
    client: TestClient[Any, Any], host: str
) -> None:
    response = await client.get("/sandbox/api/customers", headers={"Host": host})
    assert response.status == 200


@pytest.mark.parametrize(
    ("header", "name"),
    [("localhost:8080", "localhost"), ("[::1]:80", "::1"), ("Shop.Example", "shop.example")],
)
def test_host_names_are_read_without_port_or_case(header: str, name: str) -> None:
    assert host_name(header) == name


# --- bounded memory ---------------------------------------------------------------------------


def say(hub: ChatHub, phone: str, n: int) -> None:
    hub.add(
        phone,
        wamid=f"wamid.{phone}.{n}",
        sender="customer",
        at=float(n),
        message={"type": "text", "text": {"body": str(n)}},
        status="sent",
    )


def test_a_conversation_keeps_its_newest_messages_with_stable_positions() -> None:
    hub = ChatHub()
    for n in range(MAX_ITEMS_PER_CUSTOMER + 100):
        say(hub, "919800000001", n)
    log = hub.logs["919800000001"]
    assert len(log.items) == MAX_ITEMS_PER_CUSTOMER
    assert log.items[0].seq == 100  # positions are not renumbered when old ones go
    assert log.items[-1].seq == MAX_ITEMS_PER_CUSTOMER + 99
    assert hub.find("wamid.919800000001.0") is None
    assert hub.find(f"wamid.919800000001.{MAX_ITEMS_PER_CUSTOMER + 99}") is not None


def test_only_the_most_recently_active_conversations_are_kept() -> None:
    hub = ChatHub()
    for i in range(MAX_CUSTOMERS + 10):
        say(hub, f"9198{i:08d}", 0)
    say(hub, "919800000000", 1)  # the first customer speaks again: now among the newest
    assert len(hub.logs) == MAX_CUSTOMERS
    assert "919800000000" in hub.logs
    assert "919800000001" not in hub.logs  # the quietest went first
    assert hub.find("wamid.919800000001.0") is None
