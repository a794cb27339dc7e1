"""The cart: adding, merging, capping, removing, and money to the paisa."""

import pytest
from flows_support import Chat, buttons, context, last, row_ids, row_titles, shop

from flows import callback_data as cb
from flows import cart
from flows.events import CatalogOrderReceived, OrderedItem
from flows.money import format_inr
from flows.state import AwaitingPayment, CartLine, ChoosingQuantity, Conversation


def lines(*pairs: tuple[str, int]) -> tuple[CartLine, ...]:
    return tuple(CartLine(product_id=pid, quantity=qty) for pid, qty in pairs)


@pytest.mark.parametrize(
    ("paise", "shown"),
    [
        (0, "₹0.00"),
        (50, "₹0.50"),
        (19950 * 3, "₹598.50"),
        (149900, "₹1,499.00"),
        (12500000, "₹1,25,000.00"),
        (250000000, "₹25,00,000.00"),
        (1234567891, "₹1,23,45,678.91"),
    ],
)
def test_money_is_shown_in_rupees_with_indian_grouping(paise: int, shown: str) -> None:
    assert format_inr(paise) == shown


@pytest.mark.parametrize(
    ("before", "add", "after", "capped"),
    [
        ((), ("kahwa", 2), (("kahwa", 2),), False),
        ((("kahwa", 2),), ("kahwa", 3), (("kahwa", 5),), False),
        ((("kahwa", 2), ("kettle", 1)), ("kettle", 1), (("kahwa", 2), ("kettle", 2)), False),
        ((("kahwa", 18),), ("kahwa", 5), (("kahwa", 20),), True),
        ((), ("kahwa", 25), (("kahwa", 20),), True),
    ],
)
def test_adding_merges_lines_and_caps_at_the_maximum(
    before: tuple[tuple[str, int], ...],
    add: tuple[str, int],
    after: tuple[tuple[str, int], ...],
    capped: bool,
) -> None:
    added = cart.add(lines(*before), *add, max_quantity=20)
    assert added.cart == lines(*after)
    assert added.capped is capped


def test_adding_to_a_full_line_says_so() -> None:
    chat = Chat(state=Conversation(cart=lines(("tulsi-green", 19))))
    decision = chat.taps(cb.ChooseQuantity(product_id="tulsi-green", quantity=3).pack())
    assert chat.state.cart == lines(("tulsi-green", 20))
    assert "at most 20 of Tulsi Green Tea 100 g, so your cart has 20" in last(decision).body


def test_the_cart_shows_lines_line_totals_and_the_total_to_the_paisa() -> None:
    chat = Chat(state=Conversation(cart=lines(("tulsi-green", 3), ("masala-chai", 2))))
    message = last(chat.says("cart"))
    assert message.body == (
        "🛒 *Your cart*\n"
        "• 3 × Tulsi Green Tea 100 g (₹199.50 each): ₹598.50\n"
        "• 2 × Masala Chai 250 g (₹249.00 each): ₹498.00\n"
        "*Total: ₹1,096.50*"
    )
    assert list(buttons(message)) == ["Checkout", "Remove item", "Clear cart"]


def test_big_amounts_use_indian_grouping_in_the_cart() -> None:
    chat = Chat(state=Conversation(cart=lines(("silver-urn", 20))))
    assert "*Total: ₹25,00,000.00*" in last(chat.says("cart")).body


def test_an_unavailable_line_is_named_in_the_cart() -> None:
    chat = Chat(state=Conversation(cart=lines(("kahwa", 1), ("gift-box", 1), ("gone", 2))))
    body = last(chat.says("cart")).body
    assert "• Festive Gift Box is no longer available and will be removed." in body
    assert "• gone is no longer available and will be removed." in body
    assert "*Total: ₹399.00*" in body


def test_an_empty_cart_offers_browsing() -> None:
    message = last(Chat().taps(cb.ViewCart().pack()))
    assert message.body == "Your cart is empty."
    assert list(buttons(message)) == ["Browse"]


def test_remove_item_lists_the_lines_and_removes_the_one_picked() -> None:
    chat = Chat(state=Conversation(cart=lines(("kahwa", 1), ("kettle", 2))))
    listing = last(chat.taps(cb.PickLineToRemove().pack()))
    assert row_titles(listing) == ["कश्मीरी कहवा 100 g", "Stainless Steel Chai…"]

    after = last(chat.picks(row_ids(listing)[0]))
    assert chat.state.cart == lines(("kettle", 2))
    assert after.body.startswith("Removed कश्मीरी कहवा 100 g from your cart.\n🛒 *Your cart*")


def test_removing_the_last_line_says_the_cart_is_empty() -> None:
    chat = Chat(state=Conversation(cart=lines(("kahwa", 1))))
    message = last(chat.picks(cb.RemoveLine(product_id="kahwa").pack()))
    assert message.body == "Removed कश्मीरी कहवा 100 g from your cart.\nYour cart is empty."
    assert chat.state.cart == ()


