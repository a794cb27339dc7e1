"""Refusing JSON numbers that are not finite: `NaN`, `Infinity`, `-Infinity`, and `1e999`.

None of them is JSON (RFC 8259), yet Python's json module and pydantic accept all four, and
they come back out as `null`: a signed location with `"latitude": 1e999` was stored as
`latitude: null` and could never be read back. Both webhook parsers check a body with this
after it validated, so such a body is a 400 and nothing is stored.
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


def check_finite_numbers(raw: bytes) -> None:
    """Raise ValueError (`NonFiniteNumber` for the case at hand) unless every number in `raw`
    is finite. The hooks run only for NaN/Infinity and for numbers with a fraction or an
    exponent, so a webhook of a few kilobytes costs microseconds."""
    json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
