"""Reading the merchant's `config.toml` into a validated `ShopConfig`."""

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from flows.catalog import ShopConfig


class ConfigError(Exception):
    """The config file cannot be used. `problems` holds one line per problem."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def load_shop_config(path: Path) -> ShopConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, [f"file not found: {path}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, [f"cannot read the file: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"not valid TOML: {exc}"]) from None
    try:
        return ShopConfig.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        item_errors = any(len(e["loc"]) > 1 and e["loc"][0] == "products" for e in errors)
        # When products fail one by one, pydantic also says the list "has 0 items": noise.
        errors = [e for e in errors if not (item_errors and tuple(e["loc"]) == ("products",))]
        raise ConfigError(path, [_describe(data, error) for error in errors]) from None


def _describe(data: dict[str, Any], error: Any) -> str:
    """Name the place of a problem as a merchant sees it: the product id and the field."""
    loc = list(error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if len(loc) >= 2 and loc[0] == "products" and isinstance(loc[1], int):
        index = loc[1]
        products = data.get("products")
        product_id = None
        if (
            isinstance(products, list)
            and index < len(products)
            and isinstance(products[index], dict)
        ):
            product_id = products[index].get("id")
        who = f"product {product_id!r}" if product_id else f"product #{index + 1}"
        field = ".".join(str(part) for part in loc[2:]) or "(whole entry)"
        return f"{who}, field {field}: {message}"
    where = ".".join(str(part) for part in loc) or "(top level)"
    return f"{where}: {message}"
