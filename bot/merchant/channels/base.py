"""One small interface for every merchant channel: deliver one stored event, say how it went.

A channel returns `Delivered` or `Skipped`, or raises `ChannelError`: transient errors are
tried again on the schedule (bot/merchant/schedule.py), permanent ones end the delivery as
failed until someone sends it again.
"""

import json
from dataclasses import dataclass
from typing import Any, Protocol

from storage.repository import MerchantAlert


@dataclass(frozen=True, slots=True)
class Delivered:
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Skipped:
    """Nothing was sent, on purpose (an owner's 24-hour window is closed); not retried."""

    reason: str


Outcome = Delivered | Skipped


class ChannelError(Exception):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Channel(Protocol):
    @property
    def name(self) -> str:
        """The channel's key in the store: "webhook", "email", "telegram", "whatsapp:<phone>"."""

    async def deliver(self, alert: MerchantAlert) -> Outcome: ...

    async def close(self) -> None:
        """Let go of what the channel opened itself (most use the shared session: nothing)."""


def alert_data(alert: MerchantAlert) -> dict[str, Any]:
    """The event body's `data`, for channels that write text rather than send the JSON."""
    data = json.loads(alert.body)["data"]
    if not isinstance(data, dict):
        raise TypeError("merchant event body has no data object")
    return data
