"""Stand-ins for Stripe Checkout and Paystack's payment page, beside the Razorpay one.

Each serves the REST calls the bot makes (Stripe under `/sandbox/stripe/v1`, form-encoded with
Bearer auth and idempotency keys; Paystack under `/sandbox/paystack`, JSON with Bearer auth),
a checkout page with Pay / Fail / Let it expire, the signed webhooks the real provider would
send, the browser redirect back to the shop, and refunds that settle a moment later by webhook.
PAYMENT_PROVIDER picks which one the bot talks to; both are always mounted.

What the real providers do differently is kept: Stripe expires a session on request and says
so by webhook; Paystack cannot cancel a transaction and sends no failure or expiry webhook, so
its Fail and Let-it-expire buttons only change what its verify call answers.
"""

from __future__ import annotations

import hmac
import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from bot.payments.paystack import sign_paystack
from bot.payments.stripe import sign_stripe
from bot.sandbox.delivery import Delivery, compact_json, post_signed
from bot.sandbox.pages import esc, render
from bot.sandbox.state import SANDBOX, SandboxState, shop_name
from bot.settings import Settings
from flows.money import format_money

STRIPE_PREFIX = "/sandbox/stripe"
PAYSTACK_PREFIX = "/sandbox/paystack"
REFUND_SECONDS = 2.0
REDELIVERY_SECONDS = (5.0, 15.0, 60.0)
# "lost": paid, but the webhook never reaches the bot (a wrong secret, a lost delivery): only
# the callback check and the reconciliation sweep can find the payment then.
ACTIONS = ("pay", "lost", "fail", "expire")

Entity = dict[str, Any]


# Fixed fake keys: the bot and these stand-ins agree on them, and they open nothing real.
SANDBOX_STRIPE_SECRET_KEY = "sk_test_sandbox_stripe_key"  # noqa: S105
SANDBOX_STRIPE_WEBHOOK_SECRET = "whsec_sandbox_stripe_webhook_secret"  # noqa: S105
SANDBOX_PAYSTACK_SECRET_KEY = "sk_test_sandbox_paystack_key"  # noqa: S105


@dataclass
class GatewayKeys:
    """The secrets the bot uses for Stripe and Paystack in the sandbox."""

    stripe_secret_key: str = SANDBOX_STRIPE_SECRET_KEY
    stripe_webhook_secret: str = SANDBOX_STRIPE_WEBHOOK_SECRET
    paystack_secret_key: str = SANDBOX_PAYSTACK_SECRET_KEY

    @classmethod
    def from_settings(cls, settings: Settings) -> GatewayKeys:
        """The bot's keys; unset ones fall back to the sandbox's, as `Credentials` does."""
        stripe_key = settings.stripe_secret_key
        paystack_key = settings.paystack_secret_key
        webhook = settings.stripe_webhook_secret
        return cls(
            stripe_secret_key=stripe_key.get_secret_value()
            if stripe_key
            else SANDBOX_STRIPE_SECRET_KEY,
            stripe_webhook_secret=webhook[0].get_secret_value()
            if webhook
            else SANDBOX_STRIPE_WEBHOOK_SECRET,
            paystack_secret_key=paystack_key.get_secret_value()
            if paystack_key
            else SANDBOX_PAYSTACK_SECRET_KEY,
        )


@dataclass
class Gateways:
    keys: GatewayKeys
    sessions: dict[str, Entity] = field(default_factory=dict)
    stripe_refunds: dict[str, Entity] = field(default_factory=dict)
    replays: dict[str, tuple[str, Entity]] = field(default_factory=dict)
    transactions: dict[str, Entity] = field(default_factory=dict)  # by reference
    access_codes: dict[str, str] = field(default_factory=dict)  # access code -> reference
    paystack_refunds: list[Entity] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{secrets.token_hex(8)}"


GATEWAYS = web.AppKey("sandbox_gateways", Gateways)


class _Refused(Exception):
    def __init__(self, status: int, body: Entity) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _stripe_error(status: int, message: str, code: str = "") -> _Refused:
    return _Refused(
        status, {"error": {"type": "invalid_request_error", "code": code, "message": message}}
    )


def _paystack_error(status: int, message: str) -> _Refused:
    return _Refused(status, {"status": False, "message": message})


