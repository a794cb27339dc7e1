"""Orders: an immutable snapshot of what the customer agreed to pay, and its payment state."""

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ModelWrapValidatorHandler, model_validator


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    EXPIRED = "expired"  # the link expired unpaid
    CANCELLED = "cancelled"  # replaced by a new order, or cancelled by the customer
    FLAGGED = "flagged"  # the provider said paid, but the payment did not match: a human looks

    @property
    def is_final(self) -> bool:
        return self is not OrderStatus.PENDING_PAYMENT


class PaymentMethod(StrEnum):
    """How the customer pays: online through the provider's link, or in cash when the goods
    arrive. A cash-on-delivery order stays `pending_payment` until the merchant marks it paid;
    `flows.lifecycle.payment_status` calls that "cod_due"."""

    LINK = "link"
    COD = "cod"


class FulfilmentStatus(StrEnum):
    """Where the goods are; separate from the payment (see `flows.lifecycle`)."""

    UNFULFILLED = "unfulfilled"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"

    @property
    def is_underway(self) -> bool:
        """Shipped or delivered: the customer can no longer call the order off."""
        return self in (FulfilmentStatus.SHIPPED, FulfilmentStatus.DELIVERED)


class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    product_id: str
    name: str
    unit_price: int  # paise, copied from the catalog when the order was placed
    quantity: Annotated[int, Field(ge=1)]

    @property
    def total(self) -> int:
        return self.unit_price * self.quantity


class PaymentLink(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    url: str
    expires_at: int  # Unix seconds


class Order(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    customer_key: str
    lines: Annotated[tuple[OrderLine, ...], Field(min_length=1)]
    total: int  # paise; equals the sum of the lines, checked below
    currency: str = "INR"
    address: str | None = None
    status: OrderStatus = OrderStatus.PENDING_PAYMENT
    link: PaymentLink | None = None
    payment_id: str | None = None
    created_at: int  # Unix seconds
    paid_at: int | None = None
    fulfilment: FulfilmentStatus = FulfilmentStatus.UNFULFILLED
    courier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    shipped_at: int | None = None
    delivered_at: int | None = None
    refunded_total: int = 0  # paise the provider says it refunded
    refunds_requested_total: int = 0  # paise asked for and not failed: never above `total`
    shopify_order_id: str | None = None  # gid://shopify/Order/… once handed to Shopify
    payment_method: PaymentMethod = PaymentMethod.LINK

    @property
    def cash_on_delivery(self) -> bool:
        return self.payment_method is PaymentMethod.COD

    @model_validator(mode="wrap")
    @classmethod
    def _total_matches_lines(
        cls, data: Any, handler: ModelWrapValidatorHandler["Order"]
    ) -> "Order":
        # An order that is one already was checked when it was built: "wrap", not "after",
        # because pydantic runs an "after" validator again for every `StepContext` holding it.
        if isinstance(data, cls):
            return data
        order = handler(data)
        if order.total != sum(line.total for line in order.lines):
            raise ValueError("order total must equal the sum of its lines")
        return order
