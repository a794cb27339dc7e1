"""Graph API errors as exception classes, chosen by error code (pywa's errors.py is the model).

`is_transient` is the one question the outbox asks: True means "the same request may succeed
later, retry with back-off"; False means "retrying as is cannot help". Codes we do not know
fall back to the HTTP status: 429 and 5xx are transient, other statuses are not.
"""

import json
from typing import Any, ClassVar

__all__ = [
    "InvalidParameter",
    "ReEngagementRequired",
    "ThroughputLimited",
    "TokenExpired",
    "TooManyToUser",
    "Undeliverable",
    "UnexpectedResponse",
    "UnknownError",
    "WhatsAppError",
    "WhatsAppUnavailable",
    "error_from_response",
]


class WhatsAppError(Exception):
    """An error from the Graph API, or from reaching it.

    Subclasses with a fixed answer set `transient`; the base class (unknown codes) decides
    from the HTTP status. `needs_attention` marks errors an operator must fix (log as alert).
    """

    codes: ClassVar[tuple[int, ...]] = ()
    transient: ClassVar[bool | None] = None
    needs_attention: ClassVar[bool] = False

    def __init__(
        self,
        code: int | None,
        message: str,
        details: str | None = None,
        http_status: int | None = None,
        fbtrace_id: str | None = None,
    ) -> None:
        super().__init__(code, message, details, http_status, fbtrace_id)
        self.code = code
        self.message = message
        self.details = details
        self.http_status = http_status
        self.fbtrace_id = fbtrace_id

    @property
    def is_transient(self) -> bool:
        if self.transient is not None:
            return self.transient
        status = self.http_status
        return status is not None and (status == 429 or status >= 500)

    def __str__(self) -> str:
        parts = [f"[{self.code}] {self.message}" if self.code is not None else self.message]
        if self.details:
            parts.append(self.details)
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        if self.fbtrace_id:
            parts.append(f"fbtrace_id={self.fbtrace_id}")
        return "; ".join(parts)


class ReEngagementRequired(WhatsAppError):
    """The 24-hour window is closed: only an approved template can reach this customer."""

    codes = (131047,)
    transient = False


class InvalidParameter(WhatsAppError):
    """The request is wrong (a limit exceeded, a field missing): sending it again fails again."""

    codes = (131009, 131008, 100)
    transient = False


class Undeliverable(WhatsAppError):
    """The number cannot receive the message (not on WhatsApp, old app, blocked us...)."""

    codes = (131026,)
    transient = False


class ThroughputLimited(WhatsAppError):
    """Our number, app or account is over its rate limit: slow down and retry."""

    # 4 (app-level) and 80007 (account-level) are rate limits too and heal the same way.
    codes = (130429, 4, 80007)
    transient = True


class TooManyToUser(WhatsAppError):
    """Too many messages to one customer in a short time: retry later."""

    codes = (131056,)
    transient = True


class UnknownError(WhatsAppError):
    """Meta's own 'unknown error': documented as worth a retry."""

    codes = (131000,)
    transient = True


class TokenExpired(WhatsAppError):
    """The access token is expired or revoked. Every send fails until an operator replaces it."""

    codes = (190,)
    transient = False
    needs_attention = True


class UnexpectedResponse(WhatsAppError):
    """A 2xx answer without a message id. Not retried: the message may well have been sent."""

    transient = False


class WhatsAppUnavailable(WhatsAppError):
    """No answer at all: connection failure or timeout. Retried, though a timed-out request may
    have been delivered (the Cloud API has no idempotency key)."""

    transient = True

    def __init__(self, message: str) -> None:
        super().__init__(None, message)


_BY_CODE: dict[int, type[WhatsAppError]] = {
    code: cls
    for cls in (
        ReEngagementRequired,
        InvalidParameter,
        Undeliverable,
        ThroughputLimited,
        TooManyToUser,
        UnknownError,
        TokenExpired,
    )
    for code in cls.codes
}


def error_from_response(status: int, body: bytes) -> WhatsAppError:
    """The exception for an error answer. Never raises, whatever the body holds."""
    error = _error_object(body)
    code = _as_int(error.get("code"))
    message = _as_str(error.get("message")) or _fallback_message(status, body)
    error_data = error.get("error_data")
    details = _as_str(error_data.get("details")) if isinstance(error_data, dict) else None
    cls = _BY_CODE.get(code, WhatsAppError) if code is not None else WhatsAppError
    return cls(code, message, details, status, _as_str(error.get("fbtrace_id")))


def _error_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:  # includes UnicodeDecodeError: proxies answer with HTML or nothing
        return {}
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return error if isinstance(error, dict) else {}


def _fallback_message(status: int, body: bytes) -> str:
    snippet = body[:200].decode("utf-8", errors="replace").strip()
    return f"HTTP {status}" + (f": {snippet}" if snippet else "")


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
