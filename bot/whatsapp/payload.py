"""The WhatsApp Cloud API `messages` webhook, as typed dicts checked by pydantic.

Strict where the bot relies on a field (ids, types, the parts of a message we translate),
lenient everywhere else: every part keeps keys it does not declare (`extra="allow"`), because
Meta adds fields without notice and a new field must never cost us a delivery. Keeping them
also lets a message be written back to JSON whole, for the record.

Typed dicts rather than models: one webhook is ten to twenty objects, and pydantic checks a
dict's keys in a fraction of the time it takes to build a model for each (CPU per message is
what the bot's throughput is made of). A key that is `NotRequired` is absent when Meta left it
out; read it with `.get`.

Changes for other webhook fields (template status, account updates, ...) are kept as
`OtherChange` with an opaque value rather than rejected.
"""

from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Tag,
    TypeAdapter,
    ValidationError,
    with_config,
)
from typing_extensions import TypedDict

from bot.storable_json import check_storable
from flows.cart import MAX_CATALOG_ORDER_ITEMS


class MalformedWebhook(ValueError):
    """The body is not a WhatsApp Business Account webhook we can read."""


# coerce_numbers_to_str: an id or timestamp sent as a JSON number is still that id.
# allow_inf_nan=False: a float field given a 400-digit integer is not infinity either.
_LENIENT = ConfigDict(extra="allow", coerce_numbers_to_str=True, allow_inf_nan=False)


# --- message parts -----------------------------------------------------------------------------


# Present when the customer replied to, or tapped a button on, one of our messages.
Context = TypedDict("Context", {"from": NotRequired[str | None], "id": NotRequired[str | None]})
Context.__pydantic_config__ = _LENIENT  # type: ignore[attr-defined]


@with_config(_LENIENT)
class Text(TypedDict):
    body: str


@with_config(_LENIENT)
class ButtonReply(TypedDict):
    id: str
    title: NotRequired[str]


@with_config(_LENIENT)
class ListReply(TypedDict):
    id: str
    title: NotRequired[str]
    description: NotRequired[str | None]


@with_config(_LENIENT)
class Interactive(TypedDict):
    type: str
    button_reply: NotRequired[ButtonReply | None]
    list_reply: NotRequired[ListReply | None]
    # nfm_reply (WhatsApp Flows) is kept as an extra key: we do not use Flows.


@with_config(_LENIENT)
class TemplateButton(TypedDict):
    """A tap on a template's quick-reply button; `payload` is what we set on the template."""

    payload: str
    text: NotRequired[str]


@with_config(_LENIENT)
class ProductItem(TypedDict):
    product_retailer_id: str
    quantity: int
    # item_price and currency are deliberately not declared: the price in a customer's cart
    # message is never trusted for money. They stay in the raw record as extras.


def _lines_read(value: Any) -> Any:
    # The state machine reads MAX_CATALOG_ORDER_ITEMS lines of an order; one more tells it there
    # were more. Validating (and later storing) every line of a 60,000-line order held the
    # event loop for over a second, so the rest is dropped here, unvalidated and unrecorded.
    return value[: MAX_CATALOG_ORDER_ITEMS + 1] if isinstance(value, list) else value


@with_config(_LENIENT)
class Order(TypedDict):
    catalog_id: NotRequired[str]
    text: NotRequired[str | None]
    product_items: Annotated[list[ProductItem], BeforeValidator(_lines_read)]


@with_config(_LENIENT)
class Location(TypedDict):
    latitude: float
    longitude: float
    name: NotRequired[str | None]
    address: NotRequired[str | None]


@with_config(_LENIENT)
class Media(TypedDict):
    """image, audio, video, document or sticker: only the caption matters to the bot."""

    id: NotRequired[str | None]
    mime_type: NotRequired[str | None]
    caption: NotRequired[str | None]


@with_config(_LENIENT)
class Reaction(TypedDict):
    message_id: str  # the wamid of the message reacted to
    emoji: NotRequired[str | None]  # absent when the reaction is removed


@with_config(_LENIENT)
class ErrorData(TypedDict):
    details: NotRequired[str]


@with_config(_LENIENT)
class WebhookError(TypedDict):
    """An error inside a webhook: on a message, a failed status, or the whole value."""

    code: int
    title: NotRequired[str]
    message: NotRequired[str]
    error_data: NotRequired[ErrorData | None]


