"""A customer's own orders: the list, one order, and Order again at today's prices."""

import pytest
from flows_support import NOW, Chat, buttons, context, last, link, order, rows

from flows import callback_data as cb
from flows.events import ButtonPressed, Event, ListRowPicked, TextReceived
from flows.machine import needs_recent_orders, referenced_order_id
from flows.messages import SendButtons, SendList
from flows.orders import FulfilmentStatus, Order, OrderStatus
from flows.state import CartLine, ChoosingQuantity, Conversation, Idle

DAY = 24 * 60 * 60


def paid(o: Order, **changes: object) -> Order:
    return o.model_copy(update={"status": OrderStatus.PAID, "paid_at": NOW - 500, **changes})


SHIPPED = paid(
    order(("masala-chai", "Masala Chai 250 g", 24900, 2), order_id="ORD-20250612-AAAA"),
    fulfilment=FulfilmentStatus.SHIPPED,
    courier="Delhivery",
    tracking_number="AWB123456",
    tracking_url="https://track.example/AWB123456",
    created_at=NOW - 3 * DAY,
)
AWAITING = order(
    ("kettle", "Stainless Steel Chai Kettle 1.5 L", 89900, 1), order_id="ORD-20250615-BBBB"
)


def test_orders_lists_the_customers_orders_with_payment_and_delivery_status() -> None:
    chat = Chat(ctx=context(recent_orders=(AWAITING, SHIPPED)))
    listing = last(chat.says("orders"))
    assert isinstance(listing, SendList)
    assert listing.body.startswith("Your recent orders")
    assert list(rows(listing)) == ["15/06/2025 · ₹899.00", "12/06/2025 · ₹498.00"]
    descriptions = [row.description for row in listing.sections[0].rows]
    assert descriptions == [
        "ORD-20250615-BBBB · awaiting payment",
        "ORD-20250612-AAAA · paid · shipped",
    ]
    assert rows(listing)["12/06/2025 · ₹498.00"] == cb.ShowOrder(order_id=SHIPPED.id).pack()


def test_a_customer_without_orders_is_offered_the_catalog() -> None:
    reply = last(Chat().says("my orders"))
    assert isinstance(reply, SendButtons)
    assert reply.body == "You have no orders yet."
    assert list(buttons(reply)) == ["Browse"]


def test_an_order_shows_its_items_total_status_and_tracking() -> None:
    chat = Chat(ctx=context(event_order=SHIPPED))
    detail = last(chat.picks(cb.ShowOrder(order_id=SHIPPED.id).pack()))
    assert isinstance(detail, SendButtons)
    assert detail.body.splitlines() == [
        "🧾 *Order ORD-20250612-AAAA* (12/06/2025)",
        "• 2 × Masala Chai 250 g (₹249.00 each): ₹498.00",
        "*Total: ₹498.00*",
        "Deliver to: 12 MG Road, Bengaluru 560001",
        "Payment: paid",
        "Delivery: shipped",
        "Courier: Delhivery",
        "Tracking: AWB123456",
        "Track: https://track.example/AWB123456",
    ]
    assert list(buttons(detail)) == ["Order again", "My orders"]


def test_an_unpaid_order_offers_its_payment_link_and_no_delivery_line() -> None:
    awaiting = AWAITING.model_copy(update={"link": link()})
    detail = last(
        Chat(ctx=context(event_order=awaiting)).taps(cb.ShowOrder(order_id=awaiting.id).pack())
    )
    assert "Payment: awaiting payment" in detail.body
    assert "Delivery" not in detail.body
    assert list(buttons(detail)) == ["Pay now", "Order again", "My orders"]


def test_an_order_that_is_not_theirs_or_unknown_is_not_shown() -> None:
    someone_else = SHIPPED.model_copy(update={"customer_key": "CC.other"})
    for ctx in (context(), context(event_order=someone_else)):
        reply = last(Chat(ctx=ctx).taps(cb.ShowOrder(order_id=SHIPPED.id).pack()))
        assert reply.body == "Sorry, I can't find that order. Type *orders* to see yours."


def test_order_again_fills_the_cart_at_todays_prices_and_names_what_is_gone() -> None:
    earlier = paid(
        order(
            ("masala-chai", "Masala Chai 250 g", 20000, 2),  # ₹200 then, ₹249 today
            ("tulsi-green", "Tulsi Green Tea 100 g", 19950, 1),  # same price
            ("gift-box", "Festive Gift Box", 149900, 1),  # in the config, not available
            ("old-mug", "Clay Kulhad Mug", 9900, 3),  # removed from the config
            order_id="ORD-OLD",
        )
    )
    chat = Chat(ctx=context(event_order=earlier))
    decision = chat.taps(cb.OrderAgain(order_id="ORD-OLD").pack())
    assert chat.state.cart == (
        CartLine(product_id="masala-chai", quantity=2),
        CartLine(product_id="tulsi-green", quantity=1),
    )
    cart_view = last(decision)
    assert isinstance(cart_view, SendButtons)
    assert cart_view.body.splitlines() == [
        "Added the items of order ORD-OLD to your cart at today's prices.",
        "Masala Chai 250 g now costs ₹249.00 (was ₹200.00).",
        "No longer available, so left out: Festive Gift Box, Clay Kulhad Mug.",
        "🛒 *Your cart*",
        "• 2 × Masala Chai 250 g (₹249.00 each): ₹498.00",
        "• 1 × Tulsi Green Tea 100 g (₹199.50 each): ₹199.50",
        "*Total: ₹697.50*",
    ]
    assert list(buttons(cart_view)) == ["Checkout", "Remove item", "Clear cart"]
    assert decision.effects == ()


