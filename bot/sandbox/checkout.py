"""The sandbox checkout page a payment link's `short_url` opens: Pay, Fail, Let it expire, or
pay with the webhook lost (proving the bot's callback check and its reconciliation sweep)."""

from aiohttp import web

from bot.sandbox.links import Entity, RazorpayError
from bot.sandbox.pages import STATIC_DIR, esc, render
from bot.sandbox.razorpay import ACTIONS, PAYING, perform
from bot.sandbox.state import SANDBOX, SandboxState, shop_name
from flows.money import format_money

PAY_PREFIX = "/sandbox/pay"

# Notices are picked by key so nothing from the query string is echoed into the page.
NOTICES = {
    "failed": ("warn", "Payment failed. The bot was told (payment.failed); you can try again."),
    "expired": ("info", "The link has expired. The bot was told (payment_link.expired)."),
    "undelivered": ("warn", "The bot did not accept the webhook; the sandbox keeps retrying."),
    "all_lost": (
        "info",
        "Paid, and both the webhook and the return to the shop were lost on purpose. The bot's "
        "reconciliation sweep asks Razorpay about orders awaiting payment (after 1, 2, 5 "
        "minutes…) and confirms this one on WhatsApp within about two minutes.",
    ),
}
STATUS_TEXT = {
    "paid": "Paid. You can go back to WhatsApp: the shop will confirm your order there.",
    "expired": "This payment link has expired.",
    "cancelled": "This payment link was cancelled by the shop.",
    "partially_paid": "This payment link is partially paid.",
}


def _expiry(link: Entity, now: int) -> str:
    if not link["expire_by"]:
        return "No expiry"
    minutes = max(0, (link["expire_by"] - now) // 60)
    return f"Expires in {minutes} min" if link["status"] == "created" else "Expired"


def _actions(link: Entity) -> str:
    if link["status"] != "created":
        status = link["status"]
        text = STATUS_TEXT.get(status, status)
        return f'<p class="status status-{esc(status)}">{esc(text)}</p>'
    base = f"{PAY_PREFIX}/{esc(link['id'])}"
    return (
        f'<form method="post" action="{base}/pay"><button class="btn btn-pay" type="submit">'
        f"Pay {esc(format_money(link['amount'], link['currency']))}</button></form>"
        '<div class="btn-row">'
        f'<form method="post" action="{base}/fail"><button class="btn btn-ghost" type="submit">'
        "Fail payment</button></form>"
        f'<form method="post" action="{base}/expire"><button class="btn btn-ghost" type="submit">'
        "Let it expire</button></form></div>"
        '<div class="btn-row">'
        f'<form method="post" action="{base}/pay_webhook_lost">'
        '<button class="btn btn-ghost" type="submit" title="Pay; Razorpay sends no webhook, '
        'the bot asks its API when you come back">Webhook lost (pay)</button></form>'
        f'<form method="post" action="{base}/pay_all_lost">'
        '<button class="btn btn-ghost" type="submit" title="Pay; no webhook and no return to '
        "the shop: the bot's sweep finds the payment\">Webhook and return lost (pay)</button>"
        "</form></div>"
    )


def _notice(key: str | None) -> str:
    if key not in NOTICES:
        return ""
    tone, text = NOTICES[key]
    return f'<p class="notice notice-{tone}">{esc(text)}</p>'


async def checkout_page(request: web.Request) -> web.Response:
    state = request.app[SANDBOX]
    try:
        link = state.links.get(request.match_info["link_id"])
    except RazorpayError:
        raise web.HTTPNotFound(text="No such payment link in this sandbox") from None
    customer = link["customer"]
    return render(
        "checkout.html",
        shop=shop_name(request.app),
        initial=(shop_name(request.app)[:1] or "S").upper(),
        amount=format_money(link["amount"], link["currency"]),
        reference=link["reference_id"] or "—",
        description=link["description"] or "—",
        link_id=link["id"],
        customer=customer.get("name") or customer.get("contact") or "—",
        expiry=_expiry(link, int(state.clock())),
        raw={"actions": _actions(link), "notice": _notice(request.query.get("m"))},
    )


async def checkout_action(request: web.Request) -> web.StreamResponse:
    state: SandboxState = request.app[SANDBOX]
    link_id, action = request.match_info["link_id"], request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    page = f"{PAY_PREFIX}/{link_id}"
    try:
        outcome = await perform(state, action, link_id)
    except RazorpayError:
        # Paid, expired or cancelled meanwhile (another tab, the sweeper): show its status.
        raise web.HTTPSeeOther(page) from None
    if action == "pay_all_lost":
        raise web.HTTPSeeOther(f"{page}?m=all_lost")
    if action in PAYING:
        # Razorpay sends the browser back to the shop's callback with signed parameters, even
        # when the webhook still has to be redelivered (or never comes).
        raise web.HTTPFound(outcome.redirect or page)
    notice = "failed" if action == "fail" else "expired"
    raise web.HTTPSeeOther(f"{page}?m={notice if outcome.delivery.ok else 'undelivered'}")


def add_checkout_routes(app: web.Application) -> None:
    app.router.add_get(PAY_PREFIX + "/{link_id}", checkout_page)
    app.router.add_post(PAY_PREFIX + "/{link_id}/{action}", checkout_action)
    # The page's stylesheet; the chat's assets live beside it.
    app.router.add_static("/sandbox/static", STATIC_DIR)
