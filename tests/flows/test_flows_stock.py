"""Stock: counted products show what is left, sold-out ones cannot be added, quantities are
capped by what is left, and checkout tells the customer before paying when stock ran out."""

from collections.abc import Mapping

import pytest
from flows_support import Chat, all_text, buttons, context, last, row_titles, shop

from flows import callback_data as cb
from flows import views
from flows.catalog import ShopConfig
from flows.effects import CreatePaymentLink, PlaceOrder
from flows.events import CatalogOrderReceived, OrderedItem
from flows.messages import SendList
from flows.state import AwaitingPayment, CartLine, Conversation, EnteringAddress, Idle

ADDRESS = "12 MG Road, Bengaluru 560001"


def counted(**starting: int) -> ShopConfig:
    """The tea shop with these products' stock counted (their starting counts)."""
    config = shop()
    products = [
        {**p.model_dump(exclude={"price"}), "price": f"{p.price / 100:.2f}"}
        for p in config.products
    ]
    for product in products:
        if product["id"] in starting:
            product["stock"] = starting[product["id"]]
    return shop(products=products)


def chat_with(stock: Mapping[str, int], state: Conversation | None = None, **starting: int) -> Chat:
    config = counted(**{pid: starting.get(pid, 10) for pid in {*stock, *starting}})
    ctx = context(config).model_copy(update={"stock": dict(stock)})
    return Chat(ctx=ctx, state=state or Conversation())


def cart(*pairs: tuple[str, int]) -> tuple[CartLine, ...]:
    return tuple(CartLine(product_id=pid, quantity=qty) for pid, qty in pairs)


def test_a_sold_out_product_says_so_in_the_list() -> None:
    chat = chat_with({"masala-chai": 0, "tulsi-green": 4})
    products = last(chat.picks(cb.BrowseCategory(category=views.category_key("Tea")).pack()))
    assert isinstance(products, SendList)
    descriptions = {
        row.title: row.description for section in products.sections for row in section.rows
    }
    assert descriptions["Masala Chai 250 g"] is not None
    assert descriptions["Masala Chai 250 g"].startswith("Sold out · ₹249.00")
    assert "Sold out" not in (descriptions["Tulsi Green Tea 100 g"] or "")
    assert "Sold out" not in (descriptions["कश्मीरी कहवा 100 g"] or "")  # not counted
    assert "Masala Chai 250 g" in row_titles(products)  # still listed, to show it exists


def test_a_sold_out_product_cannot_be_opened_or_added() -> None:
    chat = chat_with({"masala-chai": 0})
    shown = last(chat.picks(cb.ShowProduct(product_id="masala-chai").pack()))
    assert shown.body == "Sorry, Masala Chai 250 g is sold out."
    assert list(buttons(shown)) == ["Browse"]
    assert chat.state.phase == Idle()

    added = chat.taps(cb.ChooseQuantity(product_id="masala-chai", quantity=1).pack())
    assert last(added).body == "Sorry, Masala Chai 250 g is sold out."
    assert chat.state.cart == ()


def test_the_product_view_says_how_many_are_left_and_offers_no_more() -> None:
    chat = chat_with({"masala-chai": 2})
    shown = last(chat.picks(cb.ShowProduct(product_id="masala-chai").pack()))
    assert "Only 2 left." in shown.body
    assert list(buttons(shown)) == ["1", "2"]

    plenty = chat_with({"masala-chai": 50})
    shown = last(plenty.picks(cb.ShowProduct(product_id="masala-chai").pack()))
    assert "left" not in shown.body
    assert list(buttons(shown)) == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("left", "in_cart", "typed", "after", "told"),
    [
        (5, 0, "3", 3, None),
        (5, 0, "9", 5, "Only 5 of Masala Chai 250 g left, so your cart has 5."),
        (5, 4, "2", 5, "Only 5 of Masala Chai 250 g left, so your cart has 5."),
        (50, 18, "5", 20, "You can order at most 20 of Masala Chai 250 g, so your cart has 20."),
    ],
)
def test_a_quantity_is_capped_by_what_is_left(
    left: int, in_cart: int, typed: str, after: int, told: str | None
) -> None:
    state = Conversation(cart=cart(("masala-chai", in_cart)) if in_cart else ())
    chat = chat_with({"masala-chai": left}, state)
    chat.picks(cb.ShowProduct(product_id="masala-chai").pack())
    decision = chat.says(typed)
    assert chat.state.cart == cart(("masala-chai", after))
    said = all_text(decision)
    if told is None:
        assert "Only" not in said
        assert "at most" not in said
    else:
        assert told in said


