"""Customer says hello, browses the catalog, picks a product and a quantity."""

from typing import Any

import pytest
from flows_support import Chat, all_text, buttons, context, last, row_ids, row_titles, rows, shop

from flows import callback_data as cb
from flows import limits
from flows.catalog import ShopConfig
from flows.events import MediaReceived, ReactionReceived, UnsupportedReceived
from flows.messages import SendButtons, SendList, SendText
from flows.state import ChoosingQuantity, Conversation, EnteringAddress, Idle

HINT = shop().messages.hint


@pytest.mark.parametrize(
    "greeting",
    ["hi", "Hi", "HELLO", "hey", "hii", "Hiiii!!", "  namaste ", "start", "menu", "*Menu*"],
)
def test_a_greeting_gets_the_welcome_with_three_buttons(greeting: str) -> None:
    welcome = last(Chat().says(greeting))
    assert welcome.body.startswith("Welcome to Chai Point!")
    assert list(buttons(welcome)) == ["Browse", "View cart", "Help"]


@pytest.mark.parametrize(
    ("typed", "starts_with"),
    [
        ("help", "You can type these words"),
        ("HELP?", "You can type these words"),
        (" Cart ", "Your cart is empty."),
        ("CHECKOUT!", "Your cart is empty."),
        ("cancel.", "There is nothing to cancel."),
        ("please send tea", HINT),
        ("", HINT),
        ("🙂", HINT),
    ],
)
def test_typed_words_work_in_any_case(typed: str, starts_with: str) -> None:
    assert last(Chat().says(typed)).body.startswith(starts_with)


@pytest.mark.parametrize(
    ("event", "answer"),
    [
        (MediaReceived(message_id="w", media_type="image"), "I can only read text and taps"),
        (MediaReceived(message_id="w", media_type="audio"), "I can only read text and taps"),
        (MediaReceived(message_id="w", media_type="document"), "I can only read text and taps"),
        (MediaReceived(message_id="w", media_type="sticker"), None),
        (ReactionReceived(message_id="w", emoji="👍"), None),
        (ReactionReceived(message_id="w", emoji=None), None),
        (UnsupportedReceived(message_id="w", message_type="poll"), "Sorry, I can't read that"),
    ],
)
def test_media_reactions_and_unknown_messages(event: Any, answer: str | None) -> None:
    chat = Chat(state=Conversation(phase=ChoosingQuantity(product_id="kahwa")))
    decision = chat.send(event)
    assert decision.state == Conversation(phase=ChoosingQuantity(product_id="kahwa"))
    if answer is None:
        assert decision.messages == ()
    else:
        assert last(decision).body.startswith(answer)


@pytest.mark.parametrize(
    "stale_id",
    ["prod:no-such-product", "cat:000000000000:0", "qty:no-such:1", "garbage", "cats:x"],
)
def test_unknown_or_stale_ids_get_the_hint_and_change_nothing(stale_id: str) -> None:
    state = Conversation(phase=EnteringAddress(), address="old")
    chat = Chat(state=state)
    decision = chat.taps(stale_id)
    assert decision.state == state
    assert [m.body for m in decision.messages] == [HINT]


def test_browse_shows_categories_then_products_with_prices() -> None:
    chat = Chat()
    categories = last(chat.taps(cb.BrowseCategories().pack()))
    assert list(rows(categories)) == ["Tea", "Brewing", "Sweets"]  # Gifts has nothing available

    products = last(chat.picks(rows(categories)["Tea"]))
    assert isinstance(products, SendList)
    descriptions = [row.description for row in products.sections[0].rows]
    assert descriptions == [
        "₹249.00 · Strong Assam blend with cardamom and ginger",
        "₹199.50",
        "₹399.00",
    ]
    assert list(rows(products)) == [
        "Masala Chai 250 g",
        "Tulsi Green Tea 100 g",
        "कश्मीरी कहवा 100 g",
    ]


