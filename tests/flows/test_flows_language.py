"""The customer's language: English and Hindi out of the box, a merchant's own, switching."""

from typing import Any

import pytest
from flows_support import TEA_SHOP, Chat, buttons, context, last, link, order, rows, shop
from pydantic import ValidationError

from flows import callback_data as cb
from flows.effects import PlaceOrder, SetLanguage
from flows.events import PaymentLinkCreated
from flows.messages import SendButtons, SendList
from flows.orders import OrderStatus
from flows.state import CartLine, Conversation, EnteringAddress

HINDI_WELCOME = "Chai Point में आपका स्वागत है! 👋\nआप क्या करना चाहेंगे?"


def translated_shop(**changes: Any) -> Any:
    products = [dict(p) for p in TEA_SHOP["products"]]
    products[0]["translations"] = {
        "hi": {"name": "मसाला चाय 250 ग्राम", "description": "इलायची और अदरक वाली कड़क असम चाय"}
    }
    return shop(products=products, **changes)


def test_language_lists_english_and_hindi_each_in_its_own_words() -> None:
    chat = Chat()
    listing = last(chat.says("language"))
    assert isinstance(listing, SendList)
    assert listing.body == "Which language would you like?"
    assert list(rows(listing)) == ["English", "हिन्दी"]


def test_choosing_hindi_is_remembered_and_the_shop_answers_in_hindi() -> None:
    chat = Chat()
    listing = last(chat.says("language"))
    decision = chat.picks(rows(listing)["हिन्दी"])
    assert decision.effects == (SetLanguage(language="hi"),)
    assert last(decision).body == HINDI_WELCOME
    assert list(buttons(last(decision))) == ["सामान देखें", "कार्ट देखें", "मदद"]
    assert chat.ctx.language == "hi"
    assert last(chat.says("cart")).body == "आपका कार्ट खाली है।"
    assert chat.says("cart").effects == ()  # remembered once, not on every step


@pytest.mark.parametrize("greeting", ["हाय", "नमस्ते", "हैलो"])
def test_a_first_message_in_devanagari_picks_hindi(greeting: str) -> None:
    chat = Chat()
    decision = chat.says(greeting)
    assert last(decision).body == HINDI_WELCOME
    assert SetLanguage(language="hi") in decision.effects


def test_devanagari_later_in_a_conversation_does_not_switch_the_language() -> None:
    in_cart = (CartLine(product_id="masala-chai", quantity=1),)
    chat = Chat(state=Conversation(phase=EnteringAddress(), cart=in_cart))
    decision = chat.says("फ्लैट 4, गांधी नगर, जयपुर")
    assert isinstance(decision.effects[0], PlaceOrder)
    assert not any(isinstance(effect, SetLanguage) for effect in decision.effects)
    assert chat.ctx.language is None


def test_a_customer_who_chose_english_stays_english_when_writing_devanagari() -> None:
    chat = Chat(ctx=context(language="en"))
    decision = chat.says("नमस्ते")
    assert last(decision).body.startswith("Welcome to Chai Point!")
    assert decision.effects == ()


@pytest.mark.parametrize(
    ("typed", "language"), [("hindi", "hi"), ("हिंदी", "hi"), ("हिन्दी", "hi"), ("English", "en")]
)
def test_typing_a_language_name_switches_to_it(typed: str, language: str) -> None:
    chat = Chat(ctx=context(language="hi" if language == "en" else "en"))
    decision = chat.says(typed)
    assert decision.effects == (SetLanguage(language=language),)
    assert chat.ctx.language == language


