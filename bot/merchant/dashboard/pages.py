"""The dashboard's HTML, server-rendered: plain functions from data to markup.

Every value that reaches a page goes through `esc` (customers choose their names and type
their addresses: both are attacker-controlled); markup is only ever built here. Pages load one
stylesheet and one small script from /admin/static and carry no inline code, so the app's
Content-Security-Policy (bot/routes/headers.py) holds.
"""

import datetime as dt
import html
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from bot.merchant.stock import ProductStock
from flows.catalog import Product
from flows.lifecycle import (
    PaymentStatus,
    Verdict,
    may_cancel,
    may_deliver,
    may_ship,
    payment_status,
    refundable,
)
from flows.messages import OutgoingMessage, SendCtaUrl, SendTemplate, SendText
from flows.money import format_money, to_major
from flows.orders import Order, OrderStatus
from flows.state import Customer
from storage.repository import (
    HistoryEntry,
    MerchantAlert,
    OrderPage,
    OrderView,
    Refund,
    SentMessage,
)

VIEW_LABELS: Mapping[OrderView, str] = {
    OrderView.TO_PACK: "To pack",
    OrderView.AWAITING: "Awaiting payment",
    OrderView.SHIPPED: "Shipped",
    OrderView.CANCELLED: "Cancelled",
    OrderView.REFUNDED: "Refunded",
    OrderView.ALL: "All",
}


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def when(at: int | None) -> str:
    if at is None:
        return "—"
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%d %b %Y %H:%M UTC")


def age(at: int, now: int) -> str:
    seconds = max(0, now - at)
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def masked_phone(phone: str | None) -> str:
    """Enough to tell customers apart on a shared screen: the country code and last 4 digits."""
    if not phone:
        return "—"
    if len(phone) < 8:
        return "•" * len(phone)
    return f"+{phone[:2]} ••••• {phone[-4:]}"


def items_text(order: Order) -> str:
    return "; ".join(f"{line.quantity} × {line.name}" for line in order.lines)


def message_text(message: OutgoingMessage | None) -> str:
    """One line for a message the shop sent: what the customer read."""
    if message is None:
        return "(this stored message can no longer be read)"
    if isinstance(message, SendTemplate):
        return f"template {message.name} ({message.language}): " + ", ".join(
            message.body_parameters
        )
    if isinstance(message, SendText):
        return message.body
    if isinstance(message, SendCtaUrl):
        return f"{message.body} [{message.display_text}: {message.url}]"
    return message.body


# --- the frame ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Frame:
    """What every signed-in page shows around its content."""

    shop: str
    csrf: str
    sandbox: bool
    flash: str | None = None
    flash_is_error: bool = False
    section: str = "orders"  # which of SECTIONS the page belongs to


SECTIONS: Mapping[str, str] = {"orders": "Orders", "stock": "Stock"}
"""The dashboard's navigation: section → its label; each lives at /admin/<section>."""


def document(title: str, body: str, *, shop: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{esc(title)} · {esc(shop)}</title><link rel='icon' href='data:,'>"
        "<link rel='stylesheet' href='/admin/static/admin.css'>"
        "<script src='/admin/static/admin.js' defer></script>"
        f"</head><body>{body}</body></html>"
    )


def _page(frame: Frame, title: str, content: str) -> str:
    sandbox = "<a class='sandbox-link' href='/sandbox'>Sandbox chat</a>" if frame.sandbox else ""
    flash = ""
    if frame.flash:
        kind = "flash error" if frame.flash_is_error else "flash"
        flash = f"<p class='{kind}' role='status'>{esc(frame.flash)}</p>"
    links = "".join(
        f"<a href='/admin/{esc(section)}'"
        + (" aria-current='page'" if section == frame.section else "")
        + f">{esc(label)}</a>"
        for section, label in SECTIONS.items()
    )
    header = (
        "<header class='top'><a class='brand' href='/admin/orders'>"
        f"{esc(frame.shop)} · {esc(SECTIONS.get(frame.section, '').lower())}</a>"
        f"<nav class='sections' aria-label='Dashboard'>{links}</nav>{sandbox}"
        "<form method='post' action='/admin/logout' class='logout'>"
        f"<input type='hidden' name='csrf' value='{esc(frame.csrf)}'>"
        "<button type='submit'>Log out</button></form></header>"
    )
    return document(title, f"{header}<main>{flash}{content}</main>", shop=frame.shop)


