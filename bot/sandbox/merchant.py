"""Stand-ins for where the merchant hears about orders: a webhook receiver that checks the
Standard Webhooks signature the way a merchant's code would (with the reference package), and
Telegram's sendMessage. The sandbox serves them under /sandbox; tests serve them on their own
loopback servers. Each records what arrived, and can be told what to answer next."""

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import structlog
from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from bot.sandbox.smtp import SmtpStandin
from bot.settings import Settings

log = structlog.get_logger(__name__)

# Where Google Apps Script sends the sender after doPost ran (merchant notes §4).
APPS_SCRIPT_ECHO = "https://script.googleusercontent.com/macros/echo?user_content_key=sandbox"


@dataclass(frozen=True, slots=True)
class ReceivedWebhook:
    webhook_id: str
    timestamp: str
    signature: str
    body: str
    verified: bool  # the signature checked out with the reference package
    answered: int  # the HTTP status the receiver gave


@dataclass
class MerchantInbox:
    webhook_secret: str
    webhooks: list[ReceivedWebhook] = field(default_factory=list)
    telegram: list[dict[str, Any]] = field(default_factory=list)
    # What to answer next, first to last; 200 (or ok) once these run out.
    webhook_answers: list[int] = field(default_factory=list)
    telegram_answers: list[int] = field(default_factory=list)
    # While set and not yet released, the webhook answers nothing (a merchant's slow server).
    webhook_hold: asyncio.Event | None = None

    def add_routes(self, app: web.Application, prefix: str = "") -> None:
        app.router.add_post(f"{prefix}/merchant/webhook", self._webhook)
        app.router.add_post(f"{prefix}/telegram/bot{{token}}/sendMessage", self._telegram)

    def app(self) -> web.Application:
        app = web.Application()
        self.add_routes(app)
        return app

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.text()
        if self.webhook_hold is not None:
            await self.webhook_hold.wait()
        try:
            Webhook(self.webhook_secret).verify(body, dict(request.headers))
            verified = True
        except WebhookVerificationError:
            verified = False
        status = self.webhook_answers.pop(0) if self.webhook_answers else 200
        self.webhooks.append(
            ReceivedWebhook(
                webhook_id=request.headers.get("webhook-id", ""),
                timestamp=request.headers.get("webhook-timestamp", ""),
                signature=request.headers.get("webhook-signature", ""),
                body=body,
                verified=verified,
                answered=status,
            )
        )
        if status in (302, 303):
            return web.Response(status=status, headers={"Location": APPS_SCRIPT_ECHO})
        return web.Response(status=status, text="ok" if status < 300 else "not now")

    async def _telegram(self, request: web.Request) -> web.Response:
        payload = await request.json()
        status = self.telegram_answers.pop(0) if self.telegram_answers else 200
        if status != 200:
            answer = {"ok": False, "error_code": status, "description": "Sandbox says no"}
            return web.json_response(answer, status=status)
        self.telegram.append({"token": request.match_info["token"], **payload})
        result = {"message_id": len(self.telegram), "chat": {"id": payload.get("chat_id")}}
        return web.json_response({"ok": True, "result": result})

    def for_order(self, order_id: str) -> list[str]:
        """What arrived about one order, one line each (the orders page shows them)."""
        webhooks = [
            f"webhook {w.webhook_id} → {w.answered}, signature "
            f"{'verified' if w.verified else 'WRONG'}"
            for w in self.webhooks
            if order_id in w.body
        ]
        telegram = [
            f"telegram: {m['text'].splitlines()[0]}"
            for m in self.telegram
            if order_id in m.get("text", "")
        ]
        return webhooks + telegram


# --- in the sandbox --------------------------------------------------------------------------

SANDBOX_MERCHANT_EMAIL = "merchant@sandbox.invalid"
# The shop owner's phone in the sandbox (OWNER_WHATSAPP when none is set): a chat at
# /sandbox/owner where a person tries the owner commands. Far from the customers' 9198000000NN.
SANDBOX_OWNER = "919999900001"
# Fakes that only the sandbox's own stand-ins check.
SANDBOX_WEBHOOK_SECRET = "whsec_c2FuZGJveC1tZXJjaGFudC13ZWJob29rLXNlY3JldA=="  # noqa: S105
SANDBOX_TELEGRAM_TOKEN = "100000001:sandbox-telegram-token"  # noqa: S105
SANDBOX_TELEGRAM_CHAT = "-100000000001"

MERCHANT_INBOX = web.AppKey("merchant_inbox", MerchantInbox)
SMTP_STANDIN = web.AppKey("smtp_standin", SmtpStandin)


def free_loopback_port() -> int:
    """A port nobody listens on right now, for the sandbox's SMTP stand-in (the bot's settings
    need it before the stand-in starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def add_merchant_standins(app: web.Application, settings: Settings) -> None:
    """Serve the webhook receiver and Telegram under /sandbox, and the SMTP stand-in on the
    port `sandbox_settings` chose, when the sandbox wired the bot to them."""
    secret = settings.merchant_webhook_secret
    inbox = MerchantInbox(
        webhook_secret=secret.get_secret_value() if secret else SANDBOX_WEBHOOK_SECRET
    )
    app[MERCHANT_INBOX] = inbox
    inbox.add_routes(app, "/sandbox")
    app[SMTP_STANDIN] = SmtpStandin()
    if settings.merchant_email == SANDBOX_MERCHANT_EMAIL and settings.smtp_url is not None:
        port = urlsplit(settings.smtp_url.get_secret_value()).port
        app.cleanup_ctx.append(partial(_smtp_lifecycle, port=port or 0))


async def _smtp_lifecycle(app: web.Application, *, port: int) -> AsyncIterator[None]:
    smtp = app[SMTP_STANDIN]
    try:
        await smtp.start(port=port)
    except OSError as error:  # the port was taken since: the sandbox still runs, without mail
        log.warning("sandbox.smtp_standin_not_started", port=port, error=str(error))
    yield
    await smtp.close()
