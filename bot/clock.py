"""Time and ids, injected so tests control them."""

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]
OrderIdFactory = Callable[[], str]


def system_clock() -> float:
    return time.time()


class AdjustableClock:
    """A clock that can be moved forward, never back: the sandbox's fast-forward, so a person
    sees a reminder due in 20 hours arrive now. Live mode never uses one."""

    def __init__(self, base: Clock = system_clock) -> None:
        self._base = base
        self.offset = 0.0

    def __call__(self) -> float:
        return self._base() + self.offset

    def advance(self, seconds: float) -> None:
        if not seconds > 0:
            raise ValueError("the clock only moves forward")
        self.offset += seconds


def new_order_id() -> str:
    """`ORD-20261122-3F9A1C2B5D7E`: readable on a phone, unique, ≤ 40 chars for Razorpay.

    The runner asks for one on every step (the machine uses it only when an order is placed),
    so the day's text is kept until the UTC day changes rather than formatted each time."""
    return f"ORD-{utc_day(time.time())}-{secrets.token_hex(6).upper()}"


SECONDS_PER_DAY = 86_400
_day_text: tuple[int, str] = (-1, "")  # the UTC day number and its YYYYMMDD


def utc_day(now: float) -> str:
    """`now` (Unix seconds) as its UTC day, `YYYYMMDD`."""
    global _day_text  # a one-entry cache, swapped whole
    day = int(now // SECONDS_PER_DAY)
    if day != _day_text[0]:
        text = datetime.fromtimestamp(day * SECONDS_PER_DAY, UTC).strftime("%Y%m%d")
        _day_text = (day, text)
    return _day_text[1]
