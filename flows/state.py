"""A customer's conversation: where they are in the flow and what is in their cart.

Stored as JSON by `storage/` between events; every model here is frozen, and the machine
returns a new `Conversation` rather than changing one.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _State(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Idle(_State):
    """At the menu, browsing, or looking at the cart: nothing typed is expected."""

    phase: Literal["idle"] = "idle"


class ChoosingQuantity(_State):
    """We asked how many of a product; a typed number answers."""

    phase: Literal["choosing_quantity"] = "choosing_quantity"
    product_id: str


class EnteringAddress(_State):
    """We asked for a delivery address; typed text or a shared location answers."""

    phase: Literal["entering_address"] = "entering_address"


class AwaitingPayment(_State):
    """An order is placed and its payment link is (being) issued."""

    phase: Literal["awaiting_payment"] = "awaiting_payment"
    order_id: str


Phase = Annotated[
    Idle | ChoosingQuantity | EnteringAddress | AwaitingPayment, Field(discriminator="phase")
]


class CartLine(_State):
    product_id: str
    quantity: Annotated[int, Field(ge=1)]


class Conversation(_State):
    phase: Phase = Idle()
    cart: tuple[CartLine, ...] = ()
    address: str | None = None  # the last delivery address given, offered again next time


class Customer(_State):
    """Who we are talking to. `key` is the business-scoped user id when WhatsApp gives one,
    else the phone number; replies go to `phone` when known, else to `user_id`."""

    key: str
    phone: str | None = None
    user_id: str | None = None
    name: str | None = None