def test_long_names_are_shortened_to_the_row_limit() -> None:
    chat = Chat()
    brewing = cb.BrowseCategory(category=_key("Brewing")).pack()
    titles = list(rows(last(chat.picks(brewing))))
    assert titles == ["Stainless Steel Chai…", "Silver Samovar"]


def test_a_product_shows_details_and_asks_how_many() -> None:
    chat = Chat()
    details = last(chat.picks(cb.ShowProduct(product_id="masala-chai").pack()))
    assert "*Masala Chai 250 g*\n₹249.00" in details.body
    assert "Strong Assam blend" in details.body
    assert "any number from 1 to 20" in details.body
    assert list(buttons(details)) == ["1", "2", "3"]
    assert chat.state.phase == ChoosingQuantity(product_id="masala-chai")


def test_an_unavailable_product_is_named_with_a_browse_button() -> None:
    chat = Chat()
    decision = chat.picks(cb.ShowProduct(product_id="gift-box").pack())
    assert last(decision).body == "Sorry, Festive Gift Box is no longer available."
    assert list(buttons(last(decision))) == ["Browse"]


@pytest.mark.parametrize(
    ("typed", "in_cart"),
    [("3", 3), (" 20 ", 20), ("1.", 1), ("५", 5)],
)
def test_a_typed_quantity_goes_into_the_cart(typed: str, in_cart: int) -> None:
    chat = Chat(state=Conversation(phase=ChoosingQuantity(product_id="tulsi-green")))
    decision = chat.says(typed)
    assert chat.state.phase == Idle()
    assert [(line.product_id, line.quantity) for line in chat.state.cart] == [
        ("tulsi-green", in_cart)
    ]
    assert list(buttons(last(decision))) == ["Checkout", "Keep shopping", "View cart"]


@pytest.mark.parametrize("typed", ["0", "21", "two", "2.5", "9999999999999999"])
def test_an_invalid_quantity_is_explained_and_the_question_stays(typed: str) -> None:
    state = Conversation(phase=ChoosingQuantity(product_id="tulsi-green"))
    decision = Chat(state=state).says(typed)
    assert decision.state == state
    assert last(decision).body == "Please type a number from 1 to 20, or *cancel*."


def test_quantity_buttons_respect_a_small_maximum() -> None:
    chat = Chat(ctx=context(shop(checkout={"max_quantity_per_item": 2})))
    details = last(chat.picks(cb.ShowProduct(product_id="kahwa").pack()))
    assert list(buttons(details)) == ["1", "2"]


def test_help_keeps_the_question_open() -> None:
    state = Conversation(phase=ChoosingQuantity(product_id="kahwa"))
    chat = Chat(state=state)
    assert "You can type" in all_text(chat.says("help"))
    assert chat.state == state
    chat.says("2")
    assert chat.state.cart[0].quantity == 2


@pytest.mark.parametrize(
    ("phase", "reply"),
    [
        (ChoosingQuantity(product_id="kahwa"), "Cancelled."),
        (EnteringAddress(), "Cancelled."),
        (Idle(), "There is nothing to cancel."),
    ],
)
def test_cancel_leaves_a_question_for_the_menu(phase: Any, reply: str) -> None:
    chat = Chat(state=Conversation(phase=phase))
    message = last(chat.says("Cancel"))
    assert message.body.startswith(reply)
    assert list(buttons(message)) == ["Browse", "View cart", "Help"]
    assert chat.state.phase == Idle()


# --- catalogs of any size ---------------------------------------------------------------------


def _key(category: str) -> str:
    from flows.views import category_key

    return category_key(category)


