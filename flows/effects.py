"""What the machine asks the outside world to do, as data. The runner applies them.

`PlaceOrder`, `AttachPaymentLink` and `SetOrderStatus` are written in the same transaction as
the new state. `CreatePaymentLink` and `CancelPaymentLink` call the payment provider: the runner
queues them as jobs in that transaction and feeds their outcome back as a payment event.
`SetLanguage` is saved on the customer's row in the same transaction.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from flows.orders import Order, OrderStatus, PaymentLink


class _Effect(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlaceOrder(_Effect):
    """Insert the order and hold its units of the products in `hold` (those whose stock is
    counted). If any is short, storage places nothing and raises `StockShortError`."""

    kind: Literal["place_order"] = "place_order"
    order: Order
    hold: tuple[str, ...] = ()


class CreatePaymentLink(_Effect):
    kind: Literal["create_payment_link"] = "create_payment_link"
    order_id: str
    expire_by: int  # Unix seconds


class CancelPaymentLink(_Effect):
    kind: Literal["cancel_payment_link"] = "cancel_payment_link"
    order_id: str
    link_id: str


class AttachPaymentLink(_Effect):
    kind: Literal["attach_payment_link"] = "attach_payment_link"
    order_id: str
    link: PaymentLink


class ChooseCashOnDelivery(_Effect):
    """The customer chose to pay in cash on delivery: the order is confirmed, payment due."""

    kind: Literal["choose_cash_on_delivery"] = "choose_cash_on_delivery"
    order_id: str
    at: int  # Unix seconds


class SetOrderStatus(_Effect):
    """Move an order out of `pending_payment`. Storage applies it only to a pending order, so
    a late expiry can never undo a payment."""

    kind: Literal["set_order_status"] = "set_order_status"
    order_id: str
    status: OrderStatus
    payment_id: str | None = None
    at: int  # Unix seconds
    reason: str = ""


class SetLanguage(_Effect):
    """Remember the language the customer reads (a code of `ShopConfig.language_codes`)."""

    kind: Literal["set_language"] = "set_language"
    language: str


Effect = Annotated[
    PlaceOrder
    | CreatePaymentLink
    | CancelPaymentLink
    | AttachPaymentLink
    | SetOrderStatus
    | ChooseCashOnDelivery
    | SetLanguage,
    Field(discriminator="kind"),
]