def _nested(pairs: list[tuple[str, str]]) -> Entity:
    out: Entity = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _bearer(request: web.Request, key: str) -> None:
    if not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {key}"):
        raise _Refused(
            401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}
        )


Handler = Callable[[web.Request, SandboxState, Gateways], Any]


def _rest(handler: Handler) -> Callable[[web.Request], Any]:
    async def wrapped(request: web.Request) -> web.Response:
        try:
            body = await handler(request, request.app[SANDBOX], request.app[GATEWAYS])
        except _Refused as refused:
            return web.json_response(refused.body, status=refused.status)
        return web.json_response(body)

    return wrapped


# --- webhooks ---------------------------------------------------------------------------------


async def _deliver(
    state: SandboxState, path: str, body: bytes, headers: dict[str, str]
) -> Delivery:
    url = state.bot_url + path
    delivery = await post_signed(state.session(), url, body, headers)
    state.webhooks[json.loads(body).get("type") or json.loads(body).get("event")] += 1
    if not delivery.ok:
        state.spawn(_redeliver(state, url, body, headers))
    return delivery


async def _redeliver(state: SandboxState, url: str, body: bytes, headers: dict[str, str]) -> None:
    for pause in REDELIVERY_SECONDS:
        await state.nap(pause)
        if state.closing.is_set() or (await post_signed(state.session(), url, body, headers)).ok:
            return


async def stripe_event(state: SandboxState, gateways: Gateways, kind: str, obj: Entity) -> Delivery:
    now = int(state.clock())
    body = compact_json(
        {
            "id": gateways.new_id("evt_sandbox"),
            "object": "event",
            "api_version": "2026-06-24.dahlia",
            "created": now,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "type": kind,
        }
    )
    signature = sign_stripe(body, gateways.keys.stripe_webhook_secret, now)
    return await _deliver(state, "/webhooks/stripe", body, {"Stripe-Signature": signature})


async def paystack_event(
    state: SandboxState, gateways: Gateways, kind: str, data: Entity
) -> Delivery:
    body = compact_json({"event": kind, "data": data})
    signature = sign_paystack(body, gateways.keys.paystack_secret_key)
    return await _deliver(state, "/webhooks/paystack", body, {"x-paystack-signature": signature})


# --- Stripe REST ------------------------------------------------------------------------------


def _public(session: Entity) -> Entity:
    return {key: value for key, value in session.items() if not key.startswith("_")}


async def _stripe_form(request: web.Request, gateways: Gateways) -> tuple[str, Entity]:
    _bearer(request, gateways.keys.stripe_secret_key)
    raw = (await request.read()).decode()
    return raw, _nested(parse_qsl(raw, keep_blank_values=True))


def _replayed(gateways: Gateways, request: web.Request, raw: str) -> Entity | None:
    key = request.headers.get("Idempotency-Key")
    if key is None or key not in gateways.replays:
        return None
    seen, answer = gateways.replays[key]
    if seen != raw:
        raise _stripe_error(
            400,
            "Keys for idempotent requests can only be used with the same parameters "
            "they were first used with.",
            "idempotency_key_in_use",
        )
    return answer


def _remember(gateways: Gateways, request: web.Request, raw: str, answer: Entity) -> Entity:
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        gateways.replays[key] = (raw, answer)
    return answer


@_rest
async def stripe_create_session(
    request: web.Request, state: SandboxState, gateways: Gateways
) -> Entity:
    raw, form = await _stripe_form(request, gateways)
    if (replay := _replayed(gateways, request, raw)) is not None:
        return replay
    try:
        line = form["line_items"]["0"]
        amount = int(line["price_data"]["unit_amount"]) * int(line.get("quantity", "1"))
        expires_at = int(form["expires_at"])
        success_url = form["success_url"]
    except (KeyError, ValueError, TypeError) as exc:
        raise _stripe_error(
            400, f"Missing or invalid parameter: {exc}", "parameter_missing"
        ) from None
    now = int(state.clock())
    if not now + 30 * 60 <= expires_at <= now + 24 * 3600:
        raise _stripe_error(
            400,
            "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
            "Checkout Session creation.",
            "parameter_invalid_integer",
        )
    session_id = gateways.new_id("cs_test_sandbox")
    session = {
        "id": session_id,
        "object": "checkout.session",
        "mode": form.get("mode"),
        "status": "open",
        "payment_status": "unpaid",
        "amount_total": amount,
        "currency": line["price_data"]["currency"],
        "client_reference_id": form.get("client_reference_id"),
        "metadata": form.get("metadata", {}),
        "payment_intent": None,
        "expires_at": expires_at,
        "success_url": success_url,
        "cancel_url": form.get("cancel_url"),
        "url": f"{state.public_url}{STRIPE_PREFIX}/pay/{session_id}",
        "_name": line["price_data"].get("product_data", {}).get("name", ""),
    }
    gateways.sessions[session_id] = session
    return _remember(gateways, request, raw, _public(session))


