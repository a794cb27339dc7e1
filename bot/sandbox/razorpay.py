"""A stand-in for Razorpay's Payment Links API, its webhooks and its browser redirect.

REST under `/sandbox/razorpay/v1` (Basic auth, Razorpay's error shapes), a JSON control API under
`/sandbox/razorpay-control` for scripts, and the actions behind the checkout page: pay, fail,
expire. Every action sends the bot a webhook signed with the webhook secret, as Razorpay does,
except the two that lose it on purpose ("webhook lost"): the payment is made and only the
bot's callback check or its reconciliation sweep can find it.
"""

import contextlib
import functools
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
from aiohttp import web
from yarl import URL

from bot.sandbox.delivery import Delivery, compact_json, post_signed
from bot.sandbox.links import Entity, RazorpayError, bad_request, webhook_event
from bot.sandbox.signing import razorpay_callback_signature, razorpay_id, razorpay_webhook_signature
from bot.sandbox.state import SANDBOX, SandboxState

RAZORPAY_PREFIX = "/sandbox/razorpay/v1"
CONTROL_PREFIX = "/sandbox/razorpay-control"
SERVER_ERROR = RazorpayError(
    500,
    "SERVER_ERROR",
    "The server encountered an error. The incident has been reported to admins.",
)
REDELIVERY_SECONDS = (5.0, 15.0, 60.0, 300.0)  # Razorpay keeps trying for 24 h; a few is plenty
SWEEP_SECONDS = 5.0

Action = Literal["pay", "fail", "expire", "pay_webhook_lost", "pay_all_lost"]
ACTIONS: tuple[Action, ...] = ("pay", "fail", "expire", "pay_webhook_lost", "pay_all_lost")
PAYING: frozenset[Action] = frozenset({"pay", "pay_webhook_lost", "pay_all_lost"})
LOST = Delivery(False, None, 0, "lost on purpose (sandbox): no webhook was sent")


def error_response(error: RazorpayError) -> web.Response:
    return web.json_response(error.body(), status=error.status)


# --- webhooks -----------------------------------------------------------------------------------


async def send_webhook(state: SandboxState, event: Entity) -> tuple[str, Delivery]:
    """Sign and post one event; if the bot does not take it, keep redelivering in the
    background with the same event id, as Razorpay does."""
    event_id = razorpay_id("evt_")
    body = compact_json(event)
    headers = {
        "X-Razorpay-Signature": razorpay_webhook_signature(body, state.credentials.webhook_secret),
        "X-Razorpay-Event-Id": event_id,
        "User-Agent": "Razorpay-Webhook/v1",
    }
    url = state.bot_url + "/webhooks/razorpay"
    delivery = await post_signed(state.session(), url, body, headers)
    state.webhooks[event["event"]] += 1
    if not delivery.ok:
        state.spawn(_redeliver(state, url, body, headers))
    return event_id, delivery


async def _redeliver(state: SandboxState, url: str, body: bytes, headers: dict[str, str]) -> None:
    for pause in REDELIVERY_SECONDS:
        await state.nap(pause)
        if state.closing.is_set():
            return
        if (await post_signed(state.session(), url, body, headers)).ok:
            return


# --- actions (checkout page and control API) ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    link: Entity
    event_id: str
    delivery: Delivery
    redirect: str | None  # the signed callback URL after a payment, if the link has one

    def to_json(self) -> dict[str, Any]:
        return {
            "link": self.link,
            "event_id": self.event_id,
            "webhook": self.delivery.to_json(),
            "callback_url": self.redirect,
        }


def callback_redirect(state: SandboxState, link: Entity, payment_id: str) -> str | None:
    if not link["callback_url"]:
        return None
    signature = razorpay_callback_signature(
        link["id"], link["reference_id"], link["status"], payment_id, state.credentials.key_secret
    )
    params = {
        "razorpay_payment_id": payment_id,
        "razorpay_payment_link_id": link["id"],
        "razorpay_payment_link_reference_id": link["reference_id"],
        "razorpay_payment_link_status": link["status"],
        "razorpay_signature": signature,
    }
    return str(URL(link["callback_url"]).extend_query(params))


async def perform(state: SandboxState, action: Action, link_id: str) -> Outcome:
    """Raises `RazorpayError` when the link is unknown or no longer open."""
    now = int(state.clock())
    redirect = None
    if action in PAYING:
        paid = state.links.pay(link_id, now)
        entities = {"payment_link": paid.link, "order": paid.order or {}, "payment": paid.payment}
        event = webhook_event("payment_link.paid", entities, now)
        if action != "pay_all_lost":  # the customer closed the tab before the redirect
            redirect = callback_redirect(state, paid.link, paid.payment["id"])
        if action != "pay":
            return Outcome(state.links.get(link_id), "", LOST, redirect)
    elif action == "fail":
        failed = state.links.fail(link_id, now)
        event = webhook_event("payment.failed", {"payment": failed.payment}, now)
    else:
        link = state.links.expire(link_id, now)
        event = webhook_event("payment_link.expired", {"payment_link": link}, now)
    event_id, delivery = await send_webhook(state, event)
    return Outcome(state.links.get(link_id), event_id, delivery, redirect)


