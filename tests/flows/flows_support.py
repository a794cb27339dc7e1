"""A shop, a customer and a chat to drive the state machine with, as plain data."""

from dataclasses import dataclass, field
from typing import Any

from flows.catalog import ShopConfig
from flows.effects import SetLanguage
from flows.events import (
    ButtonPressed,
    Event,
    ListRowPicked,
    TextReceived,
)
from flows.machine import Decision, StepContext, step
from flows.messages import OutgoingMessage, SendButtons, SendList
from flows.orders import Order, OrderLine, OrderStatus, PaymentLink
from flows.state import Conversation, Customer

NOW = 1_750_000_000
CUSTOMER = Customer(key="CC.abc123", phone="919800000001", name="Asha")
NEW_ORDER_ID = "ord_new"

TEA_SHOP: dict[str, Any] = {
    "shop": {"name": "Chai Point"},
    "checkout": {"max_quantity_per_item": 20, "payment_link_expiry_minutes": 30},
    "products": [
        {"id": "masala-chai", "name": "Masala Chai 250 g", "price": "249.00", "category": "Tea",
         "description": "Strong Assam blend with cardamom and ginger"},
        {"id": "tulsi-green", "name": "Tulsi Green Tea 100 g", "price": "199.50",
         "category": "Tea"},
        {"id": "kahwa", "name": "कश्मीरी कहवा 100 g", "price": "399.00", "category": "Tea"},
        {"id": "kettle", "name": "Stainless Steel Chai Kettle 1.5 L", "price": "899.00",
         "category": "Brewing"},
        {"id": "gift-box", "name": "Festive Gift Box", "price": "1499.00", "category": "Gifts",
         "available": False},
        {"id": "toffee", "name": "Toffee", "price": "0.50", "category": "Sweets"},
        {"id": "silver-urn", "name": "Silver Samovar", "price": "125000.00",
         "category": "Brewing"},
    ],
}  # fmt: skip


def shop(**changes: Any) -> ShopConfig:
    """The tea shop, with top-level sections replaced or merged (checkout, messages)."""
    raw = {**TEA_SHOP}
    for key, value in changes.items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    return ShopConfig.model_validate(raw)


def context(
    config: ShopConfig | None = None,
    *,
    now: int = NOW,
    open_order: Order | None = None,
    event_order: Order | None = None,
    language: str | None = None,
    recent_orders: tuple[Order, ...] = (),
) -> StepContext:
    return StepContext(
        config=config or shop(),
        customer=CUSTOMER,
        now=now,
        new_order_id=NEW_ORDER_ID,
        open_order=open_order,
        event_order=event_order,
        language=language,
        recent_orders=recent_orders,
    )


def order(
    *lines: tuple[str, str, int, int],
    order_id: str = "ord_1",
    address: str | None = "12 MG Road, Bengaluru 560001",
    status: OrderStatus = OrderStatus.PENDING_PAYMENT,
    link: PaymentLink | None = None,
) -> Order:
    """An order of (product_id, name, unit_price, quantity) lines."""
    order_lines = tuple(
        OrderLine(product_id=pid, name=name, unit_price=price, quantity=qty)
        for pid, name, price, qty in lines or [("masala-chai", "Masala Chai 250 g", 24900, 2)]
    )
    return Order(
        id=order_id,
        customer_key=CUSTOMER.key,
        lines=order_lines,
        total=sum(line.total for line in order_lines),
        address=address,
        status=status,
        link=link,
        created_at=NOW - 600,
    )


def link(expires_at: int = NOW + 1800, link_id: str = "plink_ABCDEFGHIJKLMN") -> PaymentLink:
    return PaymentLink(id=link_id, url="https://rzp.io/rzp/abc123", expires_at=expires_at)


# --- reading what the bot sent ---------------------------------------------------------------


def body(message: OutgoingMessage) -> str:
    return message.body


def all_text(decision: Decision) -> str:
    return "\n".join(body(message) for message in decision.messages)


def buttons(message: OutgoingMessage) -> dict[str, str]:
    """Title → id of a reply-buttons message."""
    assert isinstance(message, SendButtons), message
    return {button.title: button.id for button in message.buttons}


def rows(message: OutgoingMessage) -> dict[str, str]:
    """Row title → id of a list message."""
    assert isinstance(message, SendList), message
    return {row.title: row.id for section in message.sections for row in section.rows}


def row_ids(message: OutgoingMessage) -> list[str]:
    assert isinstance(message, SendList), message
    return [row.id for section in message.sections for row in section.rows]


def row_titles(message: OutgoingMessage) -> list[str]:
    assert isinstance(message, SendList), message
    return [row.title for section in message.sections for row in section.rows]


def last(decision: Decision) -> OutgoingMessage:
    assert decision.messages, "the bot said nothing"
    return decision.messages[-1]


def kinds(decision: Decision) -> list[type[OutgoingMessage]]:
    return [type(message) for message in decision.messages]


# --- a chat ----------------------------------------------------------------------------------


@dataclass
class Chat:
    """One customer's conversation: each call is one event, the state carries over."""

    ctx: StepContext = field(default_factory=context)
    state: Conversation = field(default_factory=Conversation)
    count: int = 0

    def send(self, event: Event) -> Decision:
        """One step; a language it remembers is the customer's from the next step on (as the
        runner's commit and next load do)."""
        decision = step(self.state, event, self.ctx)
        self.state = decision.state
        for effect in decision.effects:
            if isinstance(effect, SetLanguage):
                self.ctx = self.ctx.model_copy(update={"language": effect.language})
        return decision

    def _wamid(self) -> str:
        self.count += 1
        return f"wamid.{self.count}"

    def says(self, text: str) -> Decision:
        return self.send(TextReceived(message_id=self._wamid(), text=text))

    def taps(self, button_id: str) -> Decision:
        return self.send(ButtonPressed(message_id=self._wamid(), button_id=button_id))

    def picks(self, row_id: str) -> Decision:
        return self.send(ListRowPicked(message_id=self._wamid(), row_id=row_id))