def _session(gateways: Gateways, session_id: str) -> Entity:
    if session_id not in gateways.sessions:
        raise _stripe_error(404, f"No such checkout.session: '{session_id}'", "resource_missing")
    return gateways.sessions[session_id]


@_rest
async def stripe_get_session(
    request: web.Request, state: SandboxState, gateways: Gateways
) -> Entity:
    _bearer(request, gateways.keys.stripe_secret_key)
    return _public(_session(gateways, request.match_info["id"]))


@_rest
async def stripe_expire_session(
    request: web.Request, state: SandboxState, gateways: Gateways
) -> Entity:
    await _stripe_form(request, gateways)
    session = _session(gateways, request.match_info["id"])
    if session["status"] != "open":
        raise _stripe_error(
            400,
            'Only Checkout Sessions with a status in ["open"] can be expired.',
            "checkout_session_not_open",
        )
    _expire_session(session)
    state.spawn(
        _quietly(stripe_event(state, gateways, "checkout.session.expired", _public(session)))
    )
    return _public(session)


def _expire_session(session: Entity) -> None:
    session.update(status="expired", url=None)


async def _quietly(delivery: Any) -> None:
    await delivery


@_rest
async def stripe_refund(request: web.Request, state: SandboxState, gateways: Gateways) -> Entity:
    raw, form = await _stripe_form(request, gateways)
    if (replay := _replayed(gateways, request, raw)) is not None:
        return replay
    intent = form.get("payment_intent", "")
    paid = sum(
        s["amount_total"]
        for s in gateways.sessions.values()
        if s["payment_intent"] == intent and s["payment_status"] == "paid"
    )
    if not paid:
        raise _stripe_error(400, f"No such payment_intent: '{intent}'", "resource_missing")
    refunded = sum(
        r["amount"]
        for r in gateways.stripe_refunds.values()
        if r["payment_intent"] == intent and r["status"] != "failed"
    )
    amount = int(form.get("amount") or paid - refunded)
    if refunded + amount > paid:
        raise _stripe_error(
            400,
            f"Refund amount ({amount}) is greater than unrefunded amount on charge "
            f"({paid - refunded})",
            "amount_too_large",
        )
    refund = {
        "id": gateways.new_id("re_sandbox"),
        "object": "refund",
        "amount": amount,
        "currency": next(
            s["currency"] for s in gateways.sessions.values() if s["payment_intent"] == intent
        ),
        "payment_intent": intent,
        "metadata": form.get("metadata", {}),
        "status": "pending",
    }
    gateways.stripe_refunds[refund["id"]] = refund
    state.spawn(_settle_stripe_refund(state, gateways, refund))
    return _remember(gateways, request, raw, dict(refund))


async def _settle_stripe_refund(state: SandboxState, gateways: Gateways, refund: Entity) -> None:
    await state.nap(REFUND_SECONDS)
    if not state.closing.is_set():
        refund["status"] = "succeeded"
        await stripe_event(state, gateways, "refund.updated", dict(refund))


# --- Paystack REST ----------------------------------------------------------------------------


def _ok(message: str, data: Any) -> Entity:
    return {"status": True, "message": message, "data": data}


async def _paystack_json(request: web.Request, gateways: Gateways) -> Entity:
    _bearer(request, gateways.keys.paystack_secret_key)
    try:
        body = await request.json()
    except ValueError:
        raise _paystack_error(400, "Invalid JSON body") from None
    if not isinstance(body, dict):
        raise _paystack_error(400, "Invalid JSON body")
    return body


