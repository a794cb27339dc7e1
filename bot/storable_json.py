"""Refusing what a webhook body may hold but a database cannot keep.

Numbers that are not finite: `NaN`, `Infinity`, `-Infinity`, and `1e999`. None of them is
JSON (RFC 8259), yet Python's json module and pydantic accept all four, and they come back out
as `null`: a signed location with `"latitude": 1e999` was stored as `latitude: null` and could
never be read back.

The NUL character (`\\u0000`) in a string. It is valid JSON, but Postgres text cannot hold it,
so a sender id or message id carrying one failed every insert (a 500, redelivered for days).
No WhatsApp or payment provider message carries one.

Every webhook parser checks a body with `check_storable` after it validated, so such a body is
a 400 and nothing is stored.
"""

import json
import math


class NonFiniteNumber(ValueError):
    """A number in the body is NaN, an infinity, or too large for a float."""


def _refuse_constant(name: str) -> float:
    raise NonFiniteNumber(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NonFiniteNumber(f"the number {text[:24]} is too large")
    return value


class NulCharacter(ValueError):
    """A string in the body holds the NUL character."""


def check_storable(raw: bytes) -> None:
    """Raise ValueError (`NonFiniteNumber`, `NulCharacter`) unless every number in `raw` is
    finite and no string holds a NUL. The number hooks run only for NaN/Infinity and numbers
    with a fraction or an exponent, and strings are walked only when the bytes spell `\\u0000`
    somewhere, so a webhook of a few kilobytes costs microseconds."""
    body = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    if b"\\u0000" in raw and _holds_nul(body):
        raise NulCharacter("a string holds the NUL character (\\u0000)")


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False
