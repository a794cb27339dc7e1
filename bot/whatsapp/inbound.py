"""Translate a parsed webhook into `flows` events, customers and delivery statuses.

Every entry, change, message and status is visited: Meta batches up to 1000 updates in one POST,
and reading only the first of each drops customers' messages. A message we cannot translate
becomes `UnsupportedReceived`, never an exception, so one odd message cannot cost the rest of
the batch.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
import structlog
from pydantic import ValidationError

from bot.whatsapp.payload import (
    MESSAGE_PARTS,
    PREFERENCES_VALUE,
    Contact,
    Media,
    Message,
    MessagesChange,
    OtherChange,
    Status,
    Value,
    WebhookError,
    WebhookPayload,
    parse_webhook,
)
from flows.events import (
    ButtonPressed,
    CatalogOrderReceived,
    CustomerEvent,
    ListRowPicked,
    LocationReceived,
    MediaReceived,
    OrderedItem,
    ReactionReceived,
    TextReceived,
    UnsupportedReceived,
)
from flows.state import Customer

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """An error Meta reports inside a webhook (on a failed status, or for the whole value)."""

    code: int
    title: str = ""
    message: str = ""
    details: str = ""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    wamid: str
    customer: Customer
    event: CustomerEvent
    raw: str  # this message's JSON, compact, for the record
    timestamp: int  # Unix seconds; 0 if Meta sent something unreadable
    phone_number_id: str  # which of our business numbers received it


@dataclass(frozen=True, slots=True)
class InboundStatus:
    wamid: str
    status: str  # sent, delivered, read, failed, played, ...
    recipient: str | None  # phone number, else business-scoped user id
    timestamp: int | None
    errors: tuple[ErrorInfo, ...] = ()


@dataclass(frozen=True, slots=True)
class InboundPreference:
    """The customer stopped (or resumed) marketing messages: Meta's `user_preferences`."""

    customer: Customer
    stopped: bool
    raw: str  # this entry's JSON, compact, for the record
    timestamp: int  # Unix seconds; 0 if Meta sent something unreadable
    dedupe_key: str


@dataclass(slots=True)
class InboundBatch:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[InboundStatus] = field(default_factory=list)
    errors: list[ErrorInfo] = field(default_factory=list)  # value-level errors
    preferences: list[InboundPreference] = field(default_factory=list)
    # Changes for other webhook fields, WhatsApp Pay statuses (not ours: we use Razorpay links)
    # and messages without any sender id: acknowledged, not acted on.
    ignored: int = 0
    # Business numbers other than ours that values in this batch were addressed to; those
    # values are skipped whole (acknowledged, not processed, not answered).
    other_numbers: list[str] = field(default_factory=list)


def read_webhook(raw: bytes, phone_number_id: str | None = None) -> InboundBatch:
    """Parse and translate a verified webhook body. Raises `MalformedWebhook`."""
    return to_inbound_batch(parse_webhook(raw), phone_number_id)


def to_inbound_batch(payload: WebhookPayload, phone_number_id: str | None = None) -> InboundBatch:
    """Every message, status and value-level error of a parsed webhook. Never raises.

    With `phone_number_id` (our business number's id), values addressed to another number
    of the same app are left out and named in `other_numbers`: one app can hold several
    numbers, and answering another shop's customers from ours would be wrong twice over."""
    batch = InboundBatch()
    for entry in payload["entry"]:
        for change in entry["changes"]:
            if change["field"] == USER_PREFERENCES:
                _add_preferences(batch, change.get("value"), phone_number_id)
                continue
            if change["field"] != "messages":
                batch.ignored += 1
                continue
            value = _messages_value(change)
            number = value["metadata"]["phone_number_id"]
            if phone_number_id is not None and number != phone_number_id:
                batch.other_numbers.append(number)
            else:
                _add_value(batch, value)
    return batch


def _messages_value(change: MessagesChange | OtherChange) -> Value:
    """The value of a change whose `field` is "messages": the discriminator validated it as a
    `MessagesChange` (an `OtherChange` never has that field)."""
    return cast(Value, change["value"])