@_rest
async def paystack_initialize(
    request: web.Request, state: SandboxState, gateways: Gateways
) -> Entity:
    body = await _paystack_json(request, gateways)
    reference = str(body.get("reference") or gateways.new_id("T"))
    if not body.get("email") or not isinstance(body.get("amount"), int):
        raise _paystack_error(400, "Invalid Email Address or Amount")
    if reference in gateways.transactions:
        raise _paystack_error(400, "Duplicate Transaction Reference")
    access_code = secrets.token_hex(6)
    gateways.transactions[reference] = {
        "id": next(gateways.ids),
        "domain": "test",
        "status": "abandoned",
        "reference": reference,
        "amount": body["amount"],
        "currency": body.get("currency", "NGN"),
        "metadata": body.get("metadata") or 0,
        "customer": {"email": body["email"]},
        "gateway_response": "The transaction was not completed",
        "_callback_url": body.get("callback_url"),
        "_label": body.get("label") or body["email"],
    }
    gateways.access_codes[access_code] = reference
    url = f"{state.public_url}{PAYSTACK_PREFIX}/pay/{access_code}"
    return _ok(
        "Authorization URL created",
        {"authorization_url": url, "access_code": access_code, "reference": reference},
    )


def _transaction_data(transaction: Entity) -> Entity:
    return {key: value for key, value in transaction.items() if not key.startswith("_")}


@_rest
async def paystack_verify(request: web.Request, state: SandboxState, gateways: Gateways) -> Entity:
    _bearer(request, gateways.keys.paystack_secret_key)
    transaction = gateways.transactions.get(request.match_info["reference"])
    if transaction is None:
        raise _paystack_error(404, "Transaction reference not found")
    return _ok("Verification successful", _transaction_data(transaction))


@_rest
async def paystack_refund(request: web.Request, state: SandboxState, gateways: Gateways) -> Entity:
    body = await _paystack_json(request, gateways)
    transaction = gateways.transactions.get(str(body.get("transaction", "")))
    if transaction is None or transaction["status"] != "success":
        raise _paystack_error(400, "Transaction has not been paid or does not exist")
    reference = transaction["reference"]
    refunded = sum(
        r["amount"]
        for r in gateways.paystack_refunds
        if r["transaction_reference"] == reference and r["status"] != "failed"
    )
    amount = int(body.get("amount") or transaction["amount"] - refunded)
    if refunded + amount > transaction["amount"]:
        raise _paystack_error(400, "Refund amount cannot be more than the transaction amount")
    refund = {
        "id": next(gateways.ids),
        "transaction": {"reference": reference},
        "transaction_reference": reference,
        "amount": amount,
        "currency": transaction["currency"],
        "merchant_note": body.get("merchant_note"),
        "status": "pending",
        "domain": "test",
    }
    gateways.paystack_refunds.append(refund)
    state.spawn(_settle_paystack_refund(state, gateways, refund))
    return _ok("Refund has been queued for processing", dict(refund))


@_rest
async def paystack_list_refunds(
    request: web.Request, state: SandboxState, gateways: Gateways
) -> Any:
    _bearer(request, gateways.keys.paystack_secret_key)
    wanted = request.query.get("transaction", "")
    found = [r for r in gateways.paystack_refunds if wanted in (r["transaction_reference"], "")]
    return _ok("Refunds retrieved", found)


async def _settle_paystack_refund(state: SandboxState, gateways: Gateways, refund: Entity) -> None:
    await state.nap(REFUND_SECONDS)
    if state.closing.is_set():
        return
    refund["status"] = "processed"
    data = {
        "status": "processed",
        "transaction_reference": refund["transaction_reference"],
        "refund_reference": gateways.new_id("TRF_"),
        "amount": str(refund["amount"]),
        "currency": refund["currency"],
        "domain": "test",
    }
    await paystack_event(state, gateways, "refund.processed", data)


# --- the checkout pages ------------------------------------------------------------------------

