"""Reading the merchant's `config.toml` into a validated `ShopConfig`.

Languages besides English come from three places, later ones overriding earlier ones key by
key: the bundled ones (Hindi, in `flows`), a file per language in a `languages/` folder beside
config.toml (`languages/ta.toml`: the `[messages]` keys, at the top level or under
`[messages]`), and a `[messages.ta]` table inside config.toml.
"""

import difflib
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from flows.catalog import CheckoutOptions, Product, ProductText, ShopConfig, ShopInfo
from flows.notices import Templates
from flows.reminders import ReminderRules
from flows.texts import Texts

# The model behind each part of the file, for naming the keys an unknown key might have meant.
SECTION_MODELS: dict[str, type[BaseModel]] = {
    "shop": ShopInfo,
    "checkout": CheckoutOptions,
    "products": Product,
    "messages": Texts,
    "templates": Templates,
    "languages": Texts,
    "reminders": ReminderRules,
}
LANGUAGES_FOLDER = "languages"


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
    languages, files, problems = _languages(path, data)
    if problems:
        raise ConfigError(path, problems)
    if languages:
        data = {**data, "languages": languages}
    try:
        return ShopConfig.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        item_errors = any(len(e["loc"]) > 1 and e["loc"][0] == "products" for e in errors)
        # When products fail one by one, pydantic also says the list "has 0 items": noise.
        errors = [e for e in errors if not (item_errors and tuple(e["loc"]) == ("products",))]
        # The shop's settings first, then the products in the order the file lists them.
        errors.sort(key=_product_position)
        raise ConfigError(path, [_describe(data, error, files) for error in errors]) from None


def _languages(
    path: Path, data: dict[str, Any]
) -> tuple[dict[str, dict[str, Any]], dict[str, str], list[str]]:
    """The merchant's wording per language code (files first, then `[messages.xx]` tables,
    which are taken out of `data["messages"]`); which file each code came from; problems."""
    languages: dict[str, dict[str, Any]] = {}
    files: dict[str, str] = {}
    problems: list[str] = []
    folder = path.parent / LANGUAGES_FOLDER
    for file in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
        shown = f"{LANGUAGES_FOLDER}/{file.name}"
        try:
            texts = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{shown}: cannot read the file: {exc}")
            continue
        except tomllib.TOMLDecodeError as exc:
            problems.append(f"{shown}: not valid TOML: {exc}")
            continue
        if set(texts) == {"messages"} and isinstance(texts["messages"], dict):
            texts = texts["messages"]
        languages[file.stem] = texts
        files[file.stem] = shown
    messages = data.get("messages")
    if isinstance(messages, dict):
        for code in [key for key, value in messages.items() if isinstance(value, dict)]:
            languages[code] = {**languages.get(code, {}), **messages[code]}
            table = f"[messages.{code}]"
            files[code] = f"{files[code]} or {table}" if code in files else table
        data["messages"] = {k: v for k, v in messages.items() if not isinstance(v, dict)}
    return languages, files, problems


def _product_position(error: Any) -> int:
    loc = error["loc"]
    return loc[1] if len(loc) > 1 and loc[0] == "products" and isinstance(loc[1], int) else -1


def _describe(data: dict[str, Any], error: Any, files: dict[str, str]) -> str:
    """Name the place of a problem as a merchant sees it: the product id and the field, the
    language file and the key."""
    loc = list(error["loc"])
    message = _message(error)
    if len(loc) >= 2 and loc[0] == "languages":
        where = files.get(str(loc[1]), f"[messages.{loc[1]}]")
        if len(loc) >= 3 and loc[2] == "[key]":
            return f"{where}: {loc[1]!r} is not a language code (like ta, hi or pt-BR)"
        key = ".".join(str(part) for part in loc[2:]) or "(whole file)"
        return f"{where}, key {key}: {message}"
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
        if loc[0] == "products" and "translations" in loc[:-1]:
            model = ProductText
        known = list(model.model_fields)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
        return f"unknown key; {hint}"
    if error["type"] == "missing":
        return "required, but missing"
    return str(error["msg"]).removeprefix("Value error, ")