def login_page(
    *,
    shop: str,
    csrf: str,
    error: str | None = None,
    sandbox_hint: str | None = None,
    next_page: str = "/admin/orders",
) -> str:
    problem = f"<p class='flash error' role='alert'>{esc(error)}</p>" if error else ""
    hint = f"<p class='hint'>{esc(sandbox_hint)}</p>" if sandbox_hint else ""
    body = (
        "<main class='login'><h1>"
        + esc(shop)
        + " · orders</h1>"
        + problem
        + hint
        + "<form method='post' action='/admin/login'>"
        f"<input type='hidden' name='csrf' value='{esc(csrf)}'>"
        f"<input type='hidden' name='next' value='{esc(next_page)}'>"
        "<label>Password <input type='password' name='password' autocomplete='current-password' "
        "required autofocus></label><button type='submit'>Sign in</button></form></main>"
    )
    return document("Sign in", body, shop=shop)


# --- the list ----------------------------------------------------------------------------------


def list_query(view: OrderView, search: str, page: int = 1) -> str:
    params: dict[str, str] = {"view": view.value}
    if search:
        params["q"] = search
    if page > 1:
        params["page"] = str(page)
    return urlencode(params)


def _pill(kind: str, value: str) -> str:
    return f"<span class='pill {kind}-{esc(value)}'>{esc(value.replace('_', ' '))}</span>"


def _tabs(view: OrderView, search: str, counts: Mapping[OrderView, int]) -> str:
    tabs = []
    for each, label in VIEW_LABELS.items():
        current = " aria-current='page'" if each is view else ""
        tabs.append(
            f"<a href='/admin/orders?{esc(list_query(each, search))}'{current}>"
            f"{esc(label)} <span class='count'>{counts.get(each, 0)}</span></a>"
        )
    return f"<nav class='tabs'>{''.join(tabs)}</nav>"


def _search(view: OrderView, search: str) -> str:
    return (
        "<form class='search' method='get' action='/admin/orders'>"
        f"<input type='hidden' name='view' value='{esc(view.value)}'>"
        f"<input type='search' name='q' value='{esc(search)}' "
        "placeholder='Order id or phone' aria-label='Search by order id or phone'>"
        "<button type='submit'>Search</button></form>"
    )


def _order_row(order: Order, customer: Customer | None, now: int) -> str:
    name = customer.name if customer and customer.name else "—"
    phone = masked_phone(customer.phone if customer else None)
    return (
        f"<tr data-order='{esc(order.id)}'>"
        f"<td data-label='Order'><a href='/admin/orders/{esc(order.id)}'>{esc(order.id)}</a></td>"
        f"<td data-label='Placed'>{esc(when(order.created_at))}</td>"
        f"<td data-label='Customer'>{esc(name)}<br><span class='muted'>{esc(phone)}</span></td>"
        f"<td data-label='Items'>{esc(items_text(order))}</td>"
        f"<td data-label='Total' class='num'>{esc(_money(order, order.total))}</td>"
        f"<td data-label='Payment'>{_pill('pay', payment_status(order).value)}</td>"
        f"<td data-label='Fulfilment'>{_pill('ful', order.fulfilment.value)}</td>"
        f"<td data-label='Age'>{esc(age(order.created_at, now))}</td></tr>"
    )


