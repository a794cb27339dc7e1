"""Each outgoing message kind renders to the exact Cloud API JSON."""

from typing import Any

import pytest

from bot.whatsapp import render_mark_read, render_message
from flows.messages import (
    Button,
    Row,
    Section,
    SendButtons,
    SendCtaUrl,
    SendList,
    SendTemplate,
    SendText,
)

PHONE = "919812300001"
USER_ID = "IN.7702938475610293847"
TO_PHONE = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": PHONE}


def test_text() -> None:
    rendered = render_message(SendText(body="Hi ₹499 👍"), phone=PHONE, user_id=None)

    assert rendered == {
        **TO_PHONE,
        "type": "text",
        "text": {"body": "Hi ₹499 👍", "preview_url": False},
    }


def test_text_with_preview() -> None:
    message = SendText(body="https://example.com", preview_url=True)

    assert render_message(message, phone=PHONE, user_id=None)["text"]["preview_url"] is True


def test_buttons_with_header_and_footer() -> None:
    message = SendButtons(
        body="Your cart: 2 items",
        buttons=(Button(id="checkout", title="Checkout"), Button(id="cart:clear", title="Clear")),
        header="Cart",
        footer="Prices incl. GST",
    )

    assert render_message(message, phone=PHONE, user_id=None) == {
        **TO_PHONE,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "header": {"type": "text", "text": "Cart"},
            "body": {"text": "Your cart: 2 items"},
            "footer": {"text": "Prices incl. GST"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "checkout", "title": "Checkout"}},
                    {"type": "reply", "reply": {"id": "cart:clear", "title": "Clear"}},
                ]
            },
        },
    }


def test_buttons_without_header_or_footer_omit_them() -> None:
    message = SendButtons(body="Sure?", buttons=(Button(id="yes", title="Yes"),))

    assert render_message(message, phone=PHONE, user_id=None)["interactive"] == {
        "type": "button",
        "body": {"text": "Sure?"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}}]},
    }


def test_list() -> None:
    message = SendList(
        body="Pick a category",
        button_label="Categories",
        sections=(
            Section(
                title="Clothes",
                rows=(
                    Row(id="cat:shirts", title="Shirts", description="Cotton & linen"),
                    Row(id="cat:jeans", title="Jeans"),
                ),
            ),
            Section(title="Shoes", rows=(Row(id="cat:footwear", title="Footwear"),)),
        ),
        header="Our shop",
    )

    assert render_message(message, phone=PHONE, user_id=None) == {
        **TO_PHONE,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "header": {"type": "text", "text": "Our shop"},
            "body": {"text": "Pick a category"},
            "action": {
                "button": "Categories",
                "sections": [
                    {
                        "title": "Clothes",
                        "rows": [
                            {
                                "id": "cat:shirts",
                                "title": "Shirts",
                                "description": "Cotton & linen",
                            },
                            {"id": "cat:jeans", "title": "Jeans"},
                        ],
                    },
                    {"title": "Shoes", "rows": [{"id": "cat:footwear", "title": "Footwear"}]},
                ],
            },
        },
    }


def test_cta_url() -> None:
    message = SendCtaUrl(
        body="Pay ₹1,499.00 for order 42",
        display_text="Pay now",
        url="https://rzp.io/i/abc123",
        footer="Link valid for 1 hour",
    )

    assert render_message(message, phone=PHONE, user_id=None) == {
        **TO_PHONE,
        "type": "interactive",
        "interactive": {
            "type": "cta_url",
            "body": {"text": "Pay ₹1,499.00 for order 42"},
            "footer": {"text": "Link valid for 1 hour"},
            "action": {
                "name": "cta_url",
                "parameters": {"display_text": "Pay now", "url": "https://rzp.io/i/abc123"},
            },
        },
    }


def test_template_with_body_parameters_in_order() -> None:
    """The Cloud API's template shape (REFERENCE.md / merchant notes §2.2)."""
    message = SendTemplate(
        name="order_shipped", language="en", body_parameters=("WA-1042", "DTDC", "AWB123")
    )

    assert render_message(message, phone=PHONE, user_id=None) == {
        **TO_PHONE,
        "type": "template",
        "template": {
            "name": "order_shipped",
            "language": {"code": "en"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "WA-1042"},
                        {"type": "text", "text": "DTDC"},
                        {"type": "text", "text": "AWB123"},
                    ],
                }
            ],
        },
    }


def test_a_template_without_parameters_has_no_components() -> None:
    message = SendTemplate(name="order_delivered", language="en_US")

    assert "components" not in render_message(message, phone=PHONE, user_id=None)["template"]


def test_username_customer_gets_recipient_instead_of_to() -> None:
    rendered = render_message(SendText(body="Hi"), phone=None, user_id=USER_ID)

    assert rendered == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "recipient": USER_ID,
        "type": "text",
        "text": {"body": "Hi", "preview_url": False},
    }


def test_phone_wins_when_both_are_known() -> None:
    rendered = render_message(SendText(body="Hi"), phone=PHONE, user_id=USER_ID)

    assert rendered["to"] == PHONE
    assert "recipient" not in rendered


def test_no_recipient_at_all_is_refused() -> None:
    with pytest.raises(ValueError, match="phone number or a business-scoped user id"):
        render_message(SendText(body="Hi"), phone=None, user_id=None)


def test_an_unknown_message_kind_is_refused() -> None:
    not_a_message: Any = object()
    with pytest.raises(TypeError):
        render_message(not_a_message, phone=PHONE, user_id=None)


def test_mark_read() -> None:
    assert render_mark_read("wamid.X") == {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.X",
    }
