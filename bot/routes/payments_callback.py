"""The customer's browser coming back from the payment page.

The redirect's signature is checked, and then it only names the order: what became of the
payment is asked of the provider's API there and then (`PaymentReconciler.check`), so a paid
order is confirmed at once even if the provider's webhook was lost, through the same event a
webhook would have recorded, once. The page says paid, still processing, or not completed.
"""

import base64
import hashlib
import html

from aiohttp import hdrs, web

from bot.keys import PAYMENTS, RECONCILER, SETTINGS, SHOP, STORE
from bot.logging import get_logger
from bot.payments.base import PaymentProviderError
from bot.routes.headers import NO_REFERRER, page_policy
from flows.orders import OrderStatus

log = get_logger(__name__)

# The page's only style, inline so the live app needs no static files; allowed by its hash in
# the page's Content-Security-Policy (no 'unsafe-inline').
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#efeae2;
margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border-radius:16px;padding:32px;max-width:420px;margin:16px;
box-shadow:0 2px 12px rgba(0,0,0,.1);text-align:center}
h1{font-size:1.4rem;margin:.2em 0} p{color:#444;line-height:1.5}
a.button{display:inline-block;margin-top:16px;background:#25d366;color:#fff;
padding:12px 24px;border-radius:24px;text-decoration:none;font-weight:600}
.icon{font-size:48px}
"""
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
# The URL carries the payment id and its signature: never cached, never sent on as a Referer,
# and the page submits no forms.
_POLICY = page_policy(style_src=f"'{STYLE_HASH}'", form_action="'none'")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{style}</style></head>
<body><main><div class="icon">{icon}</div><h1>{title}</h1><p>{body}</p>{action}</main></body></html>
"""


def _page(status: int = 200, **parts: str) -> web.Response:
    response = web.Response(
        text=_PAGE.format(style=_STYLE, **parts), status=status, content_type="text/html"
    )
    response.headers[hdrs.CONTENT_SECURITY_POLICY] = _POLICY
    response.headers[hdrs.CACHE_CONTROL] = "no-store"
    response.headers["Referrer-Policy"] = NO_REFERRER
    return response


async def payment_callback(request: web.Request) -> web.Response:
    result = request.app[PAYMENTS].verify_callback(request.query)
    if result is None:
        log.warning("payment redirect with a missing or bad signature")
        return _page(
            400,
            title="This link is not valid",
            icon="⚠️",
            body="We could not verify this payment page. If you paid, you will get a "
            "confirmation on WhatsApp shortly.",
            action=_whatsapp_button(request),
        )
    bound = log.bind(order_id=result.order_id, link_id=result.link_id, status=result.status)
    bound.info("customer returned from payment page")
    # The redirect only tells us which order to look at; what became of the payment is what
    # the provider's API says, asked now so a lost webhook does not keep the customer waiting.
    order = await request.app[STORE].get_order(result.order_id) if result.order_id else None
    if order is None:
        bound.warning("payment redirect for an order we do not know")
        return _answer(request, 404, "unknown", result.order_id)
    if order.cash_on_delivery and order.status is OrderStatus.PENDING_PAYMENT:
        return _answer(request, 200, "cod", order.id)  # the customer chose cash meanwhile
    if order.status in (OrderStatus.PAID, OrderStatus.FLAGGED) or order.link is None:
        return _answer(request, 200, _SETTLED.get(order.status, "pending"), order.id)
    reconciler = request.app[RECONCILER]
    try:
        if order.status is OrderStatus.PENDING_PAYMENT:
            # Kept before asking: if we crash or the provider does not answer, the sweep asks
            # again within a minute.
            await reconciler.request_check(order.id)
        check = await reconciler.check(order.id, order.link.id)
    except PaymentProviderError as error:
        bound.warning("payment check on return failed; the sweep asks again", error=str(error))
        return _answer(request, 200, "pending", order.id)
    except Exception:
        bound.exception("payment check on return failed")
        return _answer(request, 200, "pending", order.id)
    bound.info("payment checked on return", state=check.state)
    return _answer(request, 200, check.state, order.id)


_SETTLED = {OrderStatus.PAID: "paid", OrderStatus.FLAGGED: "checking"}

_ANSWERS = {
    "paid": (
        "Payment received",
        "✅",
        "Thank you! Your payment for order <b>{order}</b> at {shop} was received. "
        "Your confirmation arrives on WhatsApp.",
    ),
    "pending": (
        "Payment processing",
        "⏳",
        "Your payment for order <b>{order}</b> at {shop} is still being processed. We confirm "
        "it on WhatsApp as soon as {provider} does; there is no need to pay again.",
    ),
    "checking": (
        "Checking your payment",
        "🔎",
        "We received a payment for order <b>{order}</b> at {shop} and are checking it; "
        "we will write to you on WhatsApp.",
    ),
    "failed": (
        "Payment not completed",
        "⚠️",
        "The payment for order <b>{order}</b> did not go through. You can try again from WhatsApp.",
    ),
    "expired": (
        "Payment not completed",
        "⌛",
        "The payment link for order <b>{order}</b> has expired unpaid. You can ask for a new "
        "one on WhatsApp.",
    ),
    "cancelled": (
        "Payment not completed",
        "⌛",
        "The payment link for order <b>{order}</b> was cancelled. You can ask for a new one "
        "on WhatsApp.",
    ),
    "cod": (
        "Pay on delivery",
        "🚚",
        "Order <b>{order}</b> at {shop} is confirmed for payment in cash on delivery; there is "
        "nothing to pay here.",
    ),
    "unknown": (
        "Order not found",
        "⚠️",
        "We could not find order <b>{order}</b> at {shop}. If you paid, you will get a "
        "confirmation on WhatsApp shortly.",
    ),
}


def _answer(request: web.Request, status: int, state: str, order_id: str) -> web.Response:
    title, icon, body = _ANSWERS[state]
    return _page(
        status,
        title=title,
        icon=icon,
        body=body.format(
            order=html.escape(order_id),
            shop=html.escape(request.app[SHOP].shop.name),
            provider=html.escape(request.app[PAYMENTS].name.capitalize()),
        ),
        action=_whatsapp_button(request),
    )


def _whatsapp_button(request: web.Request) -> str:
    number = request.app[SETTINGS].whatsapp_display_phone_number
    digits = "".join(ch for ch in number or "" if ch.isdigit())
    href = f"https://wa.me/{digits}" if digits else "https://wa.me/"
    return f'<a class="button" href="{html.escape(href)}">Back to WhatsApp</a>'