def orders_page(
    frame: Frame,
    *,
    view: OrderView,
    search: str,
    page: int,
    listing: OrderPage,
    counts: Mapping[OrderView, int],
    now: int,
) -> str:
    rows = "".join(_order_row(row.order, row.customer, now) for row in listing.rows)
    if rows:
        table = (
            "<table class='orders'><thead><tr><th>Order</th><th>Placed</th><th>Customer</th>"
            "<th>Items</th><th>Total</th><th>Payment</th><th>Fulfilment</th><th>Age</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        table = "<p class='empty'>No orders here.</p>"
    pager = []
    if page > 1:
        pager.append(
            f"<a rel='prev' href='/admin/orders?{esc(list_query(view, search, page - 1))}'>"
            "← Previous</a>"
        )
    pager.append(f"<span>Page {page}</span>")
    if listing.more:
        pager.append(
            f"<a rel='next' href='/admin/orders?{esc(list_query(view, search, page + 1))}'>"
            "Next →</a>"
        )
    csv_link = (
        f"<a class='csv' href='/admin/orders.csv?{esc(list_query(view, search))}' download>"
        "Download CSV</a>"
    )
    content = (
        f"{_tabs(view, search, counts)}<div class='toolbar'>{_search(view, search)}{csv_link}"
        f"</div>{table}<nav class='pager'>{''.join(pager)}</nav>"
    )
    return _page(frame, VIEW_LABELS[view], content)


# --- one order ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderData:
    order: Order
    customer: Customer | None
    history: Sequence[HistoryEntry]
    refunds: Sequence[Refund]
    messages: Sequence[SentMessage]
    alerts: Sequence[MerchantAlert]


def _form(action: str, frame: Frame, token: str, fields: str, button: str, cls: str = "") -> str:
    return (
        f"<form method='post' action='{esc(action)}' class='action {cls}'>"
        f"<input type='hidden' name='csrf' value='{esc(frame.csrf)}'>"
        f"<input type='hidden' name='form_token' value='{esc(token)}'>"
        f"{fields}<button type='submit'>{esc(button)}</button></form>"
    )


def _actions(frame: Frame, order: Order, tokens: Iterator[str]) -> str:
    base = f"/admin/orders/{order.id}"
    forms = []
    if may_ship(order).verdict is Verdict.DO:
        forms.append(
            "<h3>Mark shipped</h3>"
            + _form(
                f"{base}/ship",
                frame,
                next(tokens),
                "<label>Courier <input name='courier' maxlength='100' "
                "placeholder='e.g. DTDC'></label>"
                "<label>Tracking number or URL <input name='tracking' maxlength='500' "
                "placeholder='AWB or https://…'></label>",
                "Mark shipped",
            )
        )
    if may_deliver(order).verdict is Verdict.DO:
        forms.append(
            "<h3>Mark delivered</h3>"
            + _form(f"{base}/deliver", frame, next(tokens), "", "Mark delivered")
        )
    left = refundable(order)
    if left > 0:
        forms.append(
            "<h3>Refund</h3>"
            + _form(
                f"{base}/refund",
                frame,
                next(tokens),
                f"<label>Amount in {esc(order.currency)} (up to {esc(_money(order, left))}; "
                "empty: all of it) "
                f"<input name='amount' inputmode='decimal' "
                f"placeholder='{to_major(left, order.currency)}'>"
                "</label><label>Reason <input name='reason' maxlength='200' "
                "placeholder='e.g. out of stock'></label>",
                "Refund",
                "danger",
            )
        )
    if may_cancel(order, refund_requested=False).verdict is Verdict.DO:
        if order.status is OrderStatus.PENDING_PAYMENT:
            note = "The customer has not paid: the payment link is cancelled too."
        elif order.status is OrderStatus.PAID:
            note = "Nothing is left to refund."
        else:
            note = "The payment link is closed; nothing was paid."
        forms.append(
            "<h3>Cancel</h3>"
            + _form(
                f"{base}/cancel",
                frame,
                next(tokens),
                f"<p class='muted'>{esc(note)}</p>",
                "Cancel order",
                "danger",
            )
        )
    elif may_cancel(order, refund_requested=True).verdict is Verdict.DO and left > 0:
        forms.append(
            "<h3>Cancel</h3>"
            + _form(
                f"{base}/cancel",
                frame,
                next(tokens),
                "<input type='hidden' name='refund' value='1'>"
                f"<p class='muted'>The order is paid: cancelling it refunds "
                f"{esc(_money(order, left))}.</p><label>Reason <input name='reason' "
                "maxlength='200'></label>",
                f"Cancel and refund {_money(order, left)}",
                "danger",
            )
        )
    if not forms:
        return "<p class='muted'>Nothing more to do with this order.</p>"
    return "".join(forms)


def _definition(rows: Iterable[tuple[str, str]]) -> str:
    return (
        "<dl>" + "".join(f"<dt>{esc(term)}</dt><dd>{value}</dd>" for term, value in rows) + "</dl>"
    )


def order_page(frame: Frame, data: OrderData, tokens: Iterator[str], now: int) -> str:
    order, customer = data.order, data.customer
    paid = payment_status(order)
    lines = "".join(
        f"<tr><td>{esc(line.name)}</td><td class='num'>{line.quantity}</td>"
        f"<td class='num'>{esc(_money(order, line.unit_price))}</td>"
        f"<td class='num'>{esc(_money(order, line.total))}</td></tr>"
        for line in order.lines
    )
    amounts = [("Total", esc(_money(order, order.total)))]
    if order.refunds_requested_total:
        amounts.append(("Refunds asked for", esc(_money(order, order.refunds_requested_total))))
    if order.refunded_total or paid in (PaymentStatus.PARTLY_REFUNDED, PaymentStatus.REFUNDED):
        amounts.append(("Refunded", esc(_money(order, order.refunded_total))))
    items = (
        "<table class='items'><thead><tr><th>Item</th><th>Qty</th><th>Price</th><th>Total</th>"
        f"</tr></thead><tbody>{lines}</tbody></table>{_definition(amounts)}"
    )
    address = (
        f"<pre id='address' class='address'>{esc(order.address)}</pre>"
        "<button type='button' class='copy' data-copy='address'>Copy address</button>"
        if order.address
        else "<p class='muted'>No address given.</p>"
    )
    who = _definition(
        [
            ("Name", esc(customer.name if customer and customer.name else "—")),
            ("Phone", esc(f"+{customer.phone}" if customer and customer.phone else "—")),
        ]
    )
    if frame.sandbox:
        chat = f"/sandbox?{urlencode({'phone': order.customer_key})}"
        who += f"<p><a class='chat-link' href='{esc(chat)}'>This customer's chat</a></p>"
    tracking = order.tracking_url or order.tracking_number
    provider = _definition(
        [
            ("Payment link", esc(order.link.id if order.link else "—")),
            ("Payment", esc(order.payment_id or "—")),
            ("Paid", esc(when(order.paid_at))),
            ("Courier", esc(order.courier or "—")),
            ("Tracking", esc(tracking or "—")),
            ("Shipped", esc(when(order.shipped_at))),
            ("Delivered", esc(when(order.delivered_at))),
        ]
    )
    history = _table(
        ("When", "What", "Details", "By"),
        [(when(e.at), e.status, e.reason, e.actor or "—") for e in data.history],
        "No history yet.",
    )
    refunds = _table(
        ("Asked", "Amount", "Status", "Reason", "Provider id", "By"),
        [
            (
                when(r.requested_at),
                format_money(r.amount, data.order.currency),
                r.status + (f": {r.failure}" if r.failure else ""),
                r.reason,
                r.provider_refund_id or "—",
                r.requested_by,
            )
            for r in data.refunds
        ],
        "No refunds.",
    )
    messages = _table(
        ("Queued", "Status", "Message"),
        [
            (
                when(m.created_at),
                m.status + (f" ({m.last_error})" if m.last_error and m.status != "sent" else ""),
                message_text(m.message),
            )
            for m in data.messages
        ],
        "No messages.",
    )
    head = (
        f"<div class='order-head'><h1>{esc(order.id)}</h1>{_pill('pay', paid.value)}"
        f"{_pill('ful', order.fulfilment.value)}<b>{esc(_money(order, order.total))}</b>"
        f"<span class='muted'>placed {esc(when(order.created_at))}, "
        f"{esc(age(order.created_at, now))} ago</span></div>"
    )
    content = (
        f"<p><a href='/admin/orders'>← All orders</a></p>{head}<div class='cards'>"
        f"<section><h2>Items</h2>{items}</section>"
        f"<section><h2>Deliver to</h2>{address}{who}</section>"
        f"<section><h2>Actions</h2>{_actions(frame, order, tokens)}</section>"
        f"<section><h2>Payment and shipping</h2>{provider}</section>"
        f"<section class='wide'><h2>History</h2>{history}</section>"
        f"<section class='wide'><h2>Refunds</h2>{refunds}</section>"
        "<section class='wide'><h2>Messages to the customer about this order</h2>"
        f"{messages}</section>"
        f"<section class='wide'><h2>Merchant alerts</h2>"
        f"{_alerts(frame, order, data.alerts, tokens)}</section></div>"
    )
    return _page(frame, order.id, content)


def _alerts(
    frame: Frame, order: Order, alerts: Sequence[MerchantAlert], tokens: Iterator[str]
) -> str:
    if not alerts:
        return "<p class='muted'>No alerts about this order.</p>"
    rows = []
    for alert in alerts:
        again = _form(
            f"/admin/orders/{order.id}/alerts/{alert.id}/resend",
            frame,
            next(tokens),
            "",
            "Send again",
        )
        rows.append(
            f"<tr><td>{esc(when(alert.created_at))}</td><td>{esc(alert.event_type)}</td>"
            f"<td>{esc(alert.channel)}</td><td>{_pill('alert', alert.status.value)}</td>"
            f"<td class='num'>{alert.attempts}</td><td>{esc(alert.last_error or '')}</td>"
            f"<td>{again}</td></tr>"
        )
    return (
        "<table><thead><tr><th>Queued</th><th>Event</th><th>Channel</th><th>Status</th>"
        "<th>Attempts</th><th>Last error</th><th></th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _table(headings: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    if not rows:
        return f"<p class='muted'>{esc(empty)}</p>"
    head = "".join(f"<th>{esc(h)}</th>" for h in headings)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _money(order: Order, minor: int) -> str:
    """An amount of this order in its own currency, as the CLI and the customer show it."""
    return format_money(minor, order.currency)


# --- stock ---------------------------------------------------------------------------------------


def _stock_row(frame: Frame, item: ProductStock, tokens: Iterator[str]) -> str:
    product, level = item.product, item.level
    pid = esc(product.id)
    base = f"/admin/stock/{product.id}"
    for_sale = f"{level.available}"
    if item.sold_out:
        for_sale += " <span class='pill stock-sold-out'>sold out</span>"
    set_form = _form(
        f"{base}/set",
        frame,
        next(tokens),
        f"<input name='count' inputmode='numeric' pattern='[0-9]*' value='{level.on_hand}' "
        f"required aria-label='New count of {esc(product.name)}'>",
        "Set",
        "stock-change",
    )
    add_form = _form(
        f"{base}/add",
        frame,
        next(tokens),
        "<input name='change' inputmode='numeric' pattern='[+-]?[0-9]*' placeholder='+10 or -2' "
        f"required aria-label='Units to add to {esc(product.name)} (minus to remove)'>",
        "Add / remove",
        "stock-change",
    )
    return (
        f"<tr data-product='{pid}'>"
        f"<td data-label='Product'><span><b>{esc(product.name)}</b><br>"
        f"<span class='muted'>{pid}</span></span></td>"
        f"<td data-label='On hand' class='num'>{level.on_hand}</td>"
        f"<td data-label='Held' class='num'>{level.held}</td>"
        f"<td data-label='For sale' class='num'>{for_sale}</td>"
        # The time moves with every hold, sale and change; the name only when the count is
        # set or added to (by the merchant, or the config's starting count).
        f"<td data-label='Last update'><span>{esc(when(level.updated_at))}<br>"
        f"<span class='muted'>count last changed by {esc(level.updated_by)}</span></span></td>"
        f"<td data-label='Change'>{set_form}{add_form}</td></tr>"
    )


def stock_page(
    frame: Frame,
    counted: Sequence[ProductStock],
    uncounted: Sequence[Product],
    tokens: Iterator[str],
) -> str:
    if counted:
        rows = "".join(_stock_row(frame, item, tokens) for item in counted)
        table = (
            "<table class='stock'><thead><tr><th>Product</th><th>On hand</th>"
            "<th>Held (awaiting payment)</th><th>For sale</th><th>Last update</th>"
            f"<th>Change</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    else:
        table = "<p class='empty'>No product has its stock counted.</p>"
    explain = (
        "<p class='muted'><b>On hand</b> is what the shop has, units held for orders awaiting "
        "payment included; <b>for sale</b> is what customers can still order. <b>Set</b> "
        "after counting the shelf; <b>Add / remove</b> for a delivery (10) or breakage (-2). "
        "Held units stay held either way.</p>"
    )
    if uncounted:
        items = "".join(
            f"<li data-product='{esc(p.id)}'>{esc(p.name)} <span class='muted'>{esc(p.id)}</span>"
            "</li>"
            for p in uncounted
        )
        others = (
            "<section class='uncounted'><h2>Not counted</h2><p class='muted'>These are never "
            "sold out. To start counting one, add <code>stock = N</code> (N: its starting "
            "count) to the product in config.toml and restart the bot.</p>"
            f"<ul>{items}</ul></section>"
        )
    else:
        others = ""
    content = f"<h1>Stock</h1>{explain}{table}{others}"
    return _page(frame, "Stock", content)
