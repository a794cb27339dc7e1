"""Reading the merchant's `config.toml` into a validated `ShopConfig`."""

import difflib
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.payments.limits import payment_problems
from flows.catalog import CheckoutOptions, Product, ShopConfig, ShopInfo
from flows.notices import Templates
from flows.texts import Texts

# The model behind each part of the file, for naming the keys an unknown key might have meant.
SECTION_MODELS: dict[str, type[BaseModel]] = {
    "shop": ShopInfo,
    "checkout": CheckoutOptions,
    "products": Product,
    "messages": Texts,
    "templates": Templates,
}


class ConfigError(Exception):
    """The config file cannot be used. `problems` holds one line per problem."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def load_shop_config(path: Path, provider: str = "razorpay") -> ShopConfig:
    """The validated shop, checked against the payment provider's currencies and limits too.
    Raises ConfigError naming every problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, [f"file not found: {path}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [f"cannot read the file: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"not valid TOML: {exc}"]) from None
    try:
        shop = ShopConfig.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        item_errors = any(len(e["loc"]) > 1 and e["loc"][0] == "products" for e in errors)
        # When products fail one by one, pydantic also says the list "has 0 items": noise.
        errors = [e for e in errors if not (item_errors and tuple(e["loc"]) == ("products",))]
        # The shop's settings first, then the products in the order the file lists them.
        errors.sort(key=_product_position)
        raise ConfigError(path, [_describe(data, error) for error in errors]) from None
    problems = payment_problems(shop, provider)
    if problems:
        raise ConfigError(path, problems)
    return shop


def _product_position(error: Any) -> int:
    loc = error["loc"]
    return loc[1] if len(loc) > 1 and loc[0] == "products" and isinstance(loc[1], int) else -1


def _describe(data: dict[str, Any], error: Any) -> str:
    """Name the place of a problem as a merchant sees it: the product id and the field."""
    loc = list(error["loc"])
    message = _message(error)
    if len(loc) >= 2 and loc[0] == "products" and isinstance(loc[1], int):
        field = ".".join(str(part) for part in loc[2:]) or "(whole entry)"
        return f"{_product_named(data, loc[1])}, field {field}: {message}"
    where = ".".join(str(part) for part in loc) or "(top level)"
    return f"{where}: {message}"


def _product_named(data: dict[str, Any], index: int) -> str:
    """`product 'masala-chai'` by its id; by its place when it has none, or shares it."""
    products = data.get("products")
    entries = products if isinstance(products, list) else []
    ids = [entry.get("id") if isinstance(entry, dict) else None for entry in entries]
    product_id = ids[index] if index < len(ids) else None
    if not product_id:
        return f"product #{index + 1}"
    if ids.count(product_id) > 1:
        return f"product {product_id!r} (#{index + 1})"
    return f"product {product_id!r}"


def _message(error: Any) -> str:
    """pydantic's message, in the merchant's terms where pydantic's would puzzle them."""
    loc = error["loc"]
    if error["type"] == "extra_forbidden":
        model = SECTION_MODELS.get(str(loc[0]), ShopConfig) if len(loc) > 1 else ShopConfig
        known = list(model.model_fields)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
        return f"unknown key; {hint}"
    if error["type"] == "missing":
        return "required, but missing"
    return str(error["msg"]).removeprefix("Value error, ")
