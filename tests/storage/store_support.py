"""Test helpers for storage: a `Shop` that records events and commits steps the way the
runner will, through the public Store API only."""

import itertools
from collections.abc import Sequence

from flows.effects import Effect, PlaceOrder
from flows.events import PaymentCaptured, TextReceived
from flows.messages import OutgoingMessage, SendText
from flows.orders import Order, OrderLine
from flows.state import Conversation, Customer
from storage.repository import NewEvent, StepResult, Store

NOW = 1_700_000_000


class Shop:
    """Builds realistic rows through the public Store API only."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._seq = itertools.count(1)

    @staticmethod
    def customer(n: int, *, phone: bool = True, name: str | None = "Asha") -> Customer:
        return Customer(
            key=f"CC.user{n}",
            phone=f"91987650{n:04d}" if phone else None,
            user_id=f"CC.user{n}",
            name=name,
        )

    @staticmethod
    def order(order_id: str, customer_key: str, *, created_at: int = NOW) -> Order:
        line = OrderLine(product_id="tea", name="Masala tea", unit_price=25_000, quantity=2)
        return Order(
            id=order_id,
            customer_key=customer_key,
            lines=(line,),
            total=50_000,
            created_at=created_at,
        )

    def text(self, customer: Customer, text: str = "hi", *, wamid: str | None = None) -> NewEvent:
        wamid = wamid or f"wamid.{next(self._seq)}"
        return NewEvent(
            source="whatsapp",
            dedupe_key=f"whatsapp:{wamid}",
            raw='{"type": "text"}',
            event=TextReceived(message_id=wamid, text=text),
            customer=customer,
        )

    def captured(self, order_id: str, *, key: str | None = None) -> NewEvent:
        event = PaymentCaptured(
            order_id=order_id,
            link_id="plink_1",
            payment_id="pay_1",
            currency="INR",
            amount=50_000,
            amount_paid=50_000,
        )
        return NewEvent(
            source="razorpay",
            dedupe_key=key or f"razorpay:evt_{next(self._seq)}",
            raw='{"event": "payment_link.paid"}',
            event=event,
            order_id=order_id,
        )

    async def record(self, event: NewEvent, now: int = NOW) -> int:
        (event_id,) = await self.store.record_events([event], now)
        return event_id

    async def step(
        self,
        customer: Customer,
        *,
        effects: Sequence[Effect] = (),
        messages: Sequence[OutgoingMessage] = (SendText(body="Hello!"),),
        conversation: Conversation | None = None,
        event_id: int | None = None,
        now: int = NOW,
        alert_channels: Sequence[str] = (),
    ) -> StepResult:
        """Commit a step for a new text event (or for `event_id`)."""
        if event_id is None:
            event_id = await self.record(self.text(customer))
        return await self.store.commit_step(
            event_id=event_id,
            customer=customer,
            conversation=conversation or Conversation(),
            messages=messages,
            effects=effects,
            now=now,
            alert_channels=alert_channels,
        )

    async def place_order(self, customer: Customer, order_id: str, **kw: int) -> Order:
        order = self.order(order_id, customer.key, **kw)
        await self.step(customer, effects=[PlaceOrder(order=order)])
        return order
