"""Razorpay's browser redirect after paying: a courtesy page, never a payment confirmation.

Fulfilment follows the signed webhook only; this page checks the redirect's signature so it
never tells a customer "received" for a forged URL.
"""

import base64
import hashlib
import html

from aiohttp import hdrs, web

from bot.keys import PAYMENTS, SETTINGS, SHOP
from bot.logging import get_logger
from bot.routes.headers import NO_REFERRER, page_policy

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
    shop = request.app[SHOP].shop.name
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
    log.info(
        "customer returned from payment page",
        order_id=result.order_id,
        link_id=result.link_id,
        status=result.status,
    )
    paid = result.status == "paid"
    return _page(
        title="Payment received" if paid else "Payment not completed",
        icon="✅" if paid else "⏳",
        body=(
            f"Thank you! Your payment for order <b>{html.escape(result.order_id)}</b> at "
            f"{html.escape(shop)} was received. Your confirmation arrives on WhatsApp."
            if paid
            else f"Order <b>{html.escape(result.order_id)}</b> is not paid yet "
            f"(status: {html.escape(result.status)}). You can try again from WhatsApp."
        ),
        action=_whatsapp_button(request),
    )


def _whatsapp_button(request: web.Request) -> str:
    number = request.app[SETTINGS].whatsapp_display_phone_number
    digits = "".join(ch for ch in number or "" if ch.isdigit())
    href = f"https://wa.me/{digits}" if digits else "https://wa.me/"
    return f'<a class="button" href="{html.escape(href)}">Back to WhatsApp</a>'
