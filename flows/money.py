"""Money as integer paise. Never floats: ₹0.10 + ₹0.20 must be ₹0.30."""

from decimal import Decimal, InvalidOperation

PAISE_PER_RUPEE = 100


class InvalidPrice(ValueError):
    """A price string that is not a non-negative rupee amount with at most two decimals."""


def parse_rupees(text: str) -> int:
    """`"249.00"` → `24900`. Accepts at most two decimals; rejects negatives, NaN and exponents."""
    raw = text.strip()
    if not raw or any(ch not in "0123456789." for ch in raw) or raw.count(".") > 1:
        raise InvalidPrice(f"{text!r} is not a rupee amount like 249.00")
    try:
        amount = Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the character check above catches these
        raise InvalidPrice(f"{text!r} is not a rupee amount like 249.00") from exc
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise InvalidPrice(f"{text!r} has more than 2 decimals")
    return int(amount * PAISE_PER_RUPEE)


def format_inr(paise: int) -> str:
    """`149900` → `"₹1,499.00"`, `14999900` → `"₹1,49,999.00"` (Indian digit grouping)."""
    sign = "-" if paise < 0 else ""
    rupees, fraction = divmod(abs(paise), PAISE_PER_RUPEE)
    digits = str(rupees)
    if len(digits) > 3:
        head, tail = digits[:-3], digits[-3:]
        groups: list[str] = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        if head:
            groups.insert(0, head)
        digits = ",".join([*groups, tail])
    return f"{sign}₹{digits}.{fraction:02d}"