def _add_value(batch: InboundBatch, value: Value) -> None:
    contacts = _ContactBook(value.get("contacts", ()))
    phone_number_id = value["metadata"]["phone_number_id"]
    for message in value.get("messages", ()):
        customer = contacts.customer_for(message)
        if customer is None:
            log.warning("whatsapp.message_without_sender", wamid=message["id"])
            batch.ignored += 1
            continue
        batch.messages.append(
            InboundMessage(
                wamid=message["id"],
                customer=customer,
                event=to_event(message),
                raw=compact_json(message),
                timestamp=_unix(message["timestamp"]) or 0,
                phone_number_id=phone_number_id,
            )
        )
    for status in value.get("statuses", ()):
        if status.get("type") == "payment":
            batch.ignored += 1
        else:
            batch.statuses.append(_status(status))
    batch.errors.extend(_error_infos(value.get("errors", ())))


def compact_json(part: Any) -> str:
    """A validated part of the webhook as compact JSON, for the record: the keys Meta sent (ids
    and timestamps as strings), extras included. orjson writes it; a number orjson cannot hold
    (an integer past 64 bits, in some extra key) leaves it to the standard library."""
    try:
        return orjson.dumps(part).decode()
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(part, separators=(",", ":"), ensure_ascii=False)


USER_PREFERENCES = "user_preferences"
MARKETING = "marketing_messages"
_PREFERENCE_VALUES = {"stop": True, "resume": False}


def _add_preferences(batch: InboundBatch, raw_value: Any, phone_number_id: str | None) -> None:
    """Marketing stop/resume, one per entry; anything else in the change is acknowledged."""
    try:
        value = PREFERENCES_VALUE.validate_python(raw_value)
    except ValidationError:
        log.warning("whatsapp.unreadable_user_preferences")
        batch.ignored += 1
        return
    number = value["metadata"]["phone_number_id"]
    if phone_number_id is not None and number != phone_number_id:
        batch.other_numbers.append(number)
        return
    contacts = {c["wa_id"]: c for c in value.get("contacts", ()) if c.get("wa_id")}
    for preference in value.get("user_preferences", ()):
        stopped = _PREFERENCE_VALUES.get(preference["value"])
        wa_id = preference.get("wa_id")
        user_id = preference.get("user_id")
        key = user_id or wa_id
        if preference["category"] != MARKETING or stopped is None or key is None:
            log.info(
                "whatsapp.user_preference_ignored",
                category=preference["category"],
                value=preference["value"],
            )
            batch.ignored += 1
            continue
        name = _name_of(contacts.get(wa_id or ""))
        timestamp = _unix(preference.get("timestamp")) or 0
        batch.preferences.append(
            InboundPreference(
                customer=Customer(key=key, phone=wa_id, user_id=user_id, name=name or None),
                stopped=stopped,
                raw=compact_json(preference),
                timestamp=timestamp,
                dedupe_key=f"whatsapp_preference:{key}:{preference['value']}:{timestamp}",
            )
        )


# --- who sent it -------------------------------------------------------------------------------


class _ContactBook:
    """The value's contacts, looked up by business-scoped user id or by phone number."""

    def __init__(self, contacts: Iterable[Contact]) -> None:
        self._by_user_id: dict[str, Contact] = {}
        self._by_phone: dict[str, Contact] = {}
        for contact in contacts:
            user_id, wa_id = contact.get("user_id"), contact.get("wa_id")
            if user_id:
                self._by_user_id.setdefault(user_id, contact)
            if wa_id:
                self._by_phone.setdefault(wa_id, contact)

    def find(self, message: Message) -> Contact | None:
        from_user_id, from_ = message.get("from_user_id"), message.get("from")
        if from_user_id and from_user_id in self._by_user_id:
            return self._by_user_id[from_user_id]
        if from_:
            return self._by_phone.get(from_)
        return None

    def customer_for(self, message: Message) -> Customer | None:
        """Keyed on the business-scoped id when known, else the phone; None if neither."""
        contact = self.find(message)
        user_id = message.get("from_user_id") or (contact.get("user_id") if contact else None)
        phone = message.get("from") or (contact.get("wa_id") if contact else None)
        key = user_id or phone
        if key is None:
            return None
        return Customer(key=key, phone=phone, user_id=user_id, name=_name_of(contact) or None)


def _name_of(contact: Contact | None) -> str | None:
    profile = contact.get("profile") if contact else None
    return profile.get("name") if profile else None


# --- what they sent ----------------------------------------------------------------------------


def to_event(message: Message) -> CustomerEvent:
    """The flows event for one message; `UnsupportedReceived` for anything else."""
    kind = message["type"]
    translator = _TRANSLATORS.get(kind)
    event: CustomerEvent | None = None
    if translator is not None:
        try:
            event = translator(message)
        except Exception:  # broad on purpose: one odd message must not drop the batch
            log.exception("whatsapp.untranslatable_message", wamid=message["id"], type=kind)
    if event is None:
        event = UnsupportedReceived(message_id=message["id"], message_type=_type_name(message))
    return event


