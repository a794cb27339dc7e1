"""Owner commands over WhatsApp: a message from a number in OWNER_WHATSAPP is answered here
instead of by the shop. `flows.owner` parses it; this carries it out through `MerchantOrders`
(the same transition table, idempotency and customer notices as the CLI and the dashboard),
recorded as `owner:<number>`, and returns the reply, which the runner queues in the outbox in
the transaction that marks the owner's message processed.

A redelivered webhook never reaches here twice (the message is stored once by its id). If the
bot stops after an action and before the reply is committed, the message is handled again:
ship, deliver and cancel find the order already there, and a refund carries the message id as
its request key, so it is asked for once. Stock commands go through `MerchantStock` (as the
dashboard's Stock page and `python -m bot stock` do) with the message id as their one-time
token: a change is made once however often the message is handled.
"""

from collections.abc import Iterable

from bot.merchant.channels.whatsapp import owner_channel_name
from bot.merchant.orders import MerchantOrders
from bot.merchant.stock import MerchantStock, StockChange
from flows.events import Event, TextReceived
from flows.lifecycle import PaymentStatus, Verdict, payment_status
from flows.limits import TEXT_BODY_MAX
from flows.money import InvalidPrice, format_money, to_minor
from flows.orders import FulfilmentStatus, Order
from flows.owner import (
    HELP_TEXT,
    AddStock,
    CancelOrder,
    DeliverOrder,
    Help,
    ListOrders,
    ListStock,
    OwnerCommand,
    RefundOrder,
    SetStock,
    ShipOrder,
    ShowOrder,
    parse_owner_command,
)
from flows.text import shorten
from storage.repository import ActionResult

LIST_LINES = 10  # short enough to read on a phone
_READ = 50  # orders looked at for the list (paid-not-shipped first among them)
_PAID = (PaymentStatus.PAID, PaymentStatus.PARTLY_REFUNDED)
_VERDICT_WORDS = {Verdict.DO: "Done", Verdict.ALREADY: "Already done", Verdict.REFUSED: "No"}


class OwnerDesk:
    def __init__(
        self, *, owners: Iterable[str], orders: MerchantOrders, stock: MerchantStock
    ) -> None:
        self._owners = frozenset(owners)
        self._orders = orders
        self._stock = stock

    def is_owner(self, phone: str | None) -> bool:
        return phone is not None and phone in self._owners

    async def answer(self, event: Event, phone: str) -> str:
        """Carry out what the owner wrote; the reply, fitted to one WhatsApp text."""
        if not isinstance(event, TextReceived):
            return HELP_TEXT
        command = parse_owner_command(event.text)
        # The other channels hear of the action; the owner who acted has the reply.
        mine = owner_channel_name(phone)
        orders = self._orders.telling([c for c in self._orders.alert_channels if c != mine])
        reply = await _Session(orders, self._stock).run(
            command, by=f"owner:{phone}", message_id=event.message_id
        )
        return shorten_lines(reply, TEXT_BODY_MAX)