async def control(request: web.Request) -> web.Response:
    action = request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    try:
        outcome = await perform(request.app[SANDBOX], action, request.match_info["link_id"])
    except RazorpayError as exc:
        return error_response(exc)
    return web.json_response(outcome.to_json())


# --- REST ---------------------------------------------------------------------------------------


def _authorised(request: web.Request) -> bool:
    creds = request.app[SANDBOX].credentials
    expected = aiohttp.encode_basic_auth(creds.key_id, creds.key_secret)
    return hmac.compare_digest(request.headers.get("Authorization", ""), expected)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Endpoint = Callable[[web.Request, SandboxState], Awaitable[dict[str, Any]]]


def _rest(endpoint: Endpoint) -> Handler:
    """Basic auth first, then Razorpay's error shape for anything the endpoint refuses."""

    @functools.wraps(endpoint)
    async def handler(request: web.Request) -> web.StreamResponse:
        if not _authorised(request):
            return error_response(RazorpayError(401, "BAD_REQUEST_ERROR", "Authentication failed"))
        try:
            return web.json_response(await endpoint(request, request.app[SANDBOX]))
        except RazorpayError as exc:
            return error_response(exc)

    return handler


@_rest
async def create_link(request: web.Request, state: SandboxState) -> Entity:
    fault = state.razorpay_faults.roll(state.rng)
    if fault == "500":
        raise SERVER_ERROR
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("The request body must be a JSON object.") from None
    link = state.links.create(body, now=int(state.clock()), public_url=state.public_url)
    if fault == "timeout":
        # The link exists, but the bot gives up waiting: its retry must find it by reference.
        await state.nap(state.razorpay_faults.timeout_seconds)
    return link


@_rest
async def fetch_link(request: web.Request, state: SandboxState) -> Entity:
    return state.links.get(request.match_info["link_id"])


@_rest
async def list_links(request: web.Request, state: SandboxState) -> dict[str, Any]:
    found = state.links.find(request.query.get("reference_id"))
    return {"count": len(found), "payment_links": found}


@_rest
async def cancel_link(request: web.Request, state: SandboxState) -> Entity:
    link = state.links.cancel(request.match_info["link_id"], int(state.clock()))
    event = webhook_event("payment_link.cancelled", {"payment_link": link}, int(state.clock()))
    state.spawn(_send_quietly(state, event))
    return link


REFUND_SECONDS = 2.0  # Razorpay takes 5-7 working days; the sandbox, a moment


@_rest
async def refund_payment(request: web.Request, state: SandboxState) -> Entity:
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("The request body must be a JSON object.") from None
    key = request.headers.get("X-Refund-Idempotency", "")
    refund, new = state.links.refund(
        request.match_info["payment_id"], body, key, int(state.clock())
    )
    if new:
        state.spawn(_process_refund(state, refund))
    return refund


async def _process_refund(state: SandboxState, refund: Entity) -> None:
    """The refund reaches the customer: `refund.processed`, signed, as Razorpay sends it."""
    await state.nap(REFUND_SECONDS)
    if state.closing.is_set():
        return
    now = int(state.clock())
    refund.update(status="processed")
    payment = {"id": refund["payment_id"], "entity": "payment", "amount_refunded": refund["amount"]}
    event = webhook_event("refund.processed", {"refund": refund, "payment": payment}, now)
    await send_webhook(state, event)


async def _send_quietly(state: SandboxState, event: Entity) -> None:
    await send_webhook(state, event)


async def sweep_expired(state: SandboxState) -> None:
    """Expire links past `expire_by` and tell the bot, as Razorpay does on its own."""
    while not state.closing.is_set():
        await state.nap(SWEEP_SECONDS)
        for link_id in state.links.due(int(state.clock())):
            with contextlib.suppress(RazorpayError):  # paid or cancelled in the meantime
                await perform(state, "expire", link_id)


def add_razorpay_routes(app: web.Application) -> None:
    router = app.router
    router.add_post(RAZORPAY_PREFIX + "/payment_links", create_link)
    router.add_get(RAZORPAY_PREFIX + "/payment_links", list_links)
    router.add_get(RAZORPAY_PREFIX + "/payment_links/{link_id}", fetch_link)
    router.add_post(RAZORPAY_PREFIX + "/payment_links/{link_id}/cancel", cancel_link)
    router.add_post(RAZORPAY_PREFIX + "/payments/{payment_id}/refund", refund_payment)
    router.add_post(CONTROL_PREFIX + "/{action}/{link_id}", control)
