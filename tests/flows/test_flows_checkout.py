"""Checkout: address, placing the order, reusing or replacing the open one."""

from typing import Any

import pytest
from flows_support import NOW, Chat, buttons, context, last, link, order, shop

from flows import callback_data as cb
from flows.effects import CancelPaymentLink, CreatePaymentLink, PlaceOrder, SetOrderStatus
from flows.events import LocationReceived
from flows.orders import FulfilmentStatus, OrderStatus, PaymentMethod
from flows.state import AwaitingPayment, CartLine, Conversation, EnteringAddress, Idle

ADDRESS = "12 MG Road, Bengaluru 560001"
TWO_CHAI = (CartLine(product_id="masala-chai", quantity=2),)


def with_cart(**changes: Any) -> Conversation:
    return Conversation(cart=TWO_CHAI, **changes)


def test_checkout_without_an_address_asks_for_one() -> None:
    chat = Chat(state=with_cart())
    message = last(chat.says("checkout"))
    assert message.body.startswith("Please type your delivery address")
    assert chat.state.phase == EnteringAddress()


def test_checkout_offers_the_known_address() -> None:
    chat = Chat(state=with_cart(address=ADDRESS))
    message = last(chat.taps(cb.Checkout().pack()))
    assert message.body == f"Shall we deliver to this address?\n{ADDRESS}"
    assert list(buttons(message)) == ["Use this address", "New address"]

    asked = last(chat.taps(buttons(message)["New address"]))
    assert asked.body.startswith("Please type your delivery address")
    assert chat.state.phase == EnteringAddress()


def test_use_this_address_places_the_order() -> None:
    chat = Chat(state=with_cart(address=ADDRESS, phase=EnteringAddress()))
    decision = chat.taps(cb.UseSavedAddress().pack())
    placed, create = decision.effects
    assert isinstance(placed, PlaceOrder)
    assert isinstance(create, CreatePaymentLink)
    assert placed.order.model_dump(exclude={"lines"}) == {
        "id": "ord_new",
        "customer_key": "CC.abc123",
        "total": 49800,
        "currency": "INR",
        "address": ADDRESS,
        "status": OrderStatus.PENDING_PAYMENT,
        "link": None,
        "payment_id": None,
        "created_at": NOW,
        "paid_at": None,
        "fulfilment": FulfilmentStatus.UNFULFILLED,
        "courier": None,
        "tracking_number": None,
        "tracking_url": None,
        "shipped_at": None,
        "delivered_at": None,
        "refunded_total": 0,
        "refunds_requested_total": 0,
        "shopify_order_id": None,
        "payment_method": PaymentMethod.LINK,
    }
    assert [
        (line.product_id, line.name, line.unit_price, line.quantity) for line in placed.order.lines
    ] == [("masala-chai", "Masala Chai 250 g", 24900, 2)]
    assert create == CreatePaymentLink(order_id="ord_new", expire_by=NOW + 30 * 60)
    assert last(decision).body == "Thank you! Preparing your payment link for order ord_new…"
    assert chat.state == with_cart(address=ADDRESS, phase=AwaitingPayment(order_id="ord_new"))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (f"  {ADDRESS}  ", ADDRESS),
        (
            "Flat 4B,   Lotus Apts\n  Andheri West\n\nMumbai 400053",
            "Flat 4B, Lotus Apts\nAndheri West\nMumbai 400053",
        ),
        ("फ्लैट 4, गांधी नगर, जयपुर", "फ्लैट 4, गांधी नगर, जयपुर"),
    ],
)
def test_a_typed_address_is_kept_and_the_order_placed(typed: str, stored: str) -> None:
    chat = Chat(state=with_cart(phase=EnteringAddress()))
    decision = chat.says(typed)
    assert chat.state.address == stored
    assert isinstance(decision.effects[0], PlaceOrder)
    assert decision.effects[0].order.address == stored


