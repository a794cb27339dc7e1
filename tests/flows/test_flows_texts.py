"""The merchant's wording from [messages] in config.toml."""

import pytest
from flows_support import Chat, buttons, context, last, shop
from pydantic import ValidationError

from flows.texts import Texts, placeholders


def test_merchant_wording_replaces_the_defaults() -> None:
    config = shop(
        messages={
            "welcome": "Namaste! Welcome to {shop} ☕",
            "button_browse": "Menu dekhein",
            "hint": "Samjha nahi. *menu* likhiye.",
        }
    )
    chat = Chat(ctx=context(config))

    welcome = last(chat.says("hi"))
    assert welcome.body == "Namaste! Welcome to Chai Point ☕"
    assert "Menu dekhein" in buttons(welcome)
    assert last(chat.says("what?")).body == "Samjha nahi. *menu* likhiye."


def test_an_override_may_drop_placeholders() -> None:
    config = shop(messages={"welcome": "Hello!"})
    assert last(Chat(ctx=context(config)).says("hello")).body == "Hello!"


@pytest.mark.parametrize(
    ("field", "value", "complaint"),
    [
        ("welcome", "Welcome to {store}", "{store}|store"),
        ("welcome", "Welcome to {shop.__class__}", "shop.__class__"),
        ("welcome", "Welcome to {}", "allowed"),
        ("welcome", "Welcome to {shop", "not a valid template"),
        # A format spec can ask for any width: 200 MB of spaces in every welcome.
        ("welcome", "Welcome to {shop:>200000000}", r"\{shop:>200000000\}.*plain"),
        ("welcome", "Welcome to {shop!r}", r"\{shop!r\}.*plain"),
        ("cart_line", "{quantity:d} × {product!s:<9}", r"\{quantity:d\}, \{product!s:<9\}"),
        ("welcome", "Welcome to {shop:{shop}}", "format spec"),
        ("hint", "   ", "blank"),
        ("button_browse", "Browse our lovely catalog", "20 characters"),
        ("row_more", "x" * 25, "24 characters"),
        ("no_such_text", "hello", "Extra inputs"),
    ],
)
def test_a_bad_override_fails_when_the_config_loads(field: str, value: str, complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        shop(messages={field: value})


def test_every_default_template_has_valid_placeholders() -> None:
    for name in Texts.model_fields:
        placeholders(getattr(Texts(), name))
