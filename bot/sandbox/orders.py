"""`/sandbox/orders`: every order from the bot's store, its status history, and the messages the
bot sent that customer (from the Graph stand-in's records)."""

import time

import structlog
from aiohttp import web

from bot.keys import STORE
from bot.sandbox.hub import ChatHub, summary
from bot.sandbox.merchant import MERCHANT_INBOX, SMTP_STANDIN
from bot.sandbox.pages import esc, render
from bot.sandbox.state import SANDBOX, shop_name
from flows.lifecycle import payment_status
from flows.money import format_money
from flows.orders import Order, OrderStatus

ORDERS_SHOWN = 50
MESSAGES_SHOWN = 30
log = structlog.get_logger(__name__)


def _when(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def _lines(order: Order) -> str:
    items = "".join(
        f"<li>{line.quantity} × {esc(line.name)} "
        f"<span class='when'>{esc(format_money(line.total, order.currency))}</span></li>"
        for line in order.lines
    )
    address = ""
    if order.address:
        address = f"<li><span class='when'>Deliver to</span>{esc(order.address)}</li>"
    link = ""
    if order.link is not None:
        link = f"<li><a href='{esc(order.link.url)}' target='_blank'>{esc(order.link.id)}</a></li>"
    shopify = ""
    if order.shopify_order_id is not None:
        shopify = f"<li><span class='when'>Shopify</span>{esc(order.shopify_order_id)}</li>"
    return f"<ul>{items}{address}{link}{shopify}</ul>"


def _history(rows: list[tuple[str, int, str]]) -> str:
    items = "".join(
        f"<li><span class='when'>{_when(at)}</span><b>{esc(status)}</b> {esc(reason)}</li>"
        for status, at, reason in rows
    )
    return f"<ul>{items or '<li>—</li>'}</ul>"


def _messages(hub: ChatHub, customer_key: str) -> str:
    log_ = hub.logs.get(customer_key)
    sent = [item for item in (log_.items if log_ else []) if item.sender == "shop"]
    items = "".join(
        f"<li class='msg-{esc(item.status)}'><span class='when'>{_when(item.at)}</span>"
        f"{esc(summary(item.message)[:160])}</li>"
        for item in sent[-MESSAGES_SHOWN:]
    )
    return f"<ul>{items or '<li>—</li>'}</ul>"


async def _alerts(request: web.Request, order_id: str) -> str:
    """Each delivery to the merchant about the order, then what the stand-ins received."""
    deliveries = await request.app[STORE].order_alerts(order_id)
    items = [
        f"<li class='alert-{esc(a.status.value)}'><span class='when'>{_when(a.created_at)}</span>"
        f"{esc(a.event_type)} → <b>{esc(a.channel)}</b>: {esc(a.status.value)}"
        f" ({a.attempts} attempt{'s' if a.attempts != 1 else ''})"
        f"{' — ' + esc(a.last_error) if a.last_error else ''}</li>"
        for a in deliveries
    ]
    inbox, smtp = request.app.get(MERCHANT_INBOX), request.app.get(SMTP_STANDIN)
    received = (inbox.for_order(order_id) if inbox else []) + (
        smtp.for_order(order_id) if smtp else []
    )
    items += [f"<li><span class='when'>received</span>{esc(line)}</li>" for line in received]
    return f"<ul>{''.join(items) or '<li>—</li>'}</ul>"


def _cod_pill(order: Order) -> str:
    """Cash on delivery: the money comes at the door ("cod_due"), or came ("cash paid")."""
    if not order.cash_on_delivery:
        return ""
    words = payment_status(order).value if order.status is not OrderStatus.PAID else "cash paid"
    return f"<span class='pill pill-cod'>cash on delivery · {esc(words)}</span>"


async def _order_card(request: web.Request, order: Order) -> str:
    history = await request.app[STORE].order_history(order.id)
    hub = request.app[SANDBOX].hub
    chat = f"/sandbox?phone={esc(order.customer_key)}"
    return (
        f"<article class='order' data-order='{esc(order.id)}'><div class='order-head'>"
        f"<span class='order-id'>{esc(order.id)}</span>"
        f"<span class='pill pill-{esc(order.status.value)}'>{esc(order.status.value)}</span>"
        f"{_cod_pill(order)}"
        f"<b>{esc(format_money(order.total, order.currency))}</b>"
        f"<a href='{chat}'>{esc(order.customer_key)}</a>"
        f"<span class='when'>placed {_when(order.created_at)}</span></div>"
        f"<div class='order-body'><div><h3>Items</h3>{_lines(order)}</div>"
        f"<div><h3>Status history</h3>{_history(history)}</div>"
        f"<div><h3>Messages sent</h3>{_messages(hub, order.customer_key)}</div>"
        f"<div><h3>Merchant told</h3>{await _alerts(request, order.id)}</div></div></article>"
    )


async def orders_page(request: web.Request) -> web.Response:
    store = request.app.get(STORE)
    if store is None:
        body = "<p class='empty'>The bot's store is not open.</p>"
    else:
        try:
            orders = await store.list_orders(ORDERS_SHOWN)
            cards = [await _order_card(request, order) for order in orders]
        except Exception:  # a debugging page shows the failure instead of a 500
            log.exception("sandbox.orders_failed")
            cards = ["<p class='empty'>Could not read the orders; see the bot's log.</p>"]
        body = "".join(cards) or "<p class='empty'>No orders yet: place one from the chat.</p>"
    return render("orders.html", shop=shop_name(request.app), raw={"orders": body})


def add_orders_routes(app: web.Application) -> None:
    app.router.add_get("/sandbox/orders", orders_page)
