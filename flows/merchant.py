"""What the merchant is told about an order: the event types and the one body every channel
renders (a webhook sends it as is; email, Telegram and WhatsApp turn it into text).

Pure data: storage builds the body in the same transaction that changed the order, so the
merchant hears about the order as it was at that moment, and a paid order is never missed.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from flows.lifecycle import payment_status
from flows.orders import Order, OrderStatus
from flows.state import Customer


class MerchantEventType(StrEnum):
    """Event types as the Standard Webhooks receiver sees them (`type` in the body)."""

    ORDER_PAID = "order.paid"
    ORDER_SHIPPED = "order.shipped"
    ORDER_DELIVERED = "order.delivered"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_REFUNDED = "order.refunded"
    # A cash-on-delivery order was confirmed: pack it; the money comes at the door.
    ORDER_PLACED = "order.placed"
    # A payment that does not match its order (amount, currency, link): a person must look.
    ORDER_FLAGGED = "order.flagged"
    # Paid after the order was cancelled or expired, and refunded automatically (Paystack).
    LATE_PAYMENT_REFUNDED = "order.late_payment_refunded"


ORDER_STATUS_EVENTS: Mapping[OrderStatus, MerchantEventType] = {
    OrderStatus.PAID: MerchantEventType.ORDER_PAID,
    OrderStatus.FLAGGED: MerchantEventType.ORDER_FLAGGED,
}
"""An order moving into one of these statuses tells the merchant: one line per event type.
The merchant's own actions (ship, deliver, cancel) and a processed refund queue theirs where
storage applies them (`storage.lifecycle_ops`)."""


class MerchantEvent(BaseModel):
    """Something the merchant hears about. `occurrence` tells apart events of one type that
    may happen more than once to an order (a second partial refund); for the rest the type
    alone makes each event once per order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: MerchantEventType
    order_id: str
    at: int  # Unix seconds
    occurrence: str = ""

    @property
    def dedupe_key(self) -> str:
        return f"{self.type.value}:{self.order_id}:{self.occurrence}"


def event_body(
    event: MerchantEvent, order: Order, customer: Customer | None, refund_amount: int | None = None
) -> dict[str, Any]:
    """The body every channel delivers: `{"type", "timestamp", "data"}` with the order's items,
    customer, address, payment ids and tracking; money in integer minor units. For
    `order.refunded`, `data.refund.amount` is this refund and `data.refunded_total` all of
    them so far."""
    body: dict[str, Any] = {
        "type": event.type.value,
        "timestamp": datetime.fromtimestamp(event.at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": {
            "order_id": order.id,
            "status": order.status.value,
            "payment_status": payment_status(order).value,
            "payment_method": order.payment_method.value,
            "fulfilment_status": order.fulfilment.value,
            "currency": order.currency,
            "total": order.total,
            "items": [
                {
                    "product_id": line.product_id,
                    "name": line.name,
                    "quantity": line.quantity,
                    "unit_price": line.unit_price,
                }
                for line in order.lines
            ],
            "customer": {
                "name": customer.name if customer else None,
                "phone": customer.phone if customer else None,
                "user_id": customer.user_id if customer else None,
            },
            "address": order.address,
            "payment": {
                "provider": "cash"
                if order.cash_on_delivery
                else payment_provider(order.link.id if order.link else None),
                "link_id": order.link.id if order.link else None,
                "payment_id": order.payment_id,
            },
            "tracking": _tracking(order),
            "refunded_total": order.refunded_total,
        },
    }
    if refund_amount is not None:
        body["data"]["refund"] = {"amount": refund_amount}
    return body


def _tracking(order: Order) -> dict[str, str]:
    """Courier, tracking number and URL as the merchant gave them; empty until shipped."""
    fields = {
        "courier": order.courier,
        "number": order.tracking_number,
        "url": order.tracking_url,
    }
    return {name: value for name, value in fields.items() if value}


def payment_provider(link_id: str | None) -> str | None:
    """Which provider made a link, from the shape of its id: Razorpay's `plink_…`, Stripe's
    Checkout Session `cs_…`, else a Paystack reference (our order id and a suffix)."""
    if not link_id:
        return None
    if link_id.startswith("plink_"):
        return "razorpay"
    if link_id.startswith("cs_"):
        return "stripe"
    return "paystack"
