"""Mounting the sandbox on an aiohttp app: settings, routes and lifecycle."""

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from bot.clock import AdjustableClock
from bot.sandbox.chat import add_chat_routes
from bot.sandbox.checkout import add_checkout_routes
from bot.sandbox.clock import add_clock_routes
from bot.sandbox.credentials import SANDBOX_CREDENTIALS, Credentials
from bot.sandbox.gateways import (
    PAYSTACK_PREFIX,
    SANDBOX_PAYSTACK_SECRET_KEY,
    SANDBOX_STRIPE_SECRET_KEY,
    SANDBOX_STRIPE_WEBHOOK_SECRET,
    STRIPE_PREFIX,
    GatewayKeys,
    add_gateway_routes,
)
from bot.sandbox.graph import add_graph_routes
from bot.sandbox.guard import sandbox_guard
from bot.sandbox.merchant import (
    SANDBOX_MERCHANT_EMAIL,
    SANDBOX_OWNER,
    SANDBOX_TELEGRAM_CHAT,
    SANDBOX_TELEGRAM_TOKEN,
    SANDBOX_WEBHOOK_SECRET,
    add_merchant_standins,
    free_loopback_port,
)
from bot.sandbox.orders import add_orders_routes
from bot.sandbox.razorpay import add_razorpay_routes, sweep_expired
from bot.sandbox.shopify import SANDBOX_SHOPIFY_STORE, SANDBOX_SHOPIFY_TOKEN, ShopifyStandin
from bot.sandbox.state import SANDBOX, SandboxState
from bot.sandbox.stock import add_stock_routes
from bot.settings import Settings

GRAPH_VERSION = "v25.0"
SHOPIFY_PREFIX = "/sandbox/shopify"
SHOPIFY_STANDIN = web.AppKey("shopify_standin", ShopifyStandin)


def sandbox_settings(settings: Settings) -> Settings:
    """A copy of `settings` wired to the stand-ins this process serves, with fake credentials."""
    creds = SANDBOX_CREDENTIALS
    local = f"http://127.0.0.1:{settings.port}"
    return settings.model_copy(
        update={
            **_merchant_standins(settings, local),
            "whatsapp_access_token": SecretStr(creds["WHATSAPP_ACCESS_TOKEN"]),
            "whatsapp_phone_number_id": creds["WHATSAPP_PHONE_NUMBER_ID"],
            "whatsapp_app_secret": SecretStr(creds["WHATSAPP_APP_SECRET"]),
            "whatsapp_verify_token": SecretStr(creds["WHATSAPP_VERIFY_TOKEN"]),
            "razorpay_key_id": creds["RAZORPAY_KEY_ID"],
            "razorpay_key_secret": SecretStr(creds["RAZORPAY_KEY_SECRET"]),
            "razorpay_webhook_secret": (SecretStr(creds["RAZORPAY_WEBHOOK_SECRET"]),),
            "whatsapp_api_base": f"{local}/sandbox/graph/{GRAPH_VERSION}",
            "razorpay_api_base": f"{local}/sandbox/razorpay/v1",
            # PAYMENT_PROVIDER picks which stand-in the bot talks to; all three are served.
            "stripe_secret_key": SecretStr(SANDBOX_STRIPE_SECRET_KEY),
            "stripe_webhook_secret": (SecretStr(SANDBOX_STRIPE_WEBHOOK_SECRET),),
            "stripe_api_base": f"{local}{STRIPE_PREFIX}",
            "paystack_secret_key": SecretStr(SANDBOX_PAYSTACK_SECRET_KEY),
            "paystack_api_base": f"{local}{PAYSTACK_PREFIX}",
            "public_base_url": settings.public_base_url or f"http://localhost:{settings.port}",
        }
    )