def big_shop(categories: int, per_category: int) -> ShopConfig:
    """Long Hindi names and long descriptions, so every row needs shortening."""
    products = [
        {
            "id": f"p{c}-{n}",
            "name": f"हस्तनिर्मित मसाला चाय का डिब्बा संख्या {c}-{n} विशेष संस्करण",
            "price": f"{100 + 7 * n}.{n % 100:02d}",
            "category": f"श्रेणी {c}: बहुत लंबा नाम वाली चाय की श्रेणी",
            "description": "कड़क असम चाय, इलायची और अदरक के साथ। " * 4,
        }
        for c in range(categories)
        for n in range(per_category)
    ]
    return ShopConfig.model_validate({"shop": {"name": "चाय घर"}, "products": products})


def reachable_products(chat: Chat) -> set[str]:
    """Tap every row and button from Browse on, as a customer with endless patience would."""
    seen: set[str] = set()
    products: set[str] = set()
    to_visit = [cb.BrowseCategories().pack()]
    while to_visit:
        packed = to_visit.pop()
        if packed in seen:
            continue
        seen.add(packed)
        action = cb.parse(packed)
        if isinstance(action, cb.ShowProduct):
            products.add(action.product_id)
            continue
        for message in chat.picks(packed).messages:
            assert_fits(message)
            if isinstance(message, SendList):
                to_visit += row_ids(message)
    return products


def assert_fits(message: object) -> None:
    if isinstance(message, SendList):
        all_rows = [row for section in message.sections for row in section.rows]
        assert 1 <= len(all_rows) <= limits.LIST_ROWS_MAX
        assert len(message.sections) <= limits.LIST_SECTIONS_MAX
        for row in all_rows:
            assert len(row.title) <= limits.LIST_ROW_TITLE_MAX
            assert len(row.description or "") <= limits.LIST_ROW_DESCRIPTION_MAX
            assert len(row.id) <= limits.LIST_ROW_ID_MAX
        assert all(len(s.title) <= limits.LIST_SECTION_TITLE_MAX for s in message.sections)
    if isinstance(message, SendButtons | SendText):
        assert message.body


@pytest.mark.parametrize(
    ("categories", "per_category"),
    [(1, 45), (3, 15), (12, 1), (11, 10), (23, 4), (2, 9), (1, 10), (1, 11)],
)
def test_every_product_of_a_big_catalog_is_reachable(categories: int, per_category: int) -> None:
    config = big_shop(categories, per_category)
    reached = reachable_products(Chat(ctx=context(config)))
    assert reached == {product.id for product in config.products}


def test_a_page_of_products_has_previous_and_more_rows() -> None:
    config = big_shop(1, 45)
    key = _key(config.products[0].category)
    chat = Chat(ctx=context(config))
    middle = last(chat.picks(cb.BrowseCategory(category=key, page=1).pack()))
    titles = row_titles(middle)
    assert len(titles) == 10
    assert titles[-2:] == ["Previous", "More…"]
    assert middle.footer == "Page 2 of 6"
    assert all(len(title) <= 24 and title.endswith("…") for title in titles[:-2])


def test_a_page_past_the_end_shows_the_last_page() -> None:
    config = big_shop(1, 45)
    key = _key(config.products[0].category)
    last_page = last(
        Chat(ctx=context(config)).picks(cb.BrowseCategory(category=key, page=99).pack())
    )
    assert last_page.footer == "Page 6 of 6"
    assert "More…" not in row_titles(last_page)


def test_a_shop_with_one_category_goes_straight_to_its_products() -> None:
    config = big_shop(1, 3)
    products = last(Chat(ctx=context(config)).taps(cb.BrowseCategories().pack()))
    assert row_ids(products) == ["prod:p0-0", "prod:p0-1", "prod:p0-2"]


def test_a_shop_with_nothing_available_says_so() -> None:
    config = ShopConfig.model_validate(
        {
            "shop": {"name": "Closed"},
            "products": [
                {"id": "x", "name": "X", "price": "1.00", "category": "C", "available": False}
            ],
        }
    )
    message = last(Chat(ctx=context(config)).taps(cb.BrowseCategories().pack()))
    assert message.body.startswith("Sorry, nothing is available right now")
