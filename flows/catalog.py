"""The merchant's shop as data: products, checkout options and wording.

`bot/` reads `config.toml`; this module only validates what it was given, so a catalog can be
built in a test from a dict.
"""

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from flows.catalog_rules import catalog_problems
from flows.limits import PAYMENT_LINK_MIN_EXPIRY_MINUTES
from flows.money import InvalidPrice, parse_rupees
from flows.notices import Templates
from flows.texts import Texts

PRODUCT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
MAX_PRODUCT_PRICE_PAISE = 50_000_000  # ₹5,00,000: Razorpay's default per-payment ceiling


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


SHOPIFY_VARIANT_GID = "gid://shopify/ProductVariant/"


class Product(_Frozen):
    id: Annotated[str, Field(pattern=PRODUCT_ID_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    price: int  # paise; config.toml writes rupees as a string, "249.00"
    category: Annotated[str, Field(min_length=1, max_length=100)]
    description: Annotated[str, Field(max_length=500)] | None = None
    available: bool = True
    # The Shopify variant this product is (for the optional Shopify hand-off): the number or
    # gid://shopify/ProductVariant/<number>. Without it the order has a custom line item.
    shopify_variant_id: str | None = None

    @field_validator("price", mode="before")
    @classmethod
    def _rupees_to_paise(cls, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError('write the price as a string of rupees, like "249.00"')
        if isinstance(value, int):
            raise ValueError(f'write the price as a string of rupees, like "{value}.00"')
        if value.strip().startswith("-"):
            raise ValueError(f"{value!r} is negative; the price must be more than zero")
        try:
            paise = parse_rupees(value)
        except InvalidPrice as exc:
            raise ValueError(str(exc)) from exc
        if paise <= 0:
            raise ValueError("the price must be more than zero")
        if paise > MAX_PRODUCT_PRICE_PAISE:
            raise ValueError("the price is above ₹5,00,000, Razorpay's limit for one payment")
        return paise

    @field_validator("shopify_variant_id", mode="before")
    @classmethod
    def _variant_gid(cls, value: Any) -> str | None:
        if value is None:
            return None
        text = str(value).strip().removeprefix(SHOPIFY_VARIANT_GID)
        if isinstance(value, bool) or not text.isascii() or not text.isdigit():
            raise ValueError(
                f"write the Shopify variant id as its number or as {SHOPIFY_VARIANT_GID}<number>"
            )
        return SHOPIFY_VARIANT_GID + text

    @field_validator("name", "category")
    @classmethod
    def _single_line(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("must not be blank")
        return value


class ShopInfo(_Frozen):
    name: Annotated[str, Field(min_length=1, max_length=60)]
    currency: Literal["INR"] = "INR"


class CheckoutOptions(_Frozen):
    collect_address: bool = True
    payment_link_expiry_minutes: Annotated[
        int, Field(ge=PAYMENT_LINK_MIN_EXPIRY_MINUTES, le=60 * 24 * 180)
    ] = 30
    max_quantity_per_item: Annotated[int, Field(ge=1, le=1000)] = 20


class ShopConfig(_Frozen):
    shop: ShopInfo
    checkout: CheckoutOptions = CheckoutOptions()
    products: Annotated[tuple[Product, ...], Field(min_length=1)]
    messages: Texts = Texts()
    templates: Templates = Templates()

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem_at_once(
        cls, data: Any, handler: ModelWrapValidatorHandler["ShopConfig"]
    ) -> "ShopConfig":
        """Field errors and the rules across products (`flows.catalog_rules`) in one error.

        An "after" validator would only run once every field is valid, so a merchant would fix
        the prices and only then learn that two products share an id.
        """
        across = _catalog_rule_errors(data)
        try:
            config = handler(data)
        except ValidationError as exc:
            if not across:
                raise
            raise ValidationError.from_exception_data(
                cls.__name__, [*_reraisable(exc), *across]
            ) from None
        if across:
            raise ValidationError.from_exception_data(cls.__name__, across)
        return config

    @cached_property
    def catalog(self) -> "Catalog":
        return Catalog(self.products)


def _catalog_rule_errors(data: Any) -> list[InitErrorDetails]:
    products = data.get("products") if isinstance(data, Mapping) else None
    if not isinstance(products, Sequence) or isinstance(products, str):
        return []
    # Built in code rather than read from a file, a shop may hold Product objects already.
    entries = [p.model_dump() if isinstance(p, BaseModel) else p for p in products]
    return [
        InitErrorDetails(
            # The message goes in as context: a category name may hold braces of its own.
            type=PydanticCustomError("catalog_rule", "{problem}", {"problem": problem.message}),
            loc=("products", problem.index, problem.field),
            input=entries[problem.index].get(problem.field),
        )
        for problem in catalog_problems(entries)
    ]


def _reraisable(exc: ValidationError) -> list[InitErrorDetails]:
    """The errors of `exc`, each with its type, place and message, ready to raise again."""
    return [
        InitErrorDetails(
            type=PydanticCustomError(error["type"], "{message}", {"message": error["msg"]}),
            loc=error["loc"],
            input=error["input"],
        )
        for error in exc.errors()
    ]


class Catalog:
    """Products in the merchant's order, with look-ups by id and by category."""

    def __init__(self, products: tuple[Product, ...]) -> None:
        self.products = products
        self._by_id: Mapping[str, Product] = {p.id: p for p in products}
        categories: dict[str, list[Product]] = {}
        for product in products:
            if product.available:
                categories.setdefault(product.category, []).append(product)
        self._by_category = {name: tuple(items) for name, items in categories.items()}

    def get(self, product_id: str) -> Product | None:
        return self._by_id.get(product_id)

    def available(self, product_id: str) -> Product | None:
        product = self._by_id.get(product_id)
        return product if product is not None and product.available else None

    @property
    def categories(self) -> tuple[str, ...]:
        """Categories with at least one available product, in the order they first appear."""
        return tuple(self._by_category)

    def in_category(self, category: str) -> tuple[Product, ...]:
        return self._by_category.get(category, ())
