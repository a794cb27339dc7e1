"""The one codec for button and list-row ids (after aiogram's `CallbackData`).

Each action is a small frozen model with a `prefix` and typed fields. `pack()` writes
`prefix:field:field`, escaping `%` and `:` inside values so that any string survives the trip;
`parse()` reads an id back into the right class, or gives None for anything unknown, garbled or
out of range. Ids are checked against the smaller of the Cloud API id limits (list rows, 200).
"""

import re
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flows import limits

SEPARATOR = ":"
ID_MAX = min(limits.LIST_ROW_ID_MAX, limits.BUTTON_ID_MAX)

_ESCAPES = {"%": "%25", SEPARATOR: "%3A"}
_UNESCAPES = {code: char for char, code in _ESCAPES.items()}
_ESCAPED = re.compile("|".join(re.escape(code) for code in _UNESCAPES))

PageNumber = Annotated[int, Field(ge=0, le=10_000)]
Quantity = Annotated[int, Field(ge=1, le=10_000)]
Reference = Annotated[str, Field(min_length=1)]


def _escape(value: str) -> str:
    return "".join(_ESCAPES.get(char, char) for char in value)


def _unescape(value: str) -> str:
    return _ESCAPED.sub(lambda match: _UNESCAPES[match[0]], value)


class CallbackData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    prefix: ClassVar[str]

    def pack(self) -> str:
        values = [_escape(str(getattr(self, name))) for name in type(self).model_fields]
        packed = SEPARATOR.join([self.prefix, *values])
        if len(packed) > ID_MAX:
            raise ValueError(f"{packed[:40]}… is longer than {ID_MAX} characters")
        return packed

    @classmethod
    def unpack(cls, packed: str) -> "CallbackData | None":
        prefix, *values = packed.split(SEPARATOR)
        names = list(cls.model_fields)
        if prefix != cls.prefix or len(values) != len(names):
            return None
        try:
            return cls.model_validate(dict(zip(names, map(_unescape, values), strict=True)))
        except ValidationError:
            return None


# --- the actions ---------------------------------------------------------------------------


class ShowMenu(CallbackData):
    prefix = "menu"


class ShowHelp(CallbackData):
    prefix = "help"


class BrowseCategories(CallbackData):
    prefix = "cats"
    page: PageNumber = 0


class BrowseCategory(CallbackData):
    """`category` is a short key of the category name (see `flows.views.category_key`), so the
    id fits however long or exotic the name is."""

    prefix = "cat"
    category: Reference
    page: PageNumber = 0


class ShowProduct(CallbackData):
    prefix = "prod"
    product_id: Reference


class ChooseQuantity(CallbackData):
    prefix = "qty"
    product_id: Reference
    quantity: Quantity


class ViewCart(CallbackData):
    prefix = "cart"


class PickLineToRemove(CallbackData):
    prefix = "rmlist"
    page: PageNumber = 0


class RemoveLine(CallbackData):
    prefix = "rm"
    product_id: Reference


class ClearCart(CallbackData):
    prefix = "clear"


class Checkout(CallbackData):
    prefix = "checkout"


class UseSavedAddress(CallbackData):
    prefix = "addr_use"


class EnterNewAddress(CallbackData):
    prefix = "addr_new"


class RedirectToPayment(CallbackData):
    """The "Pay now" button: sends the payment link of this order again."""

    prefix = "redirect_to_payment"
    order_id: Reference


class CancelOrder(CallbackData):
    prefix = "cancel_order"
    order_id: Reference


class PayOnDelivery(CallbackData):
    """The "Pay on delivery" button ([checkout] cash_on_delivery = true)."""

    prefix = "cod"
    order_id: Reference


class ShowOrders(CallbackData):
    """The customer's recent orders."""

    prefix = "orders"


class ShowOrder(CallbackData):
    """One of the customer's orders: its items, status and tracking."""

    prefix = "order"
    order_id: Reference


class OrderAgain(CallbackData):
    """Fill the cart with an earlier order's items, at today's prices."""

    prefix = "reorder"
    order_id: Reference


class ShowLanguages(CallbackData):
    prefix = "langs"


class ChooseLanguage(CallbackData):
    prefix = "lang"
    language: Reference


ACTIONS: tuple[type[CallbackData], ...] = (
    ShowMenu,
    ShowHelp,
    BrowseCategories,
    BrowseCategory,
    ShowProduct,
    ChooseQuantity,
    ViewCart,
    PickLineToRemove,
    RemoveLine,
    ClearCart,
    Checkout,
    UseSavedAddress,
    EnterNewAddress,
    RedirectToPayment,
    CancelOrder,
    PayOnDelivery,
    ShowOrders,
    ShowOrder,
    OrderAgain,
    ShowLanguages,
    ChooseLanguage,
)
_BY_PREFIX = {action.prefix: action for action in ACTIONS}
if len(_BY_PREFIX) != len(ACTIONS) or any(SEPARATOR in prefix for prefix in _BY_PREFIX):
    raise RuntimeError("every action needs its own prefix, without the separator")


def parse(packed: str) -> CallbackData | None:
    """The action a button or row id stands for; None when it is not one of ours."""
    action = _BY_PREFIX.get(packed.split(SEPARATOR, 1)[0])
    return None if action is None else action.unpack(packed)