@pytest.mark.parametrize(
    ("typed", "complaint"),
    [
        ("Pune", "That address looks too short"),
        ("  a  b  ", "That address looks too short"),
        ("x" * 501, "That address is too long"),
    ],
)
def test_a_bad_address_is_explained_and_asked_again(typed: str, complaint: str) -> None:
    state = with_cart(phase=EnteringAddress())
    decision = Chat(state=state).says(typed)
    assert decision.state == state
    assert decision.effects == ()
    assert last(decision).body.startswith(complaint)


@pytest.mark.parametrize(
    ("location", "address"),
    [
        (
            dict(name="Lotus Apartments", address="Andheri West, Mumbai"),
            "Lotus Apartments, Andheri West, Mumbai",
        ),
        (dict(address="Andheri West, Mumbai"), "Andheri West, Mumbai"),
        ({}, "19.119700, 72.846900"),
    ],
)
def test_a_shared_location_is_the_address(location: dict[str, str], address: str) -> None:
    chat = Chat(state=with_cart(phase=EnteringAddress()))
    event = LocationReceived(message_id="w", latitude=19.1197, longitude=72.8469, **location)
    decision = chat.send(event)
    assert chat.state.address == address
    assert isinstance(decision.effects[0], PlaceOrder)


def test_a_location_outside_the_address_step_is_thanked() -> None:
    chat = Chat(state=with_cart())
    decision = chat.send(LocationReceived(message_id="w", latitude=1.0, longitude=2.0))
    assert decision.state == with_cart()
    assert last(decision).body.startswith("Thanks for the location!")


def test_without_address_collection_checkout_places_the_order_at_once() -> None:
    chat = Chat(ctx=context(shop(checkout={"collect_address": False})), state=with_cart())
    decision = chat.says("Checkout")
    assert isinstance(decision.effects[0], PlaceOrder)
    assert decision.effects[0].order.address is None


def test_checkout_of_an_empty_cart_says_so() -> None:
    chat = Chat()
    decision = chat.says("checkout")
    assert last(decision).body == "Your cart is empty."
    assert decision.effects == ()


def test_checkout_drops_lines_that_are_no_longer_available() -> None:
    state = Conversation(
        cart=(
            *TWO_CHAI,
            CartLine(product_id="gift-box", quantity=1),
            CartLine(product_id="gone", quantity=1),
        ),
        address=ADDRESS,
        phase=EnteringAddress(),
    )
    chat = Chat(state=state)
    decision = chat.taps(cb.UseSavedAddress().pack())
    assert decision.messages[0].body == (
        "No longer available, so removed from your cart: Festive Gift Box, gone."
    )
    assert chat.state.cart == TWO_CHAI
    assert decision.effects[0].order.total == 49800


def test_checkout_with_only_unavailable_lines_empties_the_cart() -> None:
    chat = Chat(state=Conversation(cart=(CartLine(product_id="gift-box", quantity=1),)))
    decision = chat.says("checkout")
    assert chat.state.cart == ()
    assert "Festive Gift Box" in last(decision).body
    assert "Your cart is empty." in last(decision).body


def test_an_order_below_one_rupee_cannot_be_paid_online() -> None:
    chat = Chat(state=Conversation(cart=(CartLine(product_id="toffee", quantity=1),)))
    decision = chat.says("checkout")
    assert decision.effects == ()
    assert last(decision).body.startswith("Online payment needs an order of at least ₹1.00")
    assert chat.state.phase == Idle()


# --- the open order ----------------------------------------------------------------------------


def checkout_with(open_order: Any, now: int = NOW) -> Any:
    chat = Chat(
        ctx=context(open_order=open_order, now=now),
        state=with_cart(address=ADDRESS, phase=EnteringAddress()),
    )
    return chat, chat.taps(cb.UseSavedAddress().pack())


def test_the_same_cart_with_a_good_link_reuses_the_open_order() -> None:
    same = order(link=link(expires_at=NOW + 600))
    chat, decision = checkout_with(same)
    assert decision.effects == ()
    summary = last(decision)
    assert summary.body.startswith("🧾 *Order ord_1*")
    assert list(buttons(summary)) == ["Pay now", "Cancel order"]
    assert buttons(summary)["Pay now"] == "redirect_to_payment:ord_1"
    assert chat.state.phase == AwaitingPayment(order_id="ord_1")


