"""The merchant's shop as data: products, checkout options and wording.

`bot/` reads `config.toml`; this module only validates what it was given, so a catalog can be
built in a test from a dict.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cached_property
from typing import Annotated, Any, TypeVar

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
from flows.limits import LIST_ROWS_MAX, PAYMENT_LINK_MIN_EXPIRY_MINUTES
from flows.money import (
    DEFAULT_CURRENCY,
    DEFAULT_LOCALE,
    InvalidPrice,
    UnknownCurrency,
    check_currency,
    check_locale,
    exponent,
    format_money,
    to_minor,
)
from flows.notices import Templates
from flows.reminders import ReminderRules
from flows.texts import Texts
from flows.texts_hi import HINDI

PRODUCT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
LANGUAGE_CODE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"  # BCP 47 style: hi, ta, pt-BR
DEFAULT_LANGUAGE = "en"  # the [messages] table; every other language is under `languages`
BUNDLED_LANGUAGES: Mapping[str, Mapping[str, str]] = {"hi": HINDI}

LanguageCode = Annotated[str, Field(pattern=LANGUAGE_CODE_PATTERN)]
MAX_STOCK = 1_000_000_000  # units of one product; anything more is a typo

T = TypeVar("T")

# The shop's currency while its products are read: a price is written in major units and held
# in minor units, so reading it needs the currency's exponent (`ShopConfig` sets this around
# the validation of its products; a product read on its own is in the default currency).
_PRICE_CURRENCY: ContextVar[str] = ContextVar("price_currency", default=DEFAULT_CURRENCY)


@contextmanager
def prices_in(currency: str) -> Iterator[None]:
    token = _PRICE_CURRENCY.set(currency)
    try:
        yield
    finally:
        _PRICE_CURRENCY.reset(token)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


SHOPIFY_VARIANT_GID = "gid://shopify/ProductVariant/"


def _single_line(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("must not be blank")
    return value


class ProductText(_Frozen):
    """A product's name and description in another language (`[products.translations.hi]`)."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=500)] | None = None

    @field_validator("name")
    @classmethod
    def _single_line(cls, value: str) -> str:
        return _single_line(value)


