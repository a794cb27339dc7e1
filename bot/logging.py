"""structlog JSON to stdout: one line per event, phone numbers masked, message ids hashed,
secrets never logged."""

import hashlib
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from aiohttp.http_exceptions import HttpProcessingError

# Keys whose values are phone numbers or customer keys (a phone number or a business id).
_PHONE_KEYS = frozenset({"phone", "customer", "customer_key", "to", "recipient", "wa_id", "from"})
# Keys that must never reach a log line, whatever a caller passes.
_SECRET_KEYS = frozenset(
    {"token", "access_token", "secret", "app_secret", "key_secret", "password", "authorization"}
)
# Keys whose values are WhatsApp message ids. A wamid is base64 that embeds the customer's phone
# number (`wamid.HBgMOTE5ODEy...` is 919812...), so it is logged as a short hash instead.
_MESSAGE_ID_KEYS = frozenset({"wamid", "message_id", "context_id"})
_DIGITS = re.compile(r"\d")


def mask_phone(value: str) -> str:
    """`919812300001` → `91******0001`: enough to tell customers apart, not to call them."""
    if len(value) <= 6:
        return "*" * len(value)
    head, middle, tail = value[:2], value[2:-4], value[-4:]
    return head + _DIGITS.sub("*", middle) + tail if middle.isdigit() else head + "***" + tail


def short_hash(value: str) -> str:
    """A message id's stand-in in logs: the first 12 hex digits of its SHA-256. The same wamid
    always gives the same hash, so log lines about one message can still be matched."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _mask_sensitive(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event):
        lowered = key.lower()
        if lowered in _SECRET_KEYS:
            event[key] = "[redacted]"
        elif lowered in _PHONE_KEYS and isinstance(event[key], str):
            event[key] = mask_phone(event[key])
        elif lowered in _MESSAGE_ID_KEYS and isinstance(event[key], str):
            event[key] = short_hash(event[key])
    return event


class _CurrentStdout:
    """Writes to whatever `sys.stdout` is at the time of writing, so a logger configured once
    keeps working when stdout is swapped (test capture, a supervisor reopening it)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


class _StrangersAreNotErrors(logging.Filter):
    """aiohttp logs "Error handling request" at ERROR, with a traceback, for any malformed HTTP
    a client sends and for a client that hangs up mid-body: anyone on the internet could fill
    the log with pages at will. Those become one WARNING (or INFO) line, no traceback; errors
    of our own handlers keep their level and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            level = logging.WARNING  # a malformed request: worth seeing, not worth a page
        elif isinstance(error, ConnectionResetError):
            level = logging.INFO  # the client went away
        else:
            return True
        record.levelno, record.levelname = level, logging.getLevelName(level)
        record.msg = f"{record.getMessage()}: {type(error).__name__}: {str(error)[:200]}"
        record.args, record.exc_info, record.exc_text = None, None, None
        return level >= logging.getLogger().getEffectiveLevel()


def configure_logging(level: str = "INFO") -> None:
    """Configure structlog and route stdlib logging (aiohttp's) through the same JSON lines."""
    numeric = logging.getLevelName(level.upper())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _mask_sensitive,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(_CurrentStdout()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(_CurrentStdout())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    handler.addFilter(_StrangersAreNotErrors())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # One access-log line per webhook is noise at 1,000 requests a second; our own lines say more.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]
