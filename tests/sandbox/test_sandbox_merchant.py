"""In the sandbox the merchant's channels go to stand-ins of the same process: a webhook
receiver that verifies the signature, Telegram, and an SMTP server; /sandbox/orders shows
what the merchant was told about each order."""

import json
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.merchant.channels.email import EmailChannel, SmtpServer
from bot.merchant.channels.webhook import WebhookChannel
from bot.sandbox import sandbox_settings
from bot.sandbox.merchant import MERCHANT_INBOX, SMTP_STANDIN
from bot.settings import Mode, Settings, load_settings
from bot.shop_config import load_shop_config
from storage.migrate import migrate
from storage.repository import AlertStatus, MerchantAlert
from tests.fixtures_path import REPO_ROOT
from tests.merchant.test_channels import BODY
from tests.sandbox.test_sandbox_setup import ORDER, FakeStore, with_store


def test_channels_the_merchant_did_not_set_go_to_the_sandbox() -> None:
    settings = sandbox_settings(Settings(bot_mode=Mode.SANDBOX, port=9123))
    assert settings.merchant_webhook_url == "http://127.0.0.1:9123/sandbox/merchant/webhook"
    assert settings.telegram_api_base == "http://127.0.0.1:9123/sandbox/telegram"
    assert settings.smtp_url is not None
    assert settings.smtp_url.get_secret_value().startswith("smtp://127.0.0.1:")

    own = sandbox_settings(
        load_settings({"MERCHANT_EMAIL": "me@example.com", "SMTP_URL": "smtp://mail.example.com"})
    )
    assert own.merchant_email == "me@example.com"
    assert own.smtp_url is not None
    assert own.smtp_url.get_secret_value() == "smtp://mail.example.com"


async def test_the_sandbox_receives_a_signed_webhook_and_an_email(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    await migrate(database)
    settings = sandbox_settings(load_settings({"DATABASE_URL": database}))
    app = create_app(settings, load_shop_config(REPO_ROOT / "config.toml"))
    alert = MerchantAlert(
        id=1,
        channel="webhook",
        event_type="order.paid",
        order_id=ORDER.id,
        webhook_id="msg_sandbox",
        body=json.dumps(BODY | {"data": {**BODY["data"], "order_id": ORDER.id}}),
        status=AlertStatus.PENDING,
        attempts=0,
        last_error=None,
        next_attempt_at=0,
        created_at=0,
        delivered_at=None,
    )
    async with TestClient(TestServer(app)) as client, aiohttp.ClientSession() as session:
        assert settings.merchant_webhook_secret is not None
        webhook = WebhookChannel(
            session,
            url=str(client.make_url("/sandbox/merchant/webhook")),
            secret=settings.merchant_webhook_secret.get_secret_value(),
            allow_private=True,
        )
        await webhook.deliver(alert)
        assert settings.smtp_url is not None
        email = EmailChannel(
            server=SmtpServer.from_url(settings.smtp_url.get_secret_value()),
            to="merchant@sandbox.invalid",
            sender="shop@sandbox.invalid",
            public_base_url=None,
        )
        await email.deliver(alert)

        [received] = app[MERCHANT_INBOX].webhooks
        assert received.verified
        [mail] = app[SMTP_STANDIN].received
        assert ORDER.id in mail.message["Subject"]


async def test_the_orders_page_shows_what_the_merchant_was_told(settings: Settings) -> None:
    failed = MerchantAlert(
        id=2,
        channel="telegram",
        event_type="order.paid",
        order_id=ORDER.id,
        webhook_id="msg_x",
        body="{}",
        status=AlertStatus.FAILED,
        attempts=1,
        last_error="Telegram answered 400: chat not found",
        next_attempt_at=0,
        created_at=1_790_000_100,
        delivered_at=None,
    )
    store = FakeStore([ORDER], {}, {ORDER.id: [failed]})
    async with with_store(settings, store) as client:
        page = await (await client.get("/sandbox/orders")).text()
    assert "Merchant told" in page
    assert "order.paid → <b>telegram</b>: failed (1 attempt)" in page
    assert "chat not found" in page