NOTICES = {
    "failed": ("warn", "Payment failed. The bot was told."),
    "failed-quiet": (
        "warn",
        "Payment failed. Paystack sends no webhook for this: the order stays open.",
    ),
    "expired": ("info", "The session has expired. The bot was told."),
    "expired-quiet": (
        "info",
        "Abandoned. Paystack cannot expire a transaction and sends nothing; the link stops "
        "working when the order's time runs out.",
    ),
    "undelivered": ("warn", "The bot did not accept the webhook; the sandbox keeps retrying."),
}


@dataclass(frozen=True, slots=True)
class _Page:
    provider: str
    key: str  # the URL's id: a session id or an access code
    status: str  # open | paid | failed | expired
    amount: int
    reference: str
    description: str
    customer: str
    expires_at: int | None
    currency: str = "INR"


def _stripe_page(gateways: Gateways, key: str) -> _Page:
    session = gateways.sessions.get(key)
    if session is None:
        raise web.HTTPNotFound(text="No such Checkout Session in this sandbox")
    status = session["status"]
    if status == "complete":
        status = "paid" if session["payment_status"] == "paid" else "failed"
    return _Page(
        "Stripe",
        key,
        status,
        session["amount_total"],
        session["client_reference_id"] or "—",
        session["_name"] or "—",
        "—",
        session["expires_at"],
        str(session["currency"]).upper(),
    )


def _paystack_page(gateways: Gateways, key: str) -> _Page:
    reference = gateways.access_codes.get(key)
    if reference is None:
        raise web.HTTPNotFound(text="No such transaction in this sandbox")
    transaction = gateways.transactions[reference]
    status = {"success": "paid", "failed": "failed"}.get(transaction["status"], "open")
    if transaction.get("_expired"):
        status = "expired"
    return _Page(
        "Paystack",
        key,
        status,
        transaction["amount"],
        reference,
        "—",
        transaction["_label"],
        None,
        str(transaction["currency"]).upper(),
    )


def _actions(prefix: str, page: _Page) -> str:
    if page.status != "open":
        text = {
            "paid": "Paid. Go back to WhatsApp: the shop confirms your order there.",
            "failed": "This payment failed.",
            "expired": "This payment page has expired.",
        }[page.status]
        return f'<p class="status status-{esc(page.status)}">{esc(text)}</p>'
    base = f"{prefix}/pay/{esc(page.key)}"
    return (
        f'<form method="post" action="{base}/pay"><button class="btn btn-pay" type="submit">'
        f"Pay {esc(format_money(page.amount, page.currency))}</button></form>"
        '<div class="btn-row">'
        f'<form method="post" action="{base}/fail"><button class="btn btn-ghost" type="submit">'
        "Fail payment</button></form>"
        f'<form method="post" action="{base}/expire"><button class="btn btn-ghost" type="submit">'
        "Let it expire</button></form></div>"
        f'<form method="post" action="{base}/lost"><button class="btn btn-ghost" type="submit">'
        "Pay, but the webhook is lost</button></form>"
    )


def _render(request: web.Request, prefix: str, page: _Page) -> web.Response:
    state = request.app[SANDBOX]
    notice = NOTICES.get(request.query.get("m", ""))
    expiry = (
        "No expiry (Paystack)"
        if page.expires_at is None
        else (
            f"Expires in {max(0, (page.expires_at - int(state.clock())) // 60)} min"
            if page.status == "open"
            else "—"
        )
    )
    return render(
        "gateway_checkout.html",
        shop=shop_name(request.app),
        initial=(shop_name(request.app)[:1] or "S").upper(),
        provider=page.provider,
        amount=format_money(page.amount, page.currency),
        reference=page.reference,
        description=page.description,
        customer=page.customer,
        link_id=page.key,
        expiry=expiry,
        raw={
            "actions": _actions(prefix, page),
            "notice": f'<p class="notice notice-{notice[0]}">{esc(notice[1])}</p>'
            if notice
            else "",
        },
    )


async def stripe_page(request: web.Request) -> web.Response:
    return _render(
        request, STRIPE_PREFIX, _stripe_page(request.app[GATEWAYS], request.match_info["key"])
    )


async def paystack_page(request: web.Request) -> web.Response:
    return _render(
        request, PAYSTACK_PREFIX, _paystack_page(request.app[GATEWAYS], request.match_info["key"])
    )


