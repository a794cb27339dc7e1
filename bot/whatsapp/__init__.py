"""The WhatsApp Cloud API edge: webhook models and translation, rendering, the send client.

Typical use in a route: verify the signature (bot.signatures), then `read_webhook(raw)` for an
`InboundBatch` of flows events and delivery statuses. To send: `render_message(...)` and
`WhatsAppClient.send(...)`, which raises `WhatsAppError` subclasses with `is_transient`.
"""

from bot.whatsapp.client import WhatsAppClient
from bot.whatsapp.errors import (
    InvalidParameter,
    ReEngagementRequired,
    ThroughputLimited,
    TokenExpired,
    TooManyToUser,
    Undeliverable,
    UnexpectedResponse,
    UnknownError,
    WhatsAppError,
    WhatsAppUnavailable,
    error_from_response,
)
from bot.whatsapp.inbound import (
    ErrorInfo,
    InboundBatch,
    InboundMessage,
    InboundStatus,
    read_webhook,
    to_inbound_batch,
)
from bot.whatsapp.payload import MalformedWebhook, WebhookPayload, parse_webhook
from bot.whatsapp.render import render_mark_read, render_message

__all__ = [
    "ErrorInfo",
    "InboundBatch",
    "InboundMessage",
    "InboundStatus",
    "InvalidParameter",
    "MalformedWebhook",
    "ReEngagementRequired",
    "ThroughputLimited",
    "TokenExpired",
    "TooManyToUser",
    "Undeliverable",
    "UnexpectedResponse",
    "UnknownError",
    "WebhookPayload",
    "WhatsAppClient",
    "WhatsAppError",
    "WhatsAppUnavailable",
    "error_from_response",
    "parse_webhook",
    "read_webhook",
    "render_mark_read",
    "render_message",
    "to_inbound_batch",
]