def test_order_again_sets_the_orders_quantities_and_a_second_tap_changes_nothing() -> None:
    earlier = paid(order(("masala-chai", "Masala Chai 250 g", 24900, 2), order_id="ORD-OLD"))
    chat = Chat(
        ctx=context(event_order=earlier),
        state=Conversation(
            cart=(
                CartLine(product_id="masala-chai", quantity=10),
                CartLine(product_id="kettle", quantity=1),
            )
        ),
    )
    chat.taps(cb.OrderAgain(order_id="ORD-OLD").pack())
    after_one = chat.state.cart
    assert after_one == (
        CartLine(product_id="kettle", quantity=1),
        CartLine(product_id="masala-chai", quantity=2),
    )
    chat.taps(cb.OrderAgain(order_id="ORD-OLD").pack())  # a double tap
    assert chat.state.cart == after_one


def test_order_again_caps_a_quantity_above_todays_maximum() -> None:
    earlier = paid(order(("masala-chai", "Masala Chai 250 g", 24900, 30), order_id="ORD-OLD"))
    chat = Chat(ctx=context(event_order=earlier))
    chat.taps(cb.OrderAgain(order_id="ORD-OLD").pack())
    assert chat.state.cart == (CartLine(product_id="masala-chai", quantity=20),)


def test_order_again_with_nothing_left_says_so_and_keeps_the_cart() -> None:
    earlier = paid(order(("gift-box", "Festive Gift Box", 149900, 1), order_id="ORD-OLD"))
    before = Conversation(cart=(CartLine(product_id="kettle", quantity=1),))
    chat = Chat(ctx=context(event_order=earlier), state=before)
    reply = last(chat.taps(cb.OrderAgain(order_id="ORD-OLD").pack()))
    assert reply.body.splitlines() == [
        "Sorry, none of the items of order ORD-OLD are available now.",
        "No longer available, so left out: Festive Gift Box.",
    ]
    assert list(buttons(reply)) == ["Browse"]
    assert chat.state == before


def test_help_is_the_menu_list_with_orders_and_language() -> None:
    chat = Chat(ctx=context(recent_orders=(SHIPPED,)))
    menu = last(chat.says("help"))
    assert isinstance(menu, SendList)
    assert "*orders*" in menu.body
    assert "*language*" in menu.body
    assert list(rows(menu)) == ["Browse", "View cart", "My orders", "Language"]
    listing = last(chat.picks(rows(menu)["My orders"]))
    assert list(rows(listing)) == ["12/06/2025 · ₹498.00"]


def test_leaving_a_question_for_the_orders_list_settles_the_phase() -> None:
    chat = Chat(state=Conversation(phase=ChoosingQuantity(product_id="kettle")))
    chat.says("orders")
    assert chat.state.phase == Idle()


@pytest.mark.parametrize(
    ("event", "needed"),
    [
        (TextReceived(message_id="w", text="orders"), True),
        (TextReceived(message_id="w", text="My Orders!"), True),
        (TextReceived(message_id="w", text="मेरे ऑर्डर"), True),
        (ListRowPicked(message_id="w", row_id=cb.ShowOrders().pack()), True),
        (ButtonPressed(message_id="w", button_id=cb.ShowOrders().pack()), True),
        (TextReceived(message_id="w", text="hi"), False),
        (ButtonPressed(message_id="w", button_id=cb.ShowOrder(order_id="X").pack()), False),
    ],
)
def test_the_runner_loads_recent_orders_only_for_the_list(event: Event, needed: bool) -> None:
    assert needs_recent_orders(event) is needed


def test_one_order_is_loaded_by_its_id() -> None:
    for action in (cb.ShowOrder(order_id="ORD-1"), cb.OrderAgain(order_id="ORD-1")):
        pressed = ButtonPressed(message_id="w", button_id=action.pack())
        assert referenced_order_id(pressed) == "ORD-1"


def test_an_order_list_holds_at_most_ten_rows() -> None:
    many = tuple(
        SHIPPED.model_copy(update={"id": f"ORD-{n}", "created_at": NOW - n * DAY})
        for n in range(12)
    )
    listing = last(Chat(ctx=context(recent_orders=many)).says("orders"))
    assert isinstance(listing, SendList)
    ids = [row.id for row in listing.sections[0].rows]
    assert ids == [cb.ShowOrder(order_id=f"ORD-{n}").pack() for n in range(10)]
