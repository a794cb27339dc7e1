"""Money as integer minor units of the shop's currency. Never floats: ₹0.10 + ₹0.20 is ₹0.30.

How many minor units a currency has (its exponent: 2 for INR, 0 for JPY, 3 for KWD) and how an
amount is written for people (`₹1,49,999.00`, `￥1,000`, `1.250 د.ك.`) come from Babel's copy of
the Unicode CLDR data, not from a table of our own. Formatting is a pure function, so the state
machine uses it too.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.core import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision, is_currency

DEFAULT_CURRENCY = "INR"
DEFAULT_LOCALE = "en_IN"
PAISE_PER_RUPEE = 100


class InvalidPrice(ValueError):
    """A price string that is not a non-negative amount with at most the currency's decimals."""


class UnknownCurrency(ValueError):
    """Not an ISO 4217 currency code Babel knows."""


def check_currency(code: str) -> str:
    """The code if it names a currency (`"INR"`, `"JPY"`, `"KWD"`); raises UnknownCurrency."""
    if not (len(code) == 3 and code.isascii() and code.isupper() and is_currency(code)):
        raise UnknownCurrency(
            f"{code!r} is not a currency code: write the three capital letters of ISO 4217, "
            'like "INR", "USD" or "JPY"'
        )
    return code


def check_locale(name: str) -> str:
    """The locale if Babel has its formats (`"en_IN"`, `"ja_JP"`); raises ValueError."""
    try:
        Locale.parse(name)
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise ValueError(
            f"{name!r} is not a locale Babel knows: write a language and country, like "
            '"en_IN", "en_US" or "ja_JP"'
        ) from exc
    return name


@lru_cache(maxsize=64)
def exponent(currency: str) -> int:
    """Minor units per major unit, as a power of ten: INR 2, JPY 0, KWD 3."""
    return int(get_currency_precision(check_currency(currency)))


def to_minor(text: str, currency: str = DEFAULT_CURRENCY) -> int:
    """`"249.00"` INR → `24900`, `"1500"` JPY → `1500`, `"1.250"` KWD → `1250`, exactly.

    Rejects more decimals than the currency has, negatives, NaN, exponents and thousands
    separators: a price must be written as the merchant means it."""
    places = exponent(currency)
    example = "249" if places == 0 else "249." + "0" * places
    raw = text.strip()
    if not raw or any(ch not in "0123456789." for ch in raw) or raw.count(".") > 1:
        raise InvalidPrice(f"{text!r} is not a {currency} amount like {example}")
    try:
        amount = Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the character check above catches these
        raise InvalidPrice(f"{text!r} is not a {currency} amount like {example}") from exc
    power = amount.as_tuple().exponent
    if isinstance(power, int) and -power > places:
        if places == 0:
            raise InvalidPrice(f"{text!r} has decimals, but {currency} has none")
        raise InvalidPrice(f"{text!r} has more than {places} decimals")
    return int(amount.scaleb(places))


def to_major(minor: int, currency: str = DEFAULT_CURRENCY) -> Decimal:
    """`24900` INR → `Decimal("249.00")`: exact, with the currency's decimals."""
    places = exponent(currency)
    return Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def format_money(minor: int, currency: str = DEFAULT_CURRENCY, locale: str = DEFAULT_LOCALE) -> str:
    """An amount as customers read it, in the currency's own format for the shop's locale:
    `149900` INR → `"₹1,499.00"` (Indian digit grouping), `1000` JPY (ja_JP) → `"￥1,000"`."""
    shape = _shape(currency, locale)
    if shape is None:
        return _babel(minor, currency, locale)
    return shape.apply(minor)


def _babel(minor: int, currency: str, locale: str) -> str:
    return str(format_currency(to_major(minor, currency), currency, locale=locale))


@dataclass(frozen=True, slots=True)
class _Shape:
    """How Babel writes amounts of one currency in one locale, read off Babel's own output
    once (symbol and sign around the digits, group and decimal marks, group sizes), so that a
    message with many amounts does not run Babel's pattern engine for each."""

    places: int
    prefix: str
    suffix: str
    negative_prefix: str
    negative_suffix: str
    group: str
    decimal: str
    primary: int
    secondary: int

    def apply(self, minor: int) -> str:
        units, fraction = divmod(abs(minor), 10**self.places)
        digits = str(units)
        groups = [digits[-self.primary :]]
        rest = digits[: -self.primary]
        while rest:
            groups.insert(0, rest[-self.secondary :])
            rest = rest[: -self.secondary]
        number = self.group.join(groups)
        if self.places:
            number += self.decimal + str(fraction).zfill(self.places)
        if minor < 0:
            return self.negative_prefix + number + self.negative_suffix
        return self.prefix + number + self.suffix


_PROBE = 1234567890  # ten digits in major units: shows both group sizes and both marks
_CHECKS = (0, 5, 99, 100, 1234, 99999, 123456, 123456789, 10**13 + 7, -1, -123456789)
_DIGITS = frozenset("0123456789")


@lru_cache(maxsize=64)
def _shape(currency: str, locale: str) -> _Shape | None:
    """The shape of Babel's output, or None when it is not a plain one (then Babel formats
    every amount itself). Checked against Babel on a spread of amounts before it is used."""
    places = exponent(currency)
    scale = 10**places
    positive = _babel(_PROBE * scale + (scale - 1 if places else 0), currency, locale)
    negative = _babel(-_PROBE * scale, currency, locale)
    shape = _read_shape(positive, negative, places)
    if shape is None:
        return None
    if any(shape.apply(minor) != _babel(minor, currency, locale) for minor in _CHECKS):
        return None
    return shape


def _digit_span(text: str) -> tuple[int, int] | None:
    where = [i for i, ch in enumerate(text) if ch in _DIGITS]
    return (where[0], where[-1]) if where else None


def _read_shape(positive: str, negative: str, places: int) -> _Shape | None:
    span, negative_span = _digit_span(positive), _digit_span(negative)
    if span is None or negative_span is None:
        return None  # digits of another script: leave it all to Babel
    body = positive[span[0] : span[1] + 1]
    decimal = ""
    if places:
        decimal, body = body[-places - 1], body[: -places - 1]
    marks = {ch for ch in body if ch not in _DIGITS}
    if len(marks) != 1 or decimal in _DIGITS:
        return None
    group = marks.pop()
    sizes = [len(part) for part in body.split(group)]
    if len(sizes) < 3:
        return None
    return _Shape(
        places=places,
        prefix=positive[: span[0]],
        suffix=positive[span[1] + 1 :],
        negative_prefix=negative[: negative_span[0]],
        negative_suffix=negative[negative_span[1] + 1 :],
        group=group,
        decimal=decimal,
        primary=sizes[-1],
        secondary=sizes[-2],
    )


def parse_rupees(text: str) -> int:
    """`"249.00"` → `24900` (INR)."""
    return to_minor(text, "INR")


def format_inr(paise: int) -> str:
    """`149900` → `"₹1,499.00"`, `14999900` → `"₹1,49,999.00"` (Indian digit grouping)."""
    return format_money(paise, "INR", DEFAULT_LOCALE)
