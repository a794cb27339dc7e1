"""The public API the app factory uses, the orders view, and the standalone stand-in server."""

import argparse
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from bot.app import create_app
from bot.keys import STORE
from bot.sandbox import SANDBOX, SANDBOX_CREDENTIALS, sandbox_settings, setup_sandbox
from bot.sandbox.merchant import SANDBOX_OWNER
from bot.sandbox.standins import build_app, parse_args
from bot.settings import Mode, Settings, load_settings
from bot.shop_config import load_shop_config
from flows.orders import Order, OrderLine, OrderStatus
from storage.migrate import migrate
from storage.repository import MerchantAlert
from tests.fixtures_path import REPO_ROOT
from tests.sandbox.conftest import auth_header, graph_path

# --- sandbox_settings ---------------------------------------------------------------------------


def test_sandbox_settings_point_the_bot_at_its_own_stand_ins() -> None:
    settings = sandbox_settings(Settings(bot_mode=Mode.SANDBOX, port=9123))
    assert settings.whatsapp_api_base == "http://127.0.0.1:9123/sandbox/graph/v25.0"
    assert settings.razorpay_api_base == "http://127.0.0.1:9123/sandbox/razorpay/v1"
    assert settings.public_base_url == "http://localhost:9123"
    assert isinstance(settings.whatsapp_access_token, SecretStr)
    assert isinstance(settings.whatsapp_app_secret, SecretStr)
    assert isinstance(settings.razorpay_key_secret, SecretStr)
    assert (
        settings.whatsapp_app_secret.get_secret_value()
        == (SANDBOX_CREDENTIALS["WHATSAPP_APP_SECRET"])
    )
    [webhook] = settings.razorpay_webhook_secret
    assert webhook.get_secret_value() == SANDBOX_CREDENTIALS["RAZORPAY_WEBHOOK_SECRET"]
    assert settings.whatsapp_phone_number_id == SANDBOX_CREDENTIALS["WHATSAPP_PHONE_NUMBER_ID"]
    assert settings.razorpay_key_id == SANDBOX_CREDENTIALS["RAZORPAY_KEY_ID"]


def test_a_public_url_given_is_kept() -> None:
    given = Settings(bot_mode=Mode.SANDBOX, public_base_url="https://shop.example.in")
    assert sandbox_settings(given).public_base_url == "https://shop.example.in"


def test_sandbox_credentials_would_not_pass_as_live() -> None:
    assert set(SANDBOX_CREDENTIALS) == {
        "WHATSAPP_ACCESS_TOKEN",
        "WHATSAPP_PHONE_NUMBER_ID",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_VERIFY_TOKEN",
        "RAZORPAY_KEY_ID",
        "RAZORPAY_KEY_SECRET",
        "RAZORPAY_WEBHOOK_SECRET",
    }
    assert all(
        "sandbox" in value.lower() for value in SANDBOX_CREDENTIALS.values() if not value.isdigit()
    )


# --- mounted only in sandbox mode ---------------------------------------------------------------


async def real_app(tmp_path: Path, env: dict[str, str]) -> web.Application:
    database = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    settings = load_settings({"DATABASE_URL": database, **env})
    await migrate(database)
    if settings.mode is Mode.SANDBOX:
        settings = sandbox_settings(settings)
    return create_app(settings, load_shop_config(REPO_ROOT / "config.toml"))


async def test_live_mode_has_no_sandbox_routes(tmp_path: Path) -> None:
    live = {name: "x" for name in SANDBOX_CREDENTIALS}
    async with TestClient(TestServer(await real_app(tmp_path, live))) as client:
        for path in ("/sandbox", "/sandbox/orders", "/sandbox/api/info", "/sandbox/pay/plink_x"):
            assert (await client.get(path)).status == 404, path
        assert (await client.post("/sandbox/graph/v25.0/x/messages", json={})).status == 404
        assert (await client.get("/healthz")).status == 200


async def test_sandbox_mode_mounts_everything(tmp_path: Path) -> None:
    async with TestClient(TestServer(await real_app(tmp_path, {}))) as client:
        info = await (await client.get("/sandbox/api/info")).json()
        assert info["shop"] == "Chai Point"
        assert (await client.get("/sandbox/orders")).status == 200
        assert (await client.get("/sandbox?phone=919800000001")).status == 200


# --- orders view --------------------------------------------------------------------------------