def _merchant_standins(settings: Settings, local: str) -> dict[str, object]:
    """Each merchant channel the merchant has not set up goes to a stand-in of this process,
    so a sandbox order shows the webhook, the email and the Telegram message it caused."""
    update: dict[str, object] = {}
    if settings.merchant_webhook_url is None:
        update["merchant_webhook_url"] = f"{local}/sandbox/merchant/webhook"
        update["merchant_webhook_secret"] = SecretStr(SANDBOX_WEBHOOK_SECRET)
    if settings.telegram_bot_token is None:
        update["telegram_bot_token"] = SecretStr(SANDBOX_TELEGRAM_TOKEN)
        update["telegram_chat_id"] = SANDBOX_TELEGRAM_CHAT
        update["telegram_api_base"] = f"{local}/sandbox/telegram"
    if settings.merchant_email is None:
        update["merchant_email"] = SANDBOX_MERCHANT_EMAIL
        update["smtp_url"] = SecretStr(f"smtp://127.0.0.1:{free_loopback_port()}")
    if not settings.owner_whatsapp:
        update["owner_whatsapp"] = (SANDBOX_OWNER,)
    if settings.shopify_store is None:
        update["shopify_store"] = SANDBOX_SHOPIFY_STORE
        update["shopify_access_token"] = SecretStr(SANDBOX_SHOPIFY_TOKEN)
        update["shopify_api_base"] = f"{local}{SHOPIFY_PREFIX}"
    return update


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    """The sandbox's own HTTP session (for webhooks to the bot) and the link-expiry sweeper."""
    state = app[SANDBOX]
    state.http = aiohttp.ClientSession()
    state.spawn(sweep_expired(state))
    yield
    await state.close()
    await state.http.close()


async def _end_streams(app: web.Application) -> None:
    # on_shutdown runs before aiohttp waits for open requests: live chat streams end here
    # instead of holding the shutdown for its whole timeout.
    app[SANDBOX].closing.set()
    app[SANDBOX].hub.close()


async def stats(request: web.Request) -> web.Response:
    """What arrived at the stand-ins: for benchmarks to check against what the bot reports."""
    state = request.app[SANDBOX]
    links = state.links.links.values()
    by_status: dict[str, int] = {}
    for link in links:
        by_status[link["status"]] = by_status.get(link["status"], 0) + 1
    graph = {
        "messages_by_recipient": dict(state.hub.accepted),
        "messages_total": sum(state.hub.accepted.values()),
        "rejected": state.hub.rejected,
        "faults": state.graph_faults.counts,
    }
    razorpay = {
        "links_created": len(state.links.links),
        "links_by_status": by_status,
        "faults": state.razorpay_faults.counts,
        "webhooks_sent": dict(state.webhooks),
    }
    return web.json_response({"graph": graph, "razorpay": razorpay})


def mount_standins(app: web.Application, state: SandboxState) -> None:
    """The Graph and Razorpay stand-ins (with the control API) and their lifecycle."""
    app[SANDBOX] = state
    add_graph_routes(app)
    add_razorpay_routes(app)
    add_checkout_routes(app)
    app.router.add_get("/sandbox/stats", stats)
    app.cleanup_ctx.append(_lifecycle)
    app.on_shutdown.append(_end_streams)


def _add_shopify_standin(app: web.Application, settings: Settings) -> None:
    """Shopify's Admin API under /sandbox/shopify, recording the orders each payment hands
    over (listed at /sandbox/shopify/orders)."""
    token = settings.shopify_access_token
    standin = ShopifyStandin(
        access_token=token.get_secret_value() if token else SANDBOX_SHOPIFY_TOKEN
    )
    app[SHOPIFY_STANDIN] = standin
    standin.add_routes(app, SHOPIFY_PREFIX)

    async def listing(request: web.Request) -> web.Response:
        orders = request.app[SHOPIFY_STANDIN].orders
        return web.json_response(orders)

    app.router.add_get(f"{SHOPIFY_PREFIX}/orders", listing)


def setup_sandbox(
    app: web.Application, settings: Settings, clock: AdjustableClock | None = None
) -> None:
    """Add every sandbox route to the bot's app. Webhooks go to the bot on 127.0.0.1 at
    `settings.port`; set `app[SANDBOX].bot_url` to point them elsewhere (tests do). With
    `clock` (the bot's own), the chat's clock control moves the bot and the stand-ins alike."""
    state = SandboxState(
        credentials=Credentials.from_settings(settings),
        bot_url=f"http://127.0.0.1:{settings.port}",
        public_url=settings.public_base_url or f"http://localhost:{settings.port}",
        owners=settings.owner_whatsapp,
    )
    if clock is not None:
        state.clock = clock
        state.fast_forward = clock
    mount_standins(app, state)
    add_gateway_routes(app, GatewayKeys.from_settings(settings))
    add_merchant_standins(app, settings)
    _add_shopify_standin(app, settings)
    add_clock_routes(app)
    add_chat_routes(app)
    add_orders_routes(app)
    add_stock_routes(app)
    app.middlewares.append(sandbox_guard(settings))