def test_checkout_holds_the_counted_products_only() -> None:
    chat = chat_with(
        {"masala-chai": 3},
        Conversation(cart=cart(("masala-chai", 2), ("kettle", 1)), address=ADDRESS),
    )
    decision = chat.taps(cb.UseSavedAddress().pack())
    placed, created = decision.effects
    assert isinstance(placed, PlaceOrder)
    assert isinstance(created, CreatePaymentLink)
    assert placed.hold == ("masala-chai",)
    assert chat.state.phase == AwaitingPayment(order_id="ord_new")


@pytest.mark.parametrize("via", ["checkout", "address"])
def test_sold_out_at_checkout_is_told_before_paying(via: str) -> None:
    # Another customer bought the last one after this cart was filled.
    state = Conversation(
        cart=cart(("masala-chai", 1), ("kettle", 1)),
        address=ADDRESS,
        phase=EnteringAddress() if via == "address" else Idle(),
    )
    chat = chat_with({"masala-chai": 0}, state)
    decision = chat.says(ADDRESS) if via == "address" else chat.taps(cb.Checkout().pack())
    assert decision.effects == ()  # nothing placed, nothing to pay
    message = last(decision)
    assert message.body.startswith("Sold out, so removed from your cart: Masala Chai 250 g.")
    assert "Stainless Steel Chai Kettle 1.5 L" in message.body
    assert next(iter(buttons(message))) == "Checkout"  # the rest, if they still want it
    assert chat.state.cart == cart(("kettle", 1))
    assert chat.state.phase == Idle()


def test_fewer_left_at_checkout_cuts_the_line_and_asks_again() -> None:
    chat = chat_with({"masala-chai": 1}, Conversation(cart=cart(("masala-chai", 3))))
    decision = chat.taps(cb.Checkout().pack())
    assert decision.effects == ()
    assert "Only 1 of Masala Chai 250 g left, so your cart has 1." in last(decision).body
    assert chat.state.cart == cart(("masala-chai", 1))

    asked = chat.taps(cb.Checkout().pack())  # they look, and check out what is left
    assert last(asked).body.startswith("Please type your delivery address")


def test_the_last_one_sold_out_leaves_an_empty_cart_and_an_offer_to_browse() -> None:
    chat = chat_with({"masala-chai": 0}, Conversation(cart=cart(("masala-chai", 1))))
    message = last(chat.taps(cb.Checkout().pack()))
    assert message.body == (
        "Sold out, so removed from your cart: Masala Chai 250 g.\nYour cart is empty."
    )
    assert list(buttons(message)) == ["Browse"]
    assert chat.state.cart == ()


def test_a_counted_product_missing_from_the_counts_has_its_starting_count() -> None:
    config = counted(**{"masala-chai": 0})
    chat = Chat(ctx=context(config))
    assert chat.ctx.stock == {}
    shown = last(chat.picks(cb.ShowProduct(product_id="masala-chai").pack()))
    assert shown.body == "Sorry, Masala Chai 250 g is sold out."


def test_a_whatsapp_catalog_order_is_cut_to_what_is_left_before_paying() -> None:
    chat = chat_with({"masala-chai": 1, "tulsi-green": 0}, Conversation(address=ADDRESS))
    items = [
        OrderedItem(product_id="masala-chai", quantity=3),
        OrderedItem(product_id="tulsi-green", quantity=1),
        OrderedItem(product_id="kettle", quantity=1),
    ]
    decision = chat.send(CatalogOrderReceived(message_id="wamid.cat", items=items))
    assert decision.effects == ()  # nothing placed: they see the changed cart first
    said = all_text(decision)
    assert "Sold out, so removed from your cart: Tulsi Green Tea 100 g." in said
    assert "Only 1 of Masala Chai 250 g left, so your cart has 1." in said
    assert chat.state.cart == cart(("masala-chai", 1), ("kettle", 1))