class FakeStore:
    """Only what the orders view reads; the real store is tested in tests/storage."""

    def __init__(
        self,
        orders: list[Order],
        history: dict[str, list[tuple[str, int, str]]],
        alerts: dict[str, list[MerchantAlert]] | None = None,
    ):
        self.orders, self.history, self.alerts = orders, history, alerts or {}

    async def list_orders(self, limit: int = 100) -> list[Order]:
        return self.orders[:limit]

    async def order_history(self, order_id: str) -> list[tuple[str, int, str]]:
        return self.history.get(order_id, [])

    async def order_alerts(self, order_id: str) -> list[MerchantAlert]:
        return self.alerts.get(order_id, [])


ORDER = Order(
    id="ORD-20261122-ABC",
    customer_key="919800000001",
    lines=(OrderLine(product_id="tea", name="Masala <Chai>", unit_price=24900, quantity=2),),
    total=49800,
    address="12 MG Road",
    status=OrderStatus.PAID,
    created_at=1_790_000_000,
)


def with_store(settings: Settings, store: FakeStore) -> TestClient[Any, Any]:
    app = web.Application()
    setup_sandbox(app, settings)
    app[STORE] = store  # type: ignore[assignment]
    return TestClient(TestServer(app))


async def test_orders_view_shows_orders_history_and_messages(settings: Settings) -> None:
    history = {
        ORDER.id: [("pending_payment", 1_790_000_000, "placed"), ("paid", 1_790_000_100, "")]
    }
    text = {"messaging_product": "whatsapp", "to": "919800000001", "type": "text"}
    async with with_store(settings, FakeStore([ORDER], history)) as client:
        await client.post(
            graph_path(settings),
            json={**text, "text": {"body": "✅ Payment received"}},
            headers=auth_header(settings),
        )
        page = await (await client.get("/sandbox/orders")).text()
    assert ORDER.id in page
    assert "₹498.00" in page
    assert "Masala &lt;Chai&gt;" in page  # escaped
    assert "pending_payment" in page
    assert "paid" in page
    assert "✅ Payment received" in page


async def test_orders_view_without_a_store(client: TestClient[Any, Any]) -> None:
    page = await (await client.get("/sandbox/orders")).text()
    assert "store is not open" in page


async def test_orders_view_survives_a_failing_store(settings: Settings) -> None:
    class Broken(FakeStore):
        async def list_orders(self, limit: int = 100) -> list[Order]:
            raise RuntimeError("database is locked")

    async with with_store(settings, Broken([], {})) as client:
        response = await client.get("/sandbox/orders")
        assert response.status == 200
        assert "Could not read the orders" in await response.text()


# --- the standalone stand-ins -------------------------------------------------------------------


def test_rates_must_be_probabilities() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--graph-error-rate", "1.5"])
    args = parse_args(["--port", "9001", "--graph-429-rate", "0.1", "--seed", "7"])
    assert isinstance(args, argparse.Namespace)
    assert (args.port, args.graph_429_rate, args.seed) == (9001, 0.1, 7)


async def test_standins_count_what_arrived() -> None:
    app = build_app(parse_args(["--port", "9001", "--bot-url", "http://127.0.0.1:1"]))
    settings = sandbox_settings(Settings(bot_mode=Mode.SANDBOX))
    async with TestClient(TestServer(app)) as client:
        for to in ("919800000001", "919800000001", "919800000002"):
            body = {"messaging_product": "whatsapp", "to": to, "text": {"body": "hi"}}
            response = await client.post(
                graph_path(settings), json=body, headers=auth_header(settings)
            )
            assert response.status == 200
        stats = await (await client.get("/stats")).json()
        assert stats["graph"]["messages_by_recipient"] == {"919800000001": 2, "919800000002": 1}
        assert stats["graph"]["messages_total"] == 3
        assert stats["razorpay"]["links_created"] == 0
        assert app[SANDBOX].public_url == "http://127.0.0.1:9001"
        assert (await client.get("/sandbox")).status == 404  # no chat pages here
        # ...but the checkout page and its stylesheet are.
        assert (await client.get("/sandbox/static/pages.css")).status == 200


def test_setup_sandbox_keeps_state_under_its_own_key(settings: Settings) -> None:
    app = web.Application()
    setup_sandbox(app, settings)
    state = app[SANDBOX]
    assert state.bot_url == "http://127.0.0.1:8080"
    assert state.public_url == "http://localhost:8080"
    assert state.credentials.app_secret == SANDBOX_CREDENTIALS["WHATSAPP_APP_SECRET"]


def test_the_sandbox_has_an_owner_number_unless_one_is_given() -> None:
    assert sandbox_settings(Settings(bot_mode=Mode.SANDBOX)).owner_whatsapp == (SANDBOX_OWNER,)
    given = Settings(bot_mode=Mode.SANDBOX, owner_whatsapp=("919812345678",))
    assert sandbox_settings(given).owner_whatsapp == ("919812345678",)
