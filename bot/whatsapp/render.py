"""Render `flows` outgoing messages as Cloud API request bodies.

The limits were enforced when the message was built (flows/messages.py), so rendering is a pure
mapping: no checks, no I/O. Optional parts that are None are left out, not sent as null.
"""

from typing import Any

from flows.messages import (
    Button,
    OutgoingMessage,
    Section,
    SendButtons,
    SendCtaUrl,
    SendList,
    SendTemplate,
    SendText,
)

JsonObject = dict[str, Any]


def render_message(
    message: OutgoingMessage, *, phone: str | None, user_id: str | None
) -> JsonObject:
    """The JSON body for `POST /{phone_number_id}/messages`.

    Sent to `phone` when known; customers known only by a username get `recipient` (their
    business-scoped user id) instead of `to`.
    """
    return {**_envelope(phone, user_id), **_content(message)}


def render_mark_read(wamid: str, *, typing: bool = False) -> JsonObject:
    """The body that marks an inbound message as read (blue ticks) and, with `typing`, shows
    the customer the typing indicator until our reply arrives (or 25 seconds pass)."""
    body: JsonObject = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
    if typing:
        body["typing_indicator"] = {"type": "text"}
    return body


def _envelope(phone: str | None, user_id: str | None) -> JsonObject:
    body: JsonObject = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    if phone:
        body["to"] = phone
    elif user_id:
        body["recipient"] = user_id
    else:
        raise ValueError("a message needs a phone number or a business-scoped user id")
    return body


def _content(message: OutgoingMessage) -> JsonObject:
    if isinstance(message, SendText):
        text = {"body": message.body, "preview_url": message.preview_url}
        return {"type": "text", "text": text}
    if isinstance(message, SendButtons):
        action = {"buttons": [_reply_button(button) for button in message.buttons]}
        return _interactive("button", message, action)
    if isinstance(message, SendList):
        sections = [_section(section) for section in message.sections]
        return _interactive("list", message, {"button": message.button_label, "sections": sections})
    if isinstance(message, SendCtaUrl):
        parameters = {"display_text": message.display_text, "url": message.url}
        return _interactive("cta_url", message, {"name": "cta_url", "parameters": parameters})
    if isinstance(message, SendTemplate):
        return {"type": "template", "template": _template(message)}
    raise TypeError(f"cannot render {type(message).__name__}")  # a new kind needs a branch here


def _interactive(
    kind: str, message: SendButtons | SendList | SendCtaUrl, action: JsonObject
) -> JsonObject:
    interactive: JsonObject = {"type": kind}
    if message.header is not None:
        interactive["header"] = {"type": "text", "text": message.header}
    interactive["body"] = {"text": message.body}
    if message.footer is not None:
        interactive["footer"] = {"text": message.footer}
    interactive["action"] = action
    return {"type": "interactive", "interactive": interactive}


def _reply_button(button: Button) -> JsonObject:
    return {"type": "reply", "reply": {"id": button.id, "title": button.title}}


def _section(section: Section) -> JsonObject:
    rows: list[JsonObject] = []
    for row in section.rows:
        rendered: JsonObject = {"id": row.id, "title": row.title}
        if row.description is not None:
            rendered["description"] = row.description
        rows.append(rendered)
    return {"title": section.title, "rows": rows}


def _template(message: SendTemplate) -> JsonObject:
    template: JsonObject = {"name": message.name, "language": {"code": message.language}}
    if message.body_parameters:
        parameters = [{"type": "text", "text": text} for text in message.body_parameters]
        template["components"] = [{"type": "body", "parameters": parameters}]
    return template
