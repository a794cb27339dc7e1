"""Pydantic models of the WhatsApp Cloud API `messages` webhook.

Strict where the bot relies on a field (ids, types, the parts of a message we translate),
lenient everywhere else: every model keeps fields it does not declare (`extra="allow"`), because
Meta adds fields without notice and a new field must never cost us a delivery. Keeping them
also lets a message be dumped back to JSON whole, for the record.

Changes for other webhook fields (template status, account updates, ...) are kept as
`OtherChange` with an opaque value rather than rejected.
"""

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
)

from bot.finite_json import check_finite_numbers
from flows.cart import MAX_CATALOG_ORDER_ITEMS


class MalformedWebhook(ValueError):
    """The body is not a WhatsApp Business Account webhook we can read."""


class _Model(BaseModel):
    # coerce_numbers_to_str: an id or timestamp sent as a JSON number is still that id.
    # allow_inf_nan=False: a float field given a 400-digit integer is not infinity either.
    model_config = ConfigDict(
        extra="allow", frozen=True, coerce_numbers_to_str=True, allow_inf_nan=False
    )


# --- message parts -----------------------------------------------------------------------------


class Context(_Model):
    """Present when the customer replied to, or tapped a button on, one of our messages."""

    from_: str | None = Field(default=None, alias="from")
    id: str | None = None


class Text(_Model):
    body: str


class ButtonReply(_Model):
    id: str
    title: str = ""


class ListReply(_Model):
    id: str
    title: str = ""
    description: str | None = None


class Interactive(_Model):
    type: str
    button_reply: ButtonReply | None = None
    list_reply: ListReply | None = None
    # nfm_reply (WhatsApp Flows) is kept as an extra field: we do not use Flows.


class TemplateButton(_Model):
    """A tap on a template's quick-reply button; `payload` is what we set on the template."""

    payload: str
    text: str = ""


class ProductItem(_Model):
    product_retailer_id: str
    quantity: int
    # item_price and currency are deliberately not declared: the price in a customer's cart
    # message is never trusted for money. They stay in the raw record as extras.


def _lines_read(value: Any) -> Any:
    # The state machine reads MAX_CATALOG_ORDER_ITEMS lines of an order; one more tells it there
    # were more. Validating (and later storing) every line of a 60,000-line order held the
    # event loop for over a second, so the rest is dropped here, unvalidated and unrecorded.
    return value[: MAX_CATALOG_ORDER_ITEMS + 1] if isinstance(value, list) else value


class Order(_Model):
    catalog_id: str = ""
    text: str | None = None
    product_items: Annotated[list[ProductItem], BeforeValidator(_lines_read)]


class Location(_Model):
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


class Media(_Model):
    """image, audio, video, document or sticker: only the caption matters to the bot."""

    id: str | None = None
    mime_type: str | None = None
    caption: str | None = None


class Reaction(_Model):
    message_id: str  # the wamid of the message reacted to
    emoji: str | None = None  # absent when the reaction is removed


class ErrorData(_Model):
    details: str = ""


class WebhookError(_Model):
    """An error inside a webhook: on a message, a failed status, or the whole value."""

    code: int
    title: str = ""
    message: str = ""
    error_data: ErrorData | None = None


class Message(_Model):
    """One inbound message. `from` is absent for customers known only by a username."""

    id: str
    type: str
    timestamp: str
    from_: str | None = Field(default=None, alias="from")
    from_user_id: str | None = None
    context: Context | None = None
    text: Text | None = None
    interactive: Interactive | None = None
    button: TemplateButton | None = None
    order: Order | None = None
    location: Location | None = None
    image: Media | None = None
    audio: Media | None = None
    video: Media | None = None
    document: Media | None = None
    sticker: Media | None = None
    reaction: Reaction | None = None
    errors: list[WebhookError] = []


class Status(_Model):
    """A delivery status for a message we sent (or a WhatsApp Pay status, `type="payment"`)."""

    id: str
    status: str
    timestamp: str | None = None
    recipient_id: str | None = None
    recipient_user_id: str | None = None
    type: str | None = None
    errors: list[WebhookError] = []


# --- envelope ----------------------------------------------------------------------------------


class Profile(_Model):
    name: str | None = None


class Contact(_Model):
    wa_id: str | None = None
    user_id: str | None = None
    profile: Profile | None = None


class Metadata(_Model):
    display_phone_number: str
    phone_number_id: str


class Value(_Model):
    messaging_product: str
    metadata: Metadata
    contacts: list[Contact] = []
    messages: list[Message] = []
    statuses: list[Status] = []
    errors: list[WebhookError] = []


class UserPreference(_Model):
    """One entry of the `user_preferences` webhook: the customer stopped or resumed marketing
    messages from this business (category `marketing_messages`, value `stop` | `resume`)."""

    wa_id: str | None = None
    user_id: str | None = None
    category: str
    value: str
    detail: str = ""
    timestamp: str | None = None


class PreferencesValue(_Model):
    """The value of a `user_preferences` change. Read from an `OtherChange`'s value, so a shape
    we do not expect is logged and acknowledged rather than failing the whole delivery."""

    metadata: Metadata
    contacts: list[Contact] = []
    user_preferences: list[UserPreference] = []


class MessagesChange(_Model):
    field: Literal["messages"]
    value: Value


class OtherChange(_Model):
    """A change for a webhook field the bot does not handle; its value is not inspected."""

    field: str
    value: Any = None


def _change_kind(change: Any) -> str:
    field = change.get("field") if isinstance(change, dict) else getattr(change, "field", None)
    return "messages" if field == "messages" else "other"


# Decide by `field` first, so a malformed `messages` change is an error, not an OtherChange.
Change = Annotated[
    Annotated[MessagesChange, Tag("messages")] | Annotated[OtherChange, Tag("other")],
    Discriminator(_change_kind),
]


class Entry(_Model):
    id: str
    changes: list[Change]


class WebhookPayload(_Model):
    object: Literal["whatsapp_business_account"]
    entry: list[Entry]


def _describe(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    if first["type"] == "json_invalid":
        return "body is not valid JSON"
    where = ".".join(str(part) for part in first["loc"]) or "body"
    more = error.error_count() - 1
    suffix = f" (and {more} more)" if more else ""
    return f"{where}: {first['msg']}{suffix}"


def parse_webhook(raw: bytes) -> WebhookPayload:
    """Parse a webhook body straight from its raw bytes, or raise `MalformedWebhook`."""
    try:
        payload = WebhookPayload.model_validate_json(raw)
    except ValidationError as error:
        # `from None`: pydantic's error quotes input values, which are customers' messages.
        raise MalformedWebhook(f"not a WhatsApp webhook: {_describe(error)}") from None
    try:
        check_finite_numbers(raw)  # anywhere: extra fields are kept and stored too
    except ValueError as error:
        raise MalformedWebhook(f"not a WhatsApp webhook: {error}") from None
    return payload
