"""`/sandbox/stock`: the counted products, what is on hand, held for unpaid orders and left
for sale, with forms to set or add, through the same service as the CLI
(`bot.merchant.stock`). A sold-out product shows as such in the chat at once."""

from urllib.parse import urlencode

import structlog
from aiohttp import web

from bot.keys import STOCK
from bot.merchant.stock import ProductStock
from bot.sandbox.pages import esc, render
from bot.sandbox.state import shop_name

log = structlog.get_logger(__name__)
BY = "sandbox"


def _row(item: ProductStock) -> str:
    level, product = item.level, item.product
    state = "<span class='pill pill-sold_out'>sold out</span>" if item.sold_out else ""
    pid = esc(product.id)
    return (
        f"<tr data-product='{pid}'><td><b>{esc(product.name)}</b><br>"
        f"<span class='mono'>{pid}</span></td>"
        f"<td class='num'>{level.on_hand}</td><td class='num'>{level.held}</td>"
        f"<td class='num left'>{level.available} {state}</td>"
        f"<td><form method='post' action='/sandbox/stock' class='stock-form'>"
        f"<input type='hidden' name='product_id' value='{pid}'>"
        f"<input type='number' name='count' value='{level.on_hand}' min='0' "
        f"aria-label='Count of {pid}'>"
        f"<button name='action' value='set'>Set</button></form>"
        f"<form method='post' action='/sandbox/stock' class='stock-form'>"
        f"<input type='hidden' name='product_id' value='{pid}'>"
        f"<input type='number' name='count' value='5' aria-label='Units to add to {pid}'>"
        f"<button name='action' value='add'>Add</button></form></td></tr>"
    )


async def stock_page(request: web.Request) -> web.Response:
    service = request.app.get(STOCK)
    note = request.query.get("note", "")
    if service is None:
        body = "<p class='empty'>The bot's store is not open.</p>"
    else:
        try:
            items = await service.list()
        except Exception:  # a debugging page shows the failure instead of a 500
            log.exception("sandbox.stock_failed")
            items = []
            note = "Could not read the stock; see the bot's log."
        rows = "".join(_row(item) for item in items)
        body = (
            "<table class='stock'><thead><tr><th>Product</th><th>In stock</th>"
            "<th>Held for unpaid orders</th><th>For sale</th><th>Change</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            if rows
            else "<p class='empty'>No product has its stock counted: add <code>stock = N</code> "
            "to a product in config.toml.</p>"
        )
    notice = f"<p class='notice'>{esc(note)}</p>" if note else ""
    return render("stock.html", shop=shop_name(request.app), raw={"stock": notice + body})


async def change_stock(request: web.Request) -> web.Response:
    form = await request.post()
    product_id = str(form.get("product_id", ""))
    action = str(form.get("action", ""))
    try:
        count = int(str(form.get("count", "")))
    except ValueError:
        return _back("The count must be a whole number.")
    service = request.app[STOCK]
    if action == "set":
        change = await service.set(product_id, count, by=BY)
    elif action == "add":
        change = await service.add(product_id, count, by=BY)
    else:
        return _back(f"Unknown action {action!r}: set or add.")
    return _back(change.message if change.done else f"Not changed: {change.message}")


def _back(note: str) -> web.Response:
    raise web.HTTPSeeOther(f"/sandbox/stock?{urlencode({'note': note})}")


def add_stock_routes(app: web.Application) -> None:
    app.router.add_get("/sandbox/stock", stock_page)
    app.router.add_post("/sandbox/stock", change_stock)