async def stripe_action(request: web.Request) -> web.StreamResponse:
    state, gateways = request.app[SANDBOX], request.app[GATEWAYS]
    key, action = request.match_info["key"], request.match_info["action"]
    page_url = f"{STRIPE_PREFIX}/pay/{key}"
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    session = gateways.sessions.get(key)
    if session is None or session["status"] != "open":
        raise web.HTTPSeeOther(page_url)
    if action in ("pay", "lost"):
        session.update(
            status="complete",
            payment_status="paid",
            url=None,
            payment_intent=gateways.new_id("pi_sandbox"),
        )
        if action == "pay":
            await stripe_event(state, gateways, "checkout.session.completed", _public(session))
        raise web.HTTPFound(session["success_url"].replace("{CHECKOUT_SESSION_ID}", key))
    if action == "fail":
        # A delayed method (a bank debit) that the bank then declines: the only failure
        # Checkout reports by webhook; a declined card simply stays on the page.
        session.update(
            status="complete",
            payment_status="unpaid",
            url=None,
            payment_intent=gateways.new_id("pi_sandbox"),
        )
        await stripe_event(state, gateways, "checkout.session.completed", _public(session))
        delivery = await stripe_event(
            state, gateways, "checkout.session.async_payment_failed", _public(session)
        )
        raise web.HTTPSeeOther(f"{page_url}?m={'failed' if delivery.ok else 'undelivered'}")
    _expire_session(session)
    delivery = await stripe_event(state, gateways, "checkout.session.expired", _public(session))
    raise web.HTTPSeeOther(f"{page_url}?m={'expired' if delivery.ok else 'undelivered'}")


async def paystack_action(request: web.Request) -> web.StreamResponse:
    state, gateways = request.app[SANDBOX], request.app[GATEWAYS]
    key, action = request.match_info["key"], request.match_info["action"]
    page_url = f"{PAYSTACK_PREFIX}/pay/{key}"
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    reference = gateways.access_codes.get(key)
    transaction = gateways.transactions.get(reference or "")
    if transaction is None or transaction["status"] != "abandoned" or transaction.get("_expired"):
        raise web.HTTPSeeOther(page_url)
    if action in ("pay", "lost"):
        transaction.update(
            status="success",
            gateway_response="Successful",
            paid_at="2026-12-01T10:15:00.000Z",
            channel="card",
        )
        if action == "pay":
            await paystack_event(state, gateways, "charge.success", _transaction_data(transaction))
        back = transaction["_callback_url"]
        if back:
            joiner = "&" if "?" in back else "?"
            raise web.HTTPFound(
                f"{back}{joiner}{urlencode({'trxref': reference, 'reference': reference})}"
            )
        raise web.HTTPSeeOther(page_url)
    if action == "fail":
        transaction.update(status="failed", gateway_response="Declined")
        raise web.HTTPSeeOther(f"{page_url}?m=failed-quiet")
    transaction["_expired"] = True
    raise web.HTTPSeeOther(f"{page_url}?m=expired-quiet")


def add_gateway_routes(app: web.Application, keys: GatewayKeys) -> None:
    app[GATEWAYS] = Gateways(keys=keys)
    router = app.router
    router.add_post(STRIPE_PREFIX + "/v1/checkout/sessions", stripe_create_session)
    router.add_get(STRIPE_PREFIX + "/v1/checkout/sessions/{id}", stripe_get_session)
    router.add_post(STRIPE_PREFIX + "/v1/checkout/sessions/{id}/expire", stripe_expire_session)
    router.add_post(STRIPE_PREFIX + "/v1/refunds", stripe_refund)
    router.add_get(STRIPE_PREFIX + "/pay/{key}", stripe_page)
    router.add_post(STRIPE_PREFIX + "/pay/{key}/{action}", stripe_action)
    router.add_post(PAYSTACK_PREFIX + "/transaction/initialize", paystack_initialize)
    router.add_get(PAYSTACK_PREFIX + "/transaction/verify/{reference}", paystack_verify)
    router.add_post(PAYSTACK_PREFIX + "/refund", paystack_refund)
    router.add_get(PAYSTACK_PREFIX + "/refund", paystack_list_refunds)
    router.add_get(PAYSTACK_PREFIX + "/pay/{key}", paystack_page)
    router.add_post(PAYSTACK_PREFIX + "/pay/{key}/{action}", paystack_action)
