"""The merchant's wording from [messages] in config.toml."""

import pytest
from flows_support import Chat, buttons, context, last, order, shop
from pydantic import ValidationError

from flows import limits, views
from flows.catalog import BUNDLED_LANGUAGES
from flows.orders import FulfilmentStatus, OrderStatus
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


# --- every bundled language ------------------------------------------------------------------

TITLE_LIMITS = {
    "button_": limits.BUTTON_TITLE_MAX,
    "list_button_": limits.LIST_BUTTON_LABEL_MAX,
    "row_": limits.LIST_ROW_TITLE_MAX,
    "section_": limits.LIST_SECTION_TITLE_MAX,
    "language_name": limits.LIST_ROW_TITLE_MAX,
}
# Placeholder values as long as they get in practice: a 25-character order id, the largest
# price, a long product name (shortened to 200 by the catalog), a 500-character address.
WORST_CASE = {
    "order_id": "ORD-20261122-3F9A1C2B5D7E",
    "amount": "₹5,00,000.00",
    "total": "₹50,00,000.00",
    "price": "₹5,00,000.00",
    "old_price": "₹5,00,000.00",
    "unit_price": "₹5,00,000.00",
    "line_total": "₹50,00,000.00",
    "minimum": "₹1.00",
    "product": "P" * 200,
    "products": "P" * 200,
    "ids": "I" * 200,
    "category": "C" * 100,
    "shop": "S" * 60,
    "address": "A" * 256,
    "reason": "R" * 200,
    "courier": "C" * 100,
    "tracking": "T" * 300,
    "url": "https://" + "u" * 292,
    "date": "22/11/2026",
    "status": "S" * 60,
    "count": "1000",
    "left": "1000000000",  # MAX_STOCK
    "max": "1000",
    "min": "10",
    "minutes": "259200",
    "page": "100",
    "pages": "100",
    "quantity": "1000",
}


@pytest.mark.parametrize("language", sorted(BUNDLED_LANGUAGES))
def test_a_bundled_language_has_every_text_with_the_same_placeholders(language: str) -> None:
    bundled = BUNDLED_LANGUAGES[language]
    assert set(bundled) == set(Texts.model_fields)
    for name, text in bundled.items():
        english = str(Texts.model_fields[name].default)
        assert placeholders(text) == placeholders(english), name
    Texts.model_validate(bundled)  # the limits on titles, the checks on templates


@pytest.mark.parametrize("language", ["en", *sorted(BUNDLED_LANGUAGES)])
def test_every_text_in_every_bundled_language_fits_whatsapp(language: str) -> None:
    texts = shop().texts_in(language)
    for name in Texts.model_fields:
        text = getattr(texts, name)
        limit = next(
            (limit for prefix, limit in TITLE_LIMITS.items() if name.startswith(prefix)), None
        )
        if limit is not None:
            assert len(text) <= limit, (language, name, text)
            continue
        filled = text.format(**WORST_CASE)
        # Bodies of interactive messages hold 1024 characters, and hold these with room to
        # spare; text messages (4096) hold anything that fits here.
        assert len(filled) <= limits.INTERACTIVE_BODY_MAX, (language, name, len(filled))


@pytest.mark.parametrize("language", ["en", *sorted(BUNDLED_LANGUAGES)])
def test_every_order_status_fits_an_order_row_in_every_bundled_language(language: str) -> None:
    texts = shop().texts_in(language)
    base = order(order_id=WORST_CASE["order_id"])
    for status in OrderStatus:
        for fulfilment in FulfilmentStatus:
            for refunded in (0, 1, base.total):
                moved = base.model_copy(
                    update={"status": status, "fulfilment": fulfilment, "refunded_total": refunded}
                )
                row = texts.order_row_description.format(
                    order_id=moved.id, status=views.order_status_text(texts, moved)
                )
                assert len(row) <= limits.LIST_ROW_DESCRIPTION_MAX, row
    title = texts.order_row_title.format(date="22/11/2026", total="₹5,000.00")
    assert len(title) <= limits.LIST_ROW_TITLE_MAX, title