@pytest.mark.parametrize(
    ("word", "starts"),
    [
        ("menu", HINDI_WELCOME[:10]),
        ("मेनू", HINDI_WELCOME[:10]),
        ("cart", "आपका कार्ट खाली है।"),
        ("कार्ट", "आपका कार्ट खाली है।"),
        ("help", "आप कभी भी ये शब्द"),
        ("मदद", "आप कभी भी ये शब्द"),
        ("orders", "आपका अभी तक कोई ऑर्डर नहीं है।"),
        ("ऑर्डर", "आपका अभी तक कोई ऑर्डर नहीं है।"),
        ("language", "आप कौन-सी भाषा चाहेंगे?"),
        ("भाषा", "आप कौन-सी भाषा चाहेंगे?"),
        ("cancel", "रद्द करने के लिए कुछ नहीं है।"),
        ("रद्द", "रद्द करने के लिए कुछ नहीं है।"),
        ("what?", "माफ़ कीजिए, मैं समझ नहीं पाया।"),
    ],
)
def test_english_and_hindi_command_words_both_work_in_hindi(word: str, starts: str) -> None:
    assert last(Chat(ctx=context(language="hi")).says(word)).body.startswith(starts)


def test_hindi_words_work_for_a_customer_reading_english_too() -> None:
    chat = Chat(ctx=context(language="en"))
    assert last(chat.says("कार्ट")).body == "Your cart is empty."


def test_product_translations_are_shown_and_ordered_in_hindi() -> None:
    chat = Chat(ctx=context(translated_shop(), language="hi"))
    categories = last(chat.says("menu"))
    products = last(chat.taps(buttons(categories)["सामान देखें"]))
    products = last(chat.picks(rows(products)["Tea"]))
    assert "मसाला चाय 250 ग्राम" in rows(products)
    details = last(chat.picks(rows(products)["मसाला चाय 250 ग्राम"]))
    assert details.body.startswith("*मसाला चाय 250 ग्राम*\n₹249.00\n\nइलायची और अदरक")
    added = last(chat.taps(buttons(details)["2"]))
    assert "• 2 × मसाला चाय 250 ग्राम (₹249.00 प्रति): ₹498.00" in added.body
    assert "*कुल: ₹498.00*" in added.body
    asked = last(chat.taps(buttons(added)["चेकआउट"]))
    assert asked.body.startswith("कृपया अपना डिलीवरी पता लिखें")
    placed = chat.says("फ्लैट 4, गांधी नगर, जयपुर 302001")
    assert last(placed).body.startswith("धन्यवाद! ऑर्डर ord_new के लिए भुगतान लिंक")
    new_order = placed.effects[0]
    assert isinstance(new_order, PlaceOrder)
    assert new_order.order.lines[0].name == "मसाला चाय 250 ग्राम"
    # The summary with the link, in Hindi.
    pending = new_order.order
    chat.ctx = chat.ctx.model_copy(update={"event_order": pending, "open_order": pending})
    summary = last(
        chat.send(
            PaymentLinkCreated(
                order_id=pending.id,
                link_id="plink_1",
                url=link().url,
                expires_at=chat.ctx.now + 1800,
            )
        )
    )
    assert isinstance(summary, SendButtons)
    assert summary.body.startswith("🧾 *ऑर्डर ord_new*")
    assert "यह भुगतान लिंक 30 मिनट तक चलेगा।" in summary.body
    assert list(buttons(summary)) == ["अभी भुगतान करें", "ऑर्डर रद्द करें"]


def test_an_english_customer_sees_the_english_product_name() -> None:
    chat = Chat(ctx=context(translated_shop()))
    products = last(chat.picks(cb.BrowseCategories().pack()))
    products = last(chat.picks(rows(products)["Tea"]))
    assert "Masala Chai 250 g" in rows(products)


def test_a_merchant_language_is_offered_and_falls_back_to_english_for_missing_keys() -> None:
    tamil = {"language_name": "தமிழ்", "welcome": "{shop} க்கு வரவேற்கிறோம்!"}
    chat = Chat(ctx=context(shop(languages={"ta": tamil})))
    listing = last(chat.says("language"))
    assert list(rows(listing)) == ["English", "हिन्दी", "தமிழ்"]
    welcome = last(chat.picks(rows(listing)["தமிழ்"]))
    assert welcome.body == "Chai Point க்கு வரவேற்கிறோம்!"
    assert list(buttons(welcome)) == ["Browse", "View cart", "Help"]
    assert chat.ctx.language == "ta"


