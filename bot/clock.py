"""Time and ids, injected so tests control them."""

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]
OrderIdFactory = Callable[[], str]


def system_clock() -> float:
    return time.time()


def new_order_id() -> str:
    """`ORD-20261122-3F9A1C2B5D7E`: readable on a phone, unique, ≤ 40 chars for Razorpay."""
    day = datetime.now(UTC).strftime("%Y%m%d")
    return f"ORD-{day}-{secrets.token_hex(6).upper()}"
