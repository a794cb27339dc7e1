"""A whole shop on loopback: the real app on aiohttp's test server, a real database (a SQLite
file or a Postgres database: the `database_url` fixture runs a test on each), and recording
fakes of the Graph API and of Razorpay, Stripe and Paystack (`provider=` picks the one the shop
uses). Tests talk to it like customers do."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from bot import keys
from bot.app import create_app
from bot.payments.paystack import sign_paystack
from bot.payments.stripe import sign_stripe
from bot.routes.bodies import WebhookBodies
from bot.settings import Settings, load_settings
from bot.signatures import sign_meta, sign_razorpay
from flows.catalog import ShopConfig
from storage.migrate import migrate
from tests.support.fakes import PHONE_NUMBER_ID, FakeGraph, FakeRazorpay
from tests.support.provider_fakes import FakePaystack, FakeStripe

APP_SECRET = "test_app_secret_do_not_use"
VERIFY_TOKEN = "verify-me"
ACCESS_TOKEN = "EAAG-test-token"
KEY_ID = "rzp_test_key"
KEY_SECRET = "key-secret-for-tests-only"
WEBHOOK_SECRET = "rzp-webhook-secret-for-tests-only"
STRIPE_SECRET_KEY = "sk_test_stripe-key-for-tests-only"
STRIPE_WEBHOOK_SECRET = "whsec_stripe-webhook-secret-for-tests-only"
PAYSTACK_SECRET_KEY = "sk_test_paystack-key-for-tests-only"
PROVIDERS = ("razorpay", "stripe", "paystack")


class FakeClock:
    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Shop:
    client: TestClient[Any, Any]
    graph: FakeGraph
    razorpay: FakeRazorpay
    clock: FakeClock
    settings: Settings
    stripe: FakeStripe
    paystack: FakePaystack
    _wamids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _events: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def app(self) -> web.Application:
        return self.client.server.app  # type: ignore[no-any-return]

    # --- the customer's side ------------------------------------------------------------------
    async def say(self, phone: str, text: str, name: str = "Asha") -> ClientResponse:
        return await self.send(phone, {"type": "text", "text": {"body": text}}, name)

    async def tap(self, phone: str, button_id: str, title: str = "") -> ClientResponse:
        reply = {"type": "button_reply", "button_reply": {"id": button_id, "title": title or "x"}}
        return await self.send(phone, {"type": "interactive", "interactive": reply})

    async def pick(self, phone: str, row_id: str, title: str = "") -> ClientResponse:
        reply = {"type": "list_reply", "list_reply": {"id": row_id, "title": title or "x"}}
        return await self.send(phone, {"type": "interactive", "interactive": reply})

    async def send(
        self, phone: str, content: dict[str, Any], name: str = "Asha", wamid: str | None = None
    ) -> ClientResponse:
        message = {
            "from": phone,
            "id": wamid or f"wamid.in{next(self._wamids)}",
            "timestamp": str(int(self.clock())),
            **content,
        }
        return await self.post_whatsapp(webhook_body(phone, name, [message]))

    async def post_whatsapp(self, body: bytes, signature: str | None = "valid") -> ClientResponse:
        headers = {"Content-Type": "application/json"}
        if signature == "valid":
            headers["X-Hub-Signature-256"] = sign_meta(body, APP_SECRET)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return await self.client.post("/webhooks/whatsapp", data=body, headers=headers)

    async def post_razorpay(
        self, body: bytes, event_id: str | None = None, signature: str | None = "valid"
    ) -> ClientResponse:
        headers = {
            "Content-Type": "application/json",
            "X-Razorpay-Event-Id": event_id or f"evt_Test{next(self._events):010d}",
        }
        if signature == "valid":
            headers["X-Razorpay-Signature"] = sign_razorpay(body, WEBHOOK_SECRET)
        elif signature is not None:
            headers["X-Razorpay-Signature"] = signature
        return await self.client.post("/webhooks/razorpay", data=body, headers=headers)

    async def post_stripe(self, body: bytes, signature: str | None = "valid") -> ClientResponse:
        headers = {"Content-Type": "application/json"}
        if signature == "valid":
            headers["Stripe-Signature"] = sign_stripe(
                body, STRIPE_WEBHOOK_SECRET, int(self.clock())
            )
        elif signature is not None:
            headers["Stripe-Signature"] = signature
        return await self.client.post("/webhooks/stripe", data=body, headers=headers)

    async def post_paystack(self, body: bytes, signature: str | None = "valid") -> ClientResponse:
        headers = {"Content-Type": "application/json"}
        if signature == "valid":
            headers["x-paystack-signature"] = sign_paystack(body, PAYSTACK_SECRET_KEY)
        elif signature is not None:
            headers["x-paystack-signature"] = signature
        return await self.client.post("/webhooks/paystack", data=body, headers=headers)

    # --- waiting and looking ------------------------------------------------------------------
    async def settle(self) -> None:
        """Wait until every event, job and message in flight has been handled."""
        runner, jobs, outbox = self.app[keys.RUNNER], self.app[keys.JOBS], self.app[keys.OUTBOX]
        for _ in range(50):
            await runner.idle()
            await jobs.idle()
            await outbox.idle()
            if not (runner.busy or jobs.busy or outbox.busy):
                return
        raise AssertionError("the shop did not settle")

    def replies(self, phone: str) -> list[dict[str, Any]]:
        return self.graph.to(phone)

    def last_reply(self, phone: str) -> dict[str, Any]:
        return self.replies(phone)[-1]


def webhook_body(phone: str, name: str, messages: list[dict[str, Any]]) -> bytes:
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "300100200300400",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "919900011122",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": phone}],
                            "messages": messages,
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(body, separators=(",", ":")).encode()


def text_of(message: dict[str, Any]) -> str:
    """Everything a customer reads in one message, as one string (for `in` checks)."""
    if message["type"] == "text":
        return str(message["text"]["body"])
    interactive = message["interactive"]
    parts = [
        interactive.get("header", {}).get("text", ""),
        interactive["body"]["text"],
        interactive.get("footer", {}).get("text", ""),
    ]
    action = interactive.get("action", {})
    parts += [b["reply"]["title"] for b in action.get("buttons", [])]
    for section in action.get("sections", []):
        parts += [f"{r['title']} {r.get('description', '')}" for r in section["rows"]]
    if action.get("name") == "cta_url":
        parts += [action["parameters"]["display_text"], action["parameters"]["url"]]
    return "\n".join(p for p in parts if p)


def button_ids(message: dict[str, Any]) -> dict[str, str]:
    """Reply-button titles → ids of an interactive button message."""
    buttons = message["interactive"]["action"]["buttons"]
    return {b["reply"]["title"]: b["reply"]["id"] for b in buttons}


def row_ids(message: dict[str, Any]) -> dict[str, str]:
    """List row titles → ids."""
    sections = message["interactive"]["action"]["sections"]
    return {row["title"]: row["id"] for s in sections for row in s["rows"]}


@asynccontextmanager
async def running_shop(
    database_url: str,
    shop_config: ShopConfig,
    *,
    graph: FakeGraph | None = None,
    razorpay: FakeRazorpay | None = None,
    clock: FakeClock | None = None,
    extra_env: dict[str, str] | None = None,
    webhook_bodies: WebhookBodies | None = None,
    provider: str = "razorpay",
) -> AsyncIterator[Shop]:
    """`provider`: which payment provider the shop uses (its fake is the one called)."""
    graph = graph or FakeGraph(token=ACCESS_TOKEN)
    razorpay = razorpay or FakeRazorpay(key_id=KEY_ID, key_secret=KEY_SECRET)
    stripe = FakeStripe(secret_key=STRIPE_SECRET_KEY, webhook_secret=STRIPE_WEBHOOK_SECRET)
    paystack = FakePaystack(secret_key=PAYSTACK_SECRET_KEY)
    clock = clock or FakeClock()
    async with (
        TestServer(graph.app()) as graph_server,
        TestServer(razorpay.app()) as rzp_server,
        TestServer(stripe.app()) as stripe_server,
        TestServer(paystack.app()) as paystack_server,
    ):
        credentials = {
            "razorpay": {
                "RAZORPAY_KEY_ID": KEY_ID,
                "RAZORPAY_KEY_SECRET": KEY_SECRET,
                "RAZORPAY_WEBHOOK_SECRET": WEBHOOK_SECRET,
            },
            "stripe": {
                "STRIPE_SECRET_KEY": STRIPE_SECRET_KEY,
                "STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
            },
            "paystack": {"PAYSTACK_SECRET_KEY": PAYSTACK_SECRET_KEY},
        }[provider]
        env = {
            "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
            "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
            "WHATSAPP_API_BASE": str(graph_server.make_url("/v25.0")),
            **credentials,
            "PAYMENT_PROVIDER": provider,
            "RAZORPAY_API_BASE": str(rzp_server.make_url("/v1")),
            "STRIPE_API_BASE": str(stripe_server.make_url("")),
            "PAYSTACK_API_BASE": str(paystack_server.make_url("")),
            "DATABASE_URL": database_url,
            "PUBLIC_BASE_URL": "https://shop.example.com",
            "RETRY_BASE_SECONDS": "0.01",
            "SEND_RETRY_SECONDS": "5",
            "HTTP_TIMEOUT_SECONDS": "2",
            **(extra_env or {}),
        }
        settings = load_settings(env)
        await migrate(settings.database_url)
        app = create_app(settings, shop_config, clock=clock, webhook_bodies=webhook_bodies)
        async with TestClient(TestServer(app)) as client:
            yield Shop(client, graph, razorpay, clock, settings, stripe, paystack)
