"""What a shop owner types to the shop number, as typed commands: pure parsing, no I/O.

Numbers listed in OWNER_WHATSAPP get these instead of the shop. The edge (`bot.merchant.owner`)
carries each command out through the same service as the CLI and the dashboard, so the same
rules, idempotency and customer notices apply:

    orders                              recent orders, paid-and-not-shipped first
    order ID                            items, address, statuses
    ship ID [courier] [tracking]        tracking: a number or a URL
    deliver ID
    cancel ID
    refund ID [amount]                  in the order's currency as typed (250, 249.50, ₹1,250);
                                        all that is left without an amount
    stock                               the counted products: on hand, held, for sale
    stock PRODUCT N                     the shop has N (set); +N or -N: a delivery, a breakage
    help

Anything else is `Help`, with the reason when the command was recognised but malformed.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True, slots=True)
class ListOrders:
    pass


@dataclass(frozen=True, slots=True)
class ShowOrder:
    order_id: str


@dataclass(frozen=True, slots=True)
class ShipOrder:
    order_id: str
    courier: str | None = None
    tracking: str | None = None  # a tracking number, or a URL the customer can open


@dataclass(frozen=True, slots=True)
class DeliverOrder:
    order_id: str


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: str


@dataclass(frozen=True, slots=True)
class RefundOrder:
    order_id: str
    # In major units as typed, symbols and thousands commas taken off ("1250.75"): the edge
    # converts it exactly with the order's currency (`flows.money.to_minor`), which also
    # refuses more decimals than that currency has. None: all that is left to refund.
    amount: str | None = None


@dataclass(frozen=True, slots=True)
class ListStock:
    pass


@dataclass(frozen=True, slots=True)
class SetStock:
    product_id: str  # as typed; the edge matches it to the catalog without regard to case
    count: int  # what the shop has now, units held for unpaid orders included


@dataclass(frozen=True, slots=True)
class AddStock:
    product_id: str
    change: int  # units more; negative: fewer


@dataclass(frozen=True, slots=True)
class Help:
    problem: str = ""  # what was wrong with the command, when one was recognised


OwnerCommand = (
    ListOrders
    | ShowOrder
    | ShipOrder
    | DeliverOrder
    | CancelOrder
    | RefundOrder
    | ListStock
    | SetStock
    | AddStock
    | Help
)

USAGE = {
    "orders": "orders",
    "order": "order ID",
    "ship": "ship ID [courier] [tracking]",
    "deliver": "deliver ID",
    "cancel": "cancel ID",
    "refund": "refund ID [amount]",
    "stock": "stock PRODUCT N, or +N / -N",
}

HELP_TEXT = "\n".join(
    (
        "Owner commands:",
        "orders: recent orders, paid and not shipped first",
        "order ID: items, address, statuses",
        "ship ID [courier] [tracking]: mark shipped, tell the customer",
        "deliver ID: mark delivered",
        "cancel ID: cancel (a paid order: refund it first)",
        "refund ID [amount]: refund an amount, e.g. refund ID 250.50 (all without an amount)",
        "stock: what is left of each counted product",
        "stock PRODUCT N: set the count; stock PRODUCT +10 / -2: add or remove",
        "help: this list",
    )
)

_ALIASES = {"order": "order", "show": "order", "list": "orders", "orders": "orders"}


def parse_owner_command(text: str) -> OwnerCommand:
    words = text.split()
    if not words:
        return Help()
    verb, args = words[0].lower(), words[1:]
    verb = _ALIASES.get(verb, verb)
    if verb == "orders" and not args:
        return ListOrders()
    if verb == "stock":
        return _stock(args)
    if verb == "help" or verb not in USAGE:
        return Help()
    if not args:
        return _usage(verb, "which order?")
    order_id, rest = args[0], args[1:]
    match verb:
        case "order" if not rest:
            return ShowOrder(order_id)
        case "ship":
            return _ship(order_id, rest)
        case "deliver" if not rest:
            return DeliverOrder(order_id)
        case "cancel" if not rest:
            return CancelOrder(order_id)
        case "refund" if len(rest) <= 1:
            return _refund(order_id, rest)
    return _usage(verb, "too many words")


def _ship(order_id: str, rest: list[str]) -> ShipOrder:
    """One word after the id is the tracking if it looks like one (a URL, or has a digit),
    else the courier; with more, the last word is the tracking and the rest the courier
    ("Blue Dart 1234")."""
    if not rest:
        return ShipOrder(order_id)
    if len(rest) == 1:
        word = rest[0]
        if _looks_like_tracking(word):
            return ShipOrder(order_id, tracking=word)
        return ShipOrder(order_id, courier=word)
    return ShipOrder(order_id, courier=" ".join(rest[:-1]), tracking=rest[-1])


def _looks_like_tracking(word: str) -> bool:
    return word.lower().startswith(("https://", "http://")) or any(ch.isdigit() for ch in word)


def _refund(order_id: str, rest: list[str]) -> RefundOrder | Help:
    if not rest:
        return RefundOrder(order_id)
    amount = _plain_amount(rest[0])
    if not amount or any(ch not in "0123456789." for ch in amount) or amount.count(".") > 1:
        return _usage("refund", f"{rest[0]!r} is not an amount like 250 or 249.50")
    try:
        positive = Decimal(amount) > 0
    except InvalidOperation:  # "." alone: the character check lets it through
        positive = False
    if not positive:
        return _usage("refund", "the amount must be more than zero")
    return RefundOrder(order_id, amount)


def _plain_amount(typed: str) -> str:
    """What a merchant types around a rupee amount: ₹, Rs, Rs. and thousands commas."""
    text = typed.strip()
    lowered = text.lower()
    for prefix in ("₹", "rs.", "rs", "inr"):
        if lowered.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text.replace(",", "")


def _stock(args: list[str]) -> ListStock | SetStock | AddStock | Help:
    """`stock`; `stock ID 40` sets the count; a sign (`+10`, `-2`) adds or takes away."""
    if not args:
        return ListStock()
    if len(args) == 1:
        return _usage("stock", "how many?")
    if len(args) > 2:
        return _usage("stock", "too many words")
    product_id, number = args
    signed = number[0] in "+-"
    digits = number[1:] if signed else number
    if not digits.isascii() or not digits.isdigit() or len(digits) > MAX_COUNT_DIGITS:
        return _usage("stock", f"{number!r} is not a whole number of units")
    if signed:
        return AddStock(product_id, int(number))
    return SetStock(product_id, int(number))


MAX_COUNT_DIGITS = 9  # a count of a billion or more is a typo


def _usage(verb: str, problem: str) -> Help:
    return Help(f"{problem} (usage: {USAGE[verb]})")
