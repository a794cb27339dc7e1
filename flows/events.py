"""Events the state machine receives, named in the past tense.

Customer events come from WhatsApp messages and carry the message id (wamid) they came from.
Payment events come from the payment provider, already translated from its own format into
ours by `bot/payments/`, and name our order id.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from flows.reminders import ReminderSlot


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- from the customer -------------------------------------------------------------------------


class TextReceived(_Event):
    kind: Literal["text"] = "text"
    message_id: str
    text: str


class ButtonPressed(_Event):
    """A tap on a reply button we sent, or on a template quick-reply button (its payload)."""

    kind: Literal["button"] = "button"
    message_id: str
    button_id: str
    title: str = ""


class ListRowPicked(_Event):
    kind: Literal["list_row"] = "list_row"
    message_id: str
    row_id: str
    title: str = ""


class OrderedItem(_Event):
    product_id: str
    quantity: int


class CatalogOrderReceived(_Event):
    """A cart sent from a WhatsApp catalog. Prices in the message are ignored by design."""

    kind: Literal["catalog_order"] = "catalog_order"
    message_id: str
    catalog_id: str = ""
    items: tuple[OrderedItem, ...]
    note: str = ""


class LocationReceived(_Event):
    kind: Literal["location"] = "location"
    message_id: str
    latitude: float
    longitude: float
    name: str = ""
    address: str = ""


class MediaReceived(_Event):
    """An image, audio, video, document or sticker."""

    kind: Literal["media"] = "media"
    message_id: str
    media_type: str
    caption: str = ""


class ReactionReceived(_Event):
    kind: Literal["reaction"] = "reaction"
    message_id: str
    emoji: str | None = None  # None when the customer removed a reaction


class UnsupportedReceived(_Event):
    """Anything WhatsApp sends that we do not understand (polls, system messages, new types)."""

    kind: Literal["unsupported"] = "unsupported"
    message_id: str
    message_type: str


# --- from the payment provider, or from our own effects -------------------------------------


class PaymentLinkCreated(_Event):
    kind: Literal["payment_link_created"] = "payment_link_created"
    order_id: str
    link_id: str
    url: str
    expires_at: int  # Unix seconds


class PaymentLinkCreationFailed(_Event):
    kind: Literal["payment_link_creation_failed"] = "payment_link_creation_failed"
    order_id: str
    reason: str


class PaymentCaptured(_Event):
    """The provider says a payment link was paid. The machine checks it against our order."""

    kind: Literal["payment_captured"] = "payment_captured"
    order_id: str  # the provider's reference id, which we set to our order id
    link_id: str
    payment_id: str
    currency: str
    amount: int  # paise, the link's amount
    amount_paid: int  # paise


class PaymentLinkExpired(_Event):
    kind: Literal["payment_link_expired"] = "payment_link_expired"
    order_id: str
    link_id: str


class PaymentLinkCancelled(_Event):
    kind: Literal["payment_link_cancelled"] = "payment_link_cancelled"
    order_id: str
    link_id: str


class PaymentFailed(_Event):
    kind: Literal["payment_failed"] = "payment_failed"
    order_id: str
    payment_id: str
    reason: str = ""


# --- from the schedule, and from WhatsApp about the customer ---------------------------------


class ReminderDue(_Event):
    """A reminder's time came (`flows.reminders`). The machine decides, from the state as it is
    now, whether anything is said: a paid or changed order gets nothing."""

    kind: Literal["reminder_due"] = "reminder_due"
    reminder_id: int
    slot: ReminderSlot
    order_id: str | None = None


class MarketingPreferenceChanged(_Event):
    """Meta's `user_preferences` webhook: the customer stopped (or resumed) marketing messages
    from this business. Not a message: it does not open the 24-hour window."""

    kind: Literal["marketing_preference"] = "marketing_preference"
    stopped: bool


ScheduleEvent = ReminderDue | MarketingPreferenceChanged

CustomerEvent = (
    TextReceived
    | ButtonPressed
    | ListRowPicked
    | CatalogOrderReceived
    | LocationReceived
    | MediaReceived
    | ReactionReceived
    | UnsupportedReceived
)
PaymentEvent = (
    PaymentLinkCreated
    | PaymentLinkCreationFailed
    | PaymentCaptured
    | PaymentLinkExpired
    | PaymentLinkCancelled
    | PaymentFailed
)
Event = Annotated[CustomerEvent | PaymentEvent | ScheduleEvent, Field(discriminator="kind")]