def test_a_long_cart_is_paged_in_the_remove_list() -> None:
    config = shop(
        products=[
            {"id": f"p{n}", "name": f"Product {n}", "price": "10.00", "category": "All"}
            for n in range(25)
        ]
    )
    chat = Chat(
        ctx=context(config), state=Conversation(cart=lines(*((f"p{n}", 1) for n in range(25))))
    )
    seen: set[str] = set()
    page = 0
    while True:
        listing = last(chat.taps(cb.PickLineToRemove(page=page).pack()))
        ids = row_ids(listing)
        assert len(ids) <= 10
        seen.update(i for i in ids if i.startswith("rm:"))
        if not any(i == cb.PickLineToRemove(page=page + 1).pack() for i in ids):
            break
        page += 1
    assert seen == {f"rm:p{n}" for n in range(25)}


def test_a_long_cart_summary_is_cut_to_fit_with_a_count_of_the_rest() -> None:
    config = shop(
        products=[
            {"id": f"p{n}", "name": f"Product with a long name number {n}", "price": "10.00",
             "category": "All"}
            for n in range(60)
        ]
    )  # fmt: skip
    chat = Chat(
        ctx=context(config), state=Conversation(cart=lines(*((f"p{n}", 1) for n in range(60))))
    )
    body = last(chat.says("cart")).body
    assert len(body) <= 1024
    assert "more" in body.splitlines()[-2]
    assert body.endswith("*Total: ₹600.00*")


def test_clear_cart_empties_it() -> None:
    chat = Chat(state=Conversation(cart=lines(("kahwa", 1))))
    message = last(chat.taps(cb.ClearCart().pack()))
    assert chat.state.cart == ()
    assert message.body == "Your cart is now empty."


# --- catalog orders from WhatsApp ---------------------------------------------------------------


def catalog_order(*items: tuple[str, int]) -> CatalogOrderReceived:
    return CatalogOrderReceived(
        message_id="wamid.order",
        items=tuple(OrderedItem(product_id=pid, quantity=qty) for pid, qty in items),
    )


def test_a_catalog_order_replaces_the_cart_and_goes_to_checkout() -> None:
    chat = Chat(state=Conversation(cart=lines(("kettle", 1)), address="12 MG Road, Pune"))
    decision = chat.send(catalog_order(("kahwa", 2), ("masala-chai", 1)))
    assert chat.state.cart == lines(("kahwa", 2), ("masala-chai", 1))
    assert list(buttons(last(decision))) == ["Use this address", "New address"]


def test_a_catalog_order_names_unknown_ids_caps_and_ignores_zero() -> None:
    chat = Chat(state=Conversation(phase=ChoosingQuantity(product_id="kahwa")))
    decision = chat.send(
        catalog_order(("kahwa", 50), ("nope", 1), ("gift-box", 1), ("kettle", 0), ("kahwa", 1))
    )
    assert chat.state.cart == lines(("kahwa", 20))
    said = [m.body for m in decision.messages]
    assert said[0] == "You can order at most 20 of कश्मीरी कहवा 100 g, so your cart has 20."
    assert said[1] == "Not available, so not added to your cart: nope, gift-box."
    assert said[2].startswith("Please type your delivery address")


def test_a_catalog_order_with_nothing_usable_keeps_the_old_cart() -> None:
    chat = Chat(state=Conversation(cart=lines(("kettle", 1))))
    decision = chat.send(catalog_order(("nope", 2), ("kahwa", -1)))
    assert chat.state.cart == lines(("kettle", 1))
    assert "none of the items in your order are available" in last(decision).body


def test_catalog_prices_come_from_the_config() -> None:
    # OrderedItem carries no price at all: the order is priced from the merchant's config.
    chat = Chat(ctx=context(shop(checkout={"collect_address": False})))
    decision = chat.send(catalog_order(("tulsi-green", 3)))
    placed = decision.effects[0]
    assert placed.kind == "place_order"
    assert placed.order.total == 59850
    assert placed.order.lines[0].unit_price == 19950
    assert chat.state.phase == AwaitingPayment(order_id="ord_new")
    assert chat.state.cart == lines(("tulsi-green", 3))


def test_a_catalog_order_past_the_cap_is_read_to_the_cap_and_shown_before_checkout() -> None:
    # 150 lines, one kahwa each: only the first 100 are read, and the customer sees the cart
    # (not the address question) with a note saying so.
    chat = Chat(state=Conversation(address="12 MG Road, Pune"))
    decision = chat.send(catalog_order(*[("kahwa", 1)] * (cart.MAX_CATALOG_ORDER_ITEMS + 50)))
    assert chat.state.cart == lines(("kahwa", 20))
    said = [m.body for m in decision.messages]
    assert any("more than 100 items, so only the first 100 were read" in s for s in said)
    assert "Your cart" in said[-1]
    assert "Use this address" not in buttons(last(decision))


def test_a_catalog_order_names_at_most_ten_unknown_ids_each_shortened() -> None:
    chat = Chat()
    unknown = [(f"nope-{i}-" + "x" * 100, 1) for i in range(30)]
    decision = chat.send(catalog_order(*unknown, ("kahwa", 1)))
    note = decision.messages[0].body
    assert note.startswith("Not available, so not added to your cart: nope-0-xxx")
    assert "nope-9-" in note
    assert "nope-10-" not in note
    assert "…and 20 more" in note
    assert len(note) < 700


def test_the_merchant_can_reword_the_too_many_items_note() -> None:
    config = shop(messages={"catalog_too_many_items": "Max {max} lines per order!"})
    chat = Chat(ctx=context(config))
    decision = chat.send(catalog_order(*[("kettle", 1)] * 101))
    assert any("Max 100 lines per order!" in m.body for m in decision.messages)