def test_the_same_cart_while_the_link_is_being_made_just_waits() -> None:
    chat, decision = checkout_with(order(link=None))
    assert decision.effects == ()
    assert [m.body for m in decision.messages] == [
        "Your payment link for order ord_1 is on its way."
    ]
    assert chat.state.phase == AwaitingPayment(order_id="ord_1")


@pytest.mark.parametrize(
    ("why", "open_order", "cancels_link"),
    [
        ("link about to expire", order(link=link(expires_at=NOW + 60)), True),
        ("link expired", order(link=link(expires_at=NOW - 1)), True),
        (
            "other quantity",
            order(("masala-chai", "Masala Chai 250 g", 24900, 3), link=link()),
            True,
        ),
        ("other price", order(("masala-chai", "Masala Chai 250 g", 20000, 2), link=link()), True),
        ("other address", order(address="Somewhere else 123456", link=link()), True),
        ("other cart, no link yet", order(("kahwa", "k", 39900, 1)), False),
    ],
)
def test_a_changed_cart_or_stale_link_replaces_the_open_order(
    why: str, open_order: Any, cancels_link: bool
) -> None:
    chat, decision = checkout_with(open_order)
    cancel_link = CancelPaymentLink(order_id="ord_1", link_id="plink_ABCDEFGHIJKLMN")
    cancel_order = SetOrderStatus(
        order_id="ord_1", status=OrderStatus.CANCELLED, at=NOW, reason="replaced by a new order"
    )
    expected_cancel = [cancel_link, cancel_order] if cancels_link else [cancel_order]
    assert list(decision.effects[: len(expected_cancel)]) == expected_cancel, why
    assert [type(e) for e in decision.effects[len(expected_cancel) :]] == [
        PlaceOrder,
        CreatePaymentLink,
    ]
    assert chat.state.phase == AwaitingPayment(order_id="ord_new")


def test_an_open_order_of_someone_else_is_never_touched() -> None:
    theirs = order(link=link()).model_copy(update={"customer_key": "someone-else"})
    _, decision = checkout_with(theirs)
    assert [type(e) for e in decision.effects] == [PlaceOrder, CreatePaymentLink]


def test_cancel_while_awaiting_payment_cancels_the_order_and_keeps_the_cart() -> None:
    pending = order(link=link())
    chat = Chat(
        ctx=context(open_order=pending), state=with_cart(phase=AwaitingPayment(order_id="ord_1"))
    )
    decision = chat.says("CANCEL")
    assert decision.effects == (
        CancelPaymentLink(order_id="ord_1", link_id="plink_ABCDEFGHIJKLMN"),
        SetOrderStatus(
            order_id="ord_1",
            status=OrderStatus.CANCELLED,
            at=NOW,
            reason="cancelled by the customer",
        ),
    )
    assert last(decision).body == "Order ord_1 is cancelled. Your cart is still here."
    assert chat.state == with_cart(phase=Idle())


def test_cancel_while_the_link_is_being_made_cancels_only_the_order() -> None:
    chat = Chat(
        ctx=context(open_order=order()), state=with_cart(phase=AwaitingPayment(order_id="ord_1"))
    )
    decision = chat.says("cancel")
    assert [type(e) for e in decision.effects] == [SetOrderStatus]


def test_the_cancel_order_button_cancels_a_pending_order() -> None:
    chat = Chat(ctx=context(open_order=order(link=link())), state=with_cart())
    decision = chat.taps(cb.CancelOrder(order_id="ord_1").pack())
    assert [type(e) for e in decision.effects] == [CancelPaymentLink, SetOrderStatus]


def test_the_cancel_order_button_for_an_order_no_longer_open_changes_nothing() -> None:
    chat = Chat(state=with_cart())
    decision = chat.taps(cb.CancelOrder(order_id="ord_old").pack())
    assert decision.effects == ()
    assert last(decision).body.startswith("Order ord_old is no longer open for payment.")