class Product(_Frozen):
    id: Annotated[str, Field(pattern=PRODUCT_ID_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    price: int  # minor units of the shop's currency; config.toml writes major units, "249.00"
    category: Annotated[str, Field(min_length=1, max_length=100)]
    description: Annotated[str, Field(max_length=500)] | None = None
    available: bool = True
    # The Shopify variant this product is (for the optional Shopify hand-off): the number or
    # gid://shopify/ProductVariant/<number>. Without it the order has a custom line item.
    shopify_variant_id: str | None = None
    # The starting count when the shop tracks this product's stock; None: not counted.
    stock: Annotated[int, Field(ge=0, le=MAX_STOCK)] | None = None
    translations: dict[LanguageCode, ProductText] = {}

    def in_language(self, language: str) -> "Product":
        """This product named and described in `language`, when the merchant translated it."""
        text = self.translations.get(language)
        if text is None:
            return self
        description = text.description if text.description is not None else self.description
        return self.model_copy(update={"name": text.name, "description": description})

    @field_validator("price", mode="before")
    @classmethod
    def _major_to_minor(cls, value: Any) -> int:
        currency = _PRICE_CURRENCY.get()
        example = "249" if exponent(currency) == 0 else "249." + "0" * exponent(currency)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError(f'write the price as a string of {currency}, like "{example}"')
        if isinstance(value, int):
            written = (
                str(value) if exponent(currency) == 0 else f"{value}.{'0' * exponent(currency)}"
            )
            raise ValueError(f'write the price as a string of {currency}, like "{written}"')
        if value.strip().startswith("-"):
            raise ValueError(f"{value!r} is negative; the price must be more than zero")
        try:
            minor = to_minor(value, currency)
        except InvalidPrice as exc:
            raise ValueError(str(exc)) from exc
        if minor <= 0:
            raise ValueError("the price must be more than zero")
        # The payment provider's own bounds are checked against the whole shop at start and
        # by check-config (`bot.payments.limits`).
        return minor

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
        return _single_line(value)


class ShopInfo(_Frozen):
    name: Annotated[str, Field(min_length=1, max_length=60)]
    # ISO 4217; prices are written in its major units and held in its minor units.
    currency: str = DEFAULT_CURRENCY
    # How amounts are written for customers (Babel / CLDR): digit grouping, symbol, decimals.
    locale: str = DEFAULT_LOCALE

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        try:
            return check_currency(value)
        except UnknownCurrency as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        return check_locale(value)


class CheckoutOptions(_Frozen):
    collect_address: bool = True
    payment_link_expiry_minutes: Annotated[
        int, Field(ge=PAYMENT_LINK_MIN_EXPIRY_MINUTES, le=60 * 24 * 180)
    ] = 30
    max_quantity_per_item: Annotated[int, Field(ge=1, le=1000)] = 20
    # "Pay on delivery" beside "Pay now": the order is confirmed at once, paid in cash.
    cash_on_delivery: bool = False
    # The largest order that may be paid on delivery (written in major units, like prices;
    # held in minor units); none: any amount.
    cod_max_amount: int | None = None

    @field_validator("cod_max_amount", mode="before")
    @classmethod
    def _cod_max_to_minor(cls, value: Any) -> int | None:
        if value is None:
            return None
        currency = _PRICE_CURRENCY.get()
        if isinstance(value, bool) or not isinstance(value, str):
            raise ValueError(f'write the amount as a string of {currency}, like "2000"')
        try:
            minor = to_minor(value, currency)
        except InvalidPrice as exc:
            raise ValueError(str(exc)) from exc
        if minor <= 0:
            raise ValueError("must be more than zero (leave it out for no limit)")
        return minor

    @model_validator(mode="after")
    def _cod_max_needs_cod(self) -> "CheckoutOptions":
        if self.cod_max_amount is not None and not self.cash_on_delivery:
            raise ValueError(
                "cod_max_amount is set but cash_on_delivery is not true: set "
                "cash_on_delivery = true to offer pay on delivery, or remove cod_max_amount"
            )
        return self

    def cod_allowed(self, total: int) -> bool:
        """May an order of this total (minor units) be paid on delivery?"""
        return self.cash_on_delivery and (
            self.cod_max_amount is None or total <= self.cod_max_amount
        )


class ShopConfig(_Frozen):
    shop: ShopInfo
    checkout: CheckoutOptions = CheckoutOptions()
    products: Annotated[tuple[Product, ...], Field(min_length=1)]
    messages: Texts = Texts()
    templates: Templates = Templates()
    reminders: ReminderRules = ReminderRules()
    # Every language besides English ([messages]), by code: the bundled ones (Hindi) with the
    # merchant's overrides, and the merchant's own (a languages/*.toml file, [messages.ta]).
    languages: Annotated[dict[LanguageCode, Texts], Field(validate_default=True)] = {}

    @field_validator("languages", mode="before")
    @classmethod
    def _bundled_then_merchant(cls, value: Any) -> Any:
        """The bundled languages, each key overridable; a merchant's language starts from the
        English defaults for any key its file leaves out."""
        if not isinstance(value, Mapping):
            return value
        merged: dict[Any, Any] = {code: dict(texts) for code, texts in BUNDLED_LANGUAGES.items()}
        for code, texts in value.items():
            if code == DEFAULT_LANGUAGE:
                raise ValueError(f"{code!r} is English: write its wording under [messages]")
            if isinstance(texts, Mapping) and isinstance(merged.get(code), dict):
                merged[code] = {**merged[code], **texts}
            else:
                merged[code] = texts
        return merged

    @field_validator("languages")
    @classmethod
    def _fit_one_list(cls, value: dict[str, Texts]) -> dict[str, Texts]:
        if len(value) + 1 > LIST_ROWS_MAX:
            raise ValueError(
                f"{len(value) + 1} languages with English; the list a customer picks from holds "
                f"{LIST_ROWS_MAX} (WhatsApp's limit for one list message)"
            )
        return value

    @model_validator(mode="after")
    def _translations_name_known_languages(self) -> "ShopConfig":
        known = set(self.language_codes)
        for product in self.products:
            unknown = sorted(set(product.translations) - known)
            if DEFAULT_LANGUAGE in product.translations:
                unknown.insert(0, DEFAULT_LANGUAGE)
            if unknown:
                raise ValueError(
                    f"product {product.id!r} has translations for {', '.join(unknown)}, which "
                    f"{'is' if len(unknown) == 1 else 'are'} not among the shop's other languages "
                    f"({', '.join(sorted(known - {DEFAULT_LANGUAGE})) or 'none'}); English is "
                    "the product's own name"
                )
        return self

    @property
    def language_codes(self) -> tuple[str, ...]:
        """English first, then the others in the order they were given (bundled first)."""
        return (DEFAULT_LANGUAGE, *(code for code in self.languages if code != DEFAULT_LANGUAGE))

    def texts_in(self, language: str) -> Texts:
        return self.languages.get(language, self.messages)

    def in_language(self, language: str | None) -> "ShopConfig":
        """This shop as a customer speaking `language` sees it: its wording and its product
        names; the English shop for an unknown or no language. Built once per language."""
        base: ShopConfig | None = self.__dict__.get("_base")
        if base is not None:  # this is itself a translation: start from the merchant's shop
            return base.in_language(language)
        if language is None or language == DEFAULT_LANGUAGE or language not in self.languages:
            return self
        # Cached on this very object: a `model_copy` (which copies __dict__) builds its own.
        owner, built = self.__dict__.get("_localized", (None, {}))
        if owner is not self:
            built = {}
            self.__dict__["_localized"] = (self, built)
        if language not in built:
            localized = ShopConfig.model_construct(
                shop=self.shop,
                checkout=self.checkout,
                products=tuple(product.in_language(language) for product in self.products),
                messages=self.languages[language],
                templates=self.templates,
                reminders=self.reminders,
                # English kept under its code: the list of languages names each in its own.
                languages={**self.languages, DEFAULT_LANGUAGE: self.messages},
            )
            localized.__dict__["_base"] = self
            built[language] = localized
        chosen: ShopConfig = built[language]
        return chosen

    def derived(self, name: str, build: Callable[["ShopConfig"], T]) -> T:
        """`build(self)`, built on first use and kept on this shop: for what depends on the shop
        alone, like the welcome message, which every first "hi" sends. A translation
        (`in_language`) is a shop of its own, so it keeps its own. The shop is frozen, so
        what was built stays right; a `model_copy` (which copies __dict__) starts afresh."""
        owner, built = self.__dict__.get("_derived", (None, {}))
        if owner is not self:
            built = {}
            self.__dict__["_derived"] = (self, built)
        if name not in built:
            built[name] = build(self)
        value: T = built[name]
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem_at_once(
        cls, data: Any, handler: ModelWrapValidatorHandler["ShopConfig"]
    ) -> "ShopConfig":
        """Field errors and the rules across products (`flows.catalog_rules`) in one error.

        An "after" validator would only run once every field is valid, so a merchant would fix
        the prices and only then learn that two products share an id.

        A shop that is already a `ShopConfig` was checked when it was built: pydantic would run
        this validator and the "after" one again each time a model holding the shop (every
        step's `StepContext`) is built, so it is returned as it is.
        """
        if isinstance(data, cls):
            return data
        across = _catalog_rule_errors(data)
        try:
            with prices_in(_currency_of(data)):
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

    def money(self, minor: int, currency: str | None = None) -> str:
        """An amount in minor units as the shop's customers read it (the shop's currency
        unless an order says otherwise), in the shop's locale."""
        return format_money(minor, currency or self.shop.currency, self.shop.locale)


def _currency_of(data: Any) -> str:
    """The currency the raw config names, if it is one; prices are read in it."""
    shop = data.get("shop") if isinstance(data, Mapping) else None
    currency = shop.get("currency") if isinstance(shop, Mapping) else None
    if isinstance(shop, ShopInfo):
        currency = shop.currency
    try:
        return check_currency(currency) if isinstance(currency, str) else DEFAULT_CURRENCY
    except UnknownCurrency:
        return DEFAULT_CURRENCY  # the currency's own error is reported; read prices as usual


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