def _type_name(message: Message) -> str:
    """`type`, refined by its sub-type when there is one, e.g. `unsupported.poll_creation`."""
    kind = message["type"]
    interactive = message.get("interactive")
    if interactive is not None:
        detail: object = interactive["type"]
    else:
        # Only an undeclared part says what it is: a declared one (text, order, ...) would
        # have been translated.
        part = None if kind in MESSAGE_PARTS else message.get(kind)
        detail = part.get("type") if isinstance(part, dict) else None
    return f"{kind}.{detail}" if isinstance(detail, str) and detail else kind


def _text(message: Message) -> CustomerEvent | None:
    text = message.get("text")
    if text is None:
        return None
    return TextReceived(message_id=message["id"], text=text["body"])


def _interactive(message: Message) -> CustomerEvent | None:
    interactive = message.get("interactive")
    if interactive is None:
        return None
    kind = interactive["type"]
    reply = interactive.get("button_reply")
    if kind == "button_reply" and reply:
        return ButtonPressed(
            message_id=message["id"], button_id=reply["id"], title=reply.get("title", "")
        )
    row = interactive.get("list_reply")
    if kind == "list_reply" and row:
        return ListRowPicked(message_id=message["id"], row_id=row["id"], title=row.get("title", ""))
    return None  # nfm_reply (Flows) and anything newer


def _template_button(message: Message) -> CustomerEvent | None:
    # A template quick reply may come without `context` (pywa PR #216): the payload suffices.
    button = message.get("button")
    if button is None:
        return None
    return ButtonPressed(
        message_id=message["id"], button_id=button["payload"], title=button.get("text", "")
    )


def _order(message: Message) -> CustomerEvent | None:
    order = message.get("order")
    if order is None:
        return None
    items = tuple(
        OrderedItem(product_id=item["product_retailer_id"], quantity=item["quantity"])
        for item in order["product_items"]
    )
    return CatalogOrderReceived(
        message_id=message["id"],
        catalog_id=order.get("catalog_id", ""),
        items=items,
        note=order.get("text") or "",
    )


def _location(message: Message) -> CustomerEvent | None:
    place = message.get("location")
    if place is None:
        return None
    return LocationReceived(
        message_id=message["id"],
        latitude=place["latitude"],
        longitude=place["longitude"],
        name=place.get("name") or "",
        address=place.get("address") or "",
    )


_MEDIA_KINDS = ("image", "audio", "video", "document", "sticker")


def _media_part(message: Message) -> Media | None:
    kind = message["type"]
    return cast("Media | None", message.get(kind)) if kind in _MEDIA_KINDS else None


def _media(message: Message) -> CustomerEvent | None:
    # The media object itself is not needed: the flow only learns that media arrived.
    part = _media_part(message)
    caption = part.get("caption") if part is not None else None
    return MediaReceived(
        message_id=message["id"], media_type=message["type"], caption=caption or ""
    )


def _reaction(message: Message) -> CustomerEvent | None:
    reaction = message.get("reaction")
    if reaction is None:
        return None
    # No emoji (or an empty one) means the customer removed their reaction.
    return ReactionReceived(message_id=message["id"], emoji=reaction.get("emoji") or None)


_TRANSLATORS: dict[str, Callable[[Message], CustomerEvent | None]] = {
    "text": _text,
    "interactive": _interactive,
    "button": _template_button,
    "order": _order,
    "location": _location,
    "image": _media,
    "audio": _media,
    "video": _media,
    "document": _media,
    "sticker": _media,
    "reaction": _reaction,
}


# --- statuses and errors -----------------------------------------------------------------------


def _status(status: Status) -> InboundStatus:
    return InboundStatus(
        wamid=status["id"],
        status=status["status"],
        recipient=status.get("recipient_id") or status.get("recipient_user_id"),
        timestamp=_unix(status.get("timestamp")),
        errors=tuple(_error_infos(status.get("errors", ()))),
    )


def _error_infos(errors: Iterable[WebhookError]) -> list[ErrorInfo]:
    infos = []
    for error in errors:
        data = error.get("error_data")
        infos.append(
            ErrorInfo(
                code=error["code"],
                title=error.get("title", ""),
                message=error.get("message", ""),
                details=data.get("details", "") if data else "",
            )
        )
    return infos


def _unix(timestamp: str | None) -> int | None:
    try:
        return int(timestamp) if timestamp is not None else None
    except ValueError:
        return None