class _Session:
    """One owner command, carried out through `orders` (or `stock`)."""

    def __init__(self, orders: MerchantOrders, stock: MerchantStock) -> None:
        self._orders = orders
        self._stock = stock

    async def run(self, command: OwnerCommand, *, by: str, message_id: str) -> str:
        match command:
            case Help():
                return f"{command.problem}\n\n{HELP_TEXT}" if command.problem else HELP_TEXT
            case ListOrders():
                return await self._list()
            case ShowOrder():
                return await self._show(command.order_id)
            case ListStock():
                return await self._stock_list()
            case SetStock():
                product_id = self._stock.known_id(command.product_id)
                once = f"whatsapp:{message_id}"
                return _stock_said(
                    await self._stock.set(product_id, command.count, by=by, once=once)
                )
            case AddStock():
                product_id = self._stock.known_id(command.product_id)
                once = f"whatsapp:{message_id}"
                return _stock_said(
                    await self._stock.add(product_id, command.change, by=by, once=once)
                )
        order_id = await self._known_id(getattr(command, "order_id", ""))
        if order_id is None:
            return f"No order {getattr(command, 'order_id', '')}. Send: orders"
        match command:
            case ShipOrder():
                result = await self._orders.ship(
                    order_id, by=by, courier=command.courier, tracking=command.tracking
                )
            case DeliverOrder():
                result = await self._orders.deliver(order_id, by=by)
            case CancelOrder():
                result = await self._orders.cancel(order_id, by=by, reason="cancelled by owner")
            case RefundOrder():
                result = await self._refund(order_id, command.amount, by, message_id)
        return _said(result)

    async def _refund(
        self, order_id: str, typed: str | None, by: str, message_id: str
    ) -> ActionResult:
        details = await self._orders.show(order_id)
        if details is None:  # _known_id found it just now; orders are never deleted
            return ActionResult(Verdict.REFUSED, f"no order {order_id}", None)
        order = details.order
        if typed is None:  # all that is left; the key below keeps a repeat from doubling it
            amount = order.total - order.refunds_requested_total
        else:
            try:
                amount = to_minor(typed, order.currency)
            except InvalidPrice as error:
                return ActionResult(Verdict.REFUSED, str(error), order)
        return await self._orders.refund(
            order_id,
            amount,
            by=by,
            reason="refund by owner",
            request_key=f"whatsapp:{message_id}",
        )

    async def _known_id(self, typed: str) -> str | None:
        """The order id as stored: owners type ids in lower case on a phone keyboard."""
        for candidate in dict.fromkeys((typed, typed.upper())):
            if await self._orders.show(candidate) is not None:
                return candidate
        return None

    async def _list(self) -> str:
        orders = await self._orders.list(limit=_READ)
        if not orders:
            return "No orders yet."
        ranked = sorted(orders, key=lambda order: not _to_ship(order))  # stable: newest first
        lines = [_line(order) for order in ranked[:LIST_LINES]]
        waiting = sum(1 for order in orders if _to_ship(order))
        head = f"{waiting} paid, not shipped" if waiting else "Nothing waiting to ship"
        return "\n".join([f"{head}. Newest orders:", *lines, "Send: order ID"])

    async def _stock_list(self) -> str:
        items = await self._stock.list()
        if not items:
            return (
                "No product has its stock counted: add stock = N (its starting count) to a "
                "product in config.toml and restart."
            )
        lines = [
            f"{item.product.id}: {item.level.on_hand} / {item.level.held} / "
            f"{item.level.available}" + (" SOLD OUT" if item.sold_out else "")
            for item in items
        ]
        return "\n".join(
            ["Stock: on hand / held for unpaid orders / for sale", *lines, "Send: stock PRODUCT N"]
        )

    async def _show(self, typed: str) -> str:
        order_id = await self._known_id(typed)
        details = None if order_id is None else await self._orders.show(order_id)
        if details is None:
            return f"No order {typed}. Send: orders"
        order, customer = details.order, details.customer
        lines = [f"Order {order.id}: {format_money(order.total, order.currency)}"]
        lines += [
            f"• {line.quantity} × {line.name} ({format_money(line.unit_price, order.currency)})"
            for line in order.lines
        ]
        lines.append(f"Payment: {payment_status(order).value}")
        lines.append(f"Fulfilment: {order.fulfilment.value}")
        tracking = " ".join(
            part for part in (order.courier, order.tracking_url or order.tracking_number) if part
        )
        if tracking:
            lines.append(f"Tracking: {tracking}")
        if customer is not None:
            who = " ".join(
                p for p in (customer.name, f"+{customer.phone}" if customer.phone else None) if p
            )
            lines.append(f"Customer: {who}")
        lines.append(f"Address: {order.address or '(none given)'}")
        lines += [
            f"Refund #{refund.id}: {format_money(refund.amount, order.currency)} {refund.status}"
            for refund in details.refunds
        ]
        if details.history:
            last = details.history[-1]
            lines.append(f"Last: {last.status}" + (f" ({last.actor})" if last.actor else ""))
        return "\n".join(lines)


def _to_ship(order: Order) -> bool:
    return payment_status(order) in _PAID and order.fulfilment is FulfilmentStatus.UNFULFILLED


def _line(order: Order) -> str:
    items = sum(line.quantity for line in order.lines)
    state = (
        "TO SHIP" if _to_ship(order) else f"{payment_status(order).value}/{order.fulfilment.value}"
    )
    total = format_money(order.total, order.currency)
    return f"{order.id} {total} {items} item{'s' if items != 1 else ''} {state}"


def _stock_said(change: StockChange) -> str:
    if change.already:
        return f"Already done: {change.message}"
    return f"{'Done' if change.done else 'No'}: {change.message}"


def _said(result: ActionResult) -> str:
    return f"{_VERDICT_WORDS[result.verdict]}: {result.message}"


def shorten_lines(text: str, limit: int) -> str:
    """Keep the line breaks (`flows.text.shorten` folds them) and cut at the last whole line."""
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = 0
    for line in text.split("\n"):
        if size + len(line) + 1 > limit - 1:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept) + "\n…" if kept else shorten(text, limit)