def test_a_merchant_may_reword_hindi_key_by_key() -> None:
    config = shop(languages={"hi": {"welcome": "नमस्ते! {shop} में स्वागत है।"}})
    chat = Chat(ctx=context(config, language="hi"))
    assert last(chat.says("menu")).body == "नमस्ते! Chai Point में स्वागत है।"
    assert last(chat.says("cart")).body == "आपका कार्ट खाली है।"


def test_a_remembered_language_the_shop_no_longer_speaks_falls_back_to_english() -> None:
    assert last(Chat(ctx=context(language="ta")).says("menu")).body.startswith("Welcome to")


def test_an_unknown_language_row_shows_the_list_again() -> None:
    decision = Chat().picks(cb.ChooseLanguage(language="xx").pack())
    assert decision.effects == ()
    assert list(rows(last(decision))) == ["English", "हिन्दी"]


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"languages": {"en": {"welcome": "Hi"}}}, "English: write its wording under"),
        ({"languages": {"Tamil": {"welcome": "Hi"}}}, "String should match pattern"),
        ({"languages": {"ta": {"welcome": "{store}"}}}, "uses store"),
        ({"languages": {"ta": {"button_browse": "x" * 21}}}, "20 characters"),
        ({"languages": {"ta": {"language_name": "x" * 25}}}, "24 characters"),
        ({"languages": {"ta": {"welcom": "Hi"}}}, "Extra inputs"),
        (
            {
                "languages": {
                    f"x{chr(n)}": {"language_name": f"L{n}"} for n in range(ord("a"), ord("j"))
                }
            },
            "11 languages with English; the list a customer picks from holds 10",
        ),
    ],
)
def test_a_bad_language_fails_when_the_config_loads(
    changes: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        shop(**changes)


@pytest.mark.parametrize(
    ("translations", "complaint"),
    [
        ({"ta": {"name": "மசாலா"}}, "translations for ta, which is not among"),
        ({"en": {"name": "Masala"}}, "translations for en"),
        ({"hi": {"name": "  "}}, "must not be blank"),
        ({"hi": {"name": "x", "colour": "red"}}, "Extra inputs"),
        ({"hi": {"name": "x", "description": "y" * 501}}, "500 characters"),
    ],
)
def test_a_bad_product_translation_fails_when_the_config_loads(
    translations: dict[str, Any], complaint: str
) -> None:
    products = [dict(p) for p in TEA_SHOP["products"]]
    products[0]["translations"] = translations
    with pytest.raises(ValidationError, match=complaint):
        shop(products=products)


def test_orders_read_in_hindi() -> None:
    paid = order(order_id="ORD-1").model_copy(update={"status": OrderStatus.PAID})
    chat = Chat(ctx=context(language="hi", recent_orders=(paid,), event_order=paid))
    listing = last(chat.says("मेरे ऑर्डर"))
    assert isinstance(listing, SendList)
    assert listing.body.startswith("आपके हाल के ऑर्डर।")
    assert [r.description for r in listing.sections[0].rows] == [
        "ORD-1 · भुगतान हो गया · तैयार हो रहा है"
    ]
    detail = last(chat.picks(cb.ShowOrder(order_id="ORD-1").pack()))
    assert "भुगतान: भुगतान हो गया" in detail.body
    assert list(buttons(detail)) == ["फिर से मँगाएँ", "मेरे ऑर्डर"]


def test_switching_from_hindi_back_to_english_by_row_or_word() -> None:
    for switch in ("english", "English", "en"):
        chat = Chat(ctx=context(language="hi"))
        decision = chat.says(switch)
        assert last(decision).body.startswith("Welcome to Chai Point!")
        assert decision.effects == (SetLanguage(language="en"),)
    chat = Chat(ctx=context(language="hi"))
    listing = last(chat.says("भाषा"))
    assert list(rows(listing)) == ["English", "हिन्दी"]
    assert last(chat.picks(rows(listing)["English"])).body.startswith("Welcome to Chai Point!")
    assert last(chat.says("cart")).body == "Your cart is empty."