# One inbound message. `from` is absent for customers known only by a username.
Message = TypedDict(
    "Message",
    {
        "id": str,
        "type": str,
        "timestamp": str,
        "from": NotRequired[str | None],
        "from_user_id": NotRequired[str | None],
        "context": NotRequired[Context | None],
        "text": NotRequired[Text | None],
        "interactive": NotRequired[Interactive | None],
        "button": NotRequired[TemplateButton | None],
        "order": NotRequired[Order | None],
        "location": NotRequired[Location | None],
        "image": NotRequired[Media | None],
        "audio": NotRequired[Media | None],
        "video": NotRequired[Media | None],
        "document": NotRequired[Media | None],
        "sticker": NotRequired[Media | None],
        "reaction": NotRequired[Reaction | None],
        "errors": NotRequired[list[WebhookError]],
    },
)
Message.__pydantic_config__ = _LENIENT  # type: ignore[attr-defined]
# The parts a message may declare; any other key named like its `type` is an extra.
MESSAGE_PARTS = frozenset(
    {"context", "text", "interactive", "button", "order", "location", "reaction"}
    | {"image", "audio", "video", "document", "sticker", "errors"}
)


@with_config(_LENIENT)
class Status(TypedDict):
    """A delivery status for a message we sent (or a WhatsApp Pay status, `type="payment"`)."""

    id: str
    status: str
    timestamp: NotRequired[str | None]
    recipient_id: NotRequired[str | None]
    recipient_user_id: NotRequired[str | None]
    type: NotRequired[str | None]
    errors: NotRequired[list[WebhookError]]


# --- envelope ----------------------------------------------------------------------------------


@with_config(_LENIENT)
class Profile(TypedDict):
    name: NotRequired[str | None]


@with_config(_LENIENT)
class Contact(TypedDict):
    wa_id: NotRequired[str | None]
    user_id: NotRequired[str | None]
    profile: NotRequired[Profile | None]


@with_config(_LENIENT)
class Metadata(TypedDict):
    display_phone_number: str
    phone_number_id: str


@with_config(_LENIENT)
class Value(TypedDict):
    messaging_product: str
    metadata: Metadata
    contacts: NotRequired[list[Contact]]
    messages: NotRequired[list[Message]]
    statuses: NotRequired[list[Status]]
    errors: NotRequired[list[WebhookError]]


@with_config(_LENIENT)
class UserPreference(TypedDict):
    """One entry of the `user_preferences` webhook: the customer stopped or resumed marketing
    messages from this business (category `marketing_messages`, value `stop` | `resume`)."""

    wa_id: NotRequired[str | None]
    user_id: NotRequired[str | None]
    category: str
    value: str
    detail: NotRequired[str]
    timestamp: NotRequired[str | None]


@with_config(_LENIENT)
class PreferencesValue(TypedDict):
    """The value of a `user_preferences` change. Read from an `OtherChange`'s value, so a shape
    we do not expect is logged and acknowledged rather than failing the whole delivery."""

    metadata: Metadata
    contacts: NotRequired[list[Contact]]
    user_preferences: NotRequired[list[UserPreference]]


PREFERENCES_VALUE: TypeAdapter[PreferencesValue] = TypeAdapter(PreferencesValue)


@with_config(_LENIENT)
class MessagesChange(TypedDict):
    field: Literal["messages"]
    value: Value


@with_config(_LENIENT)
class OtherChange(TypedDict):
    """A change for a webhook field the bot does not handle; its value is not inspected."""

    field: str
    value: NotRequired[Any]


def _change_kind(change: Any) -> str:
    field = change.get("field") if isinstance(change, dict) else None
    return "messages" if field == "messages" else "other"


# Decide by `field` first, so a malformed `messages` change is an error, not an OtherChange.
Change = Annotated[
    Annotated[MessagesChange, Tag("messages")] | Annotated[OtherChange, Tag("other")],
    Discriminator(_change_kind),
]


@with_config(_LENIENT)
class Entry(TypedDict):
    id: str
    changes: list[Change]


@with_config(_LENIENT)
class WebhookPayload(TypedDict):
    object: Literal["whatsapp_business_account"]
    entry: list[Entry]


_PAYLOAD: TypeAdapter[WebhookPayload] = TypeAdapter(WebhookPayload)


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
        payload = _PAYLOAD.validate_json(raw)
    except ValidationError as error:
        # `from None`: pydantic's error quotes input values, which are customers' messages.
        raise MalformedWebhook(f"not a WhatsApp webhook: {_describe(error)}") from None
    try:
        check_storable(raw)  # anywhere: extra fields are kept and stored too
    except ValueError as error:
        raise MalformedWebhook(f"not a WhatsApp webhook: {error}") from None
    return payload
