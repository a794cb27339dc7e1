"""Whatever a customer types or taps, in whatever phase: an answer, never an exception."""

from flows_support import Chat, context, link, order
from hypothesis import given, settings
from hypothesis import strategies as st

from flows import callback_data as cb
from flows.orders import Order
from flows.state import (
    AwaitingPayment,
    CartLine,
    ChoosingQuantity,
    Conversation,
    EnteringAddress,
    Idle,
)

PHASES = st.sampled_from(
    [
        Idle(),
        ChoosingQuantity(product_id="kahwa"),
        ChoosingQuantity(product_id="gift-box"),
        EnteringAddress(),
        AwaitingPayment(order_id="ord_1"),
    ]
)
CARTS = st.lists(
    st.builds(
        CartLine,
        product_id=st.sampled_from(["kahwa", "kettle", "gift-box", "gone", "toffee"]),
        quantity=st.integers(1, 25),
    ),
    max_size=4,
).map(tuple)
STATES = st.builds(
    Conversation, phase=PHASES, cart=CARTS, address=st.none() | st.just("12 MG Road, Pune")
)
OPEN_ORDERS = st.none() | st.just(order()) | st.just(order(link=link()))
KNOWN_IDS = st.sampled_from(
    [
        cb.BrowseCategories(page=5).pack(),
        cb.PickLineToRemove(page=3).pack(),
        cb.RemoveLine(product_id="gone").pack(),
        cb.ChooseQuantity(product_id="kettle", quantity=9999).pack(),
        cb.Checkout().pack(),
        cb.UseSavedAddress().pack(),
        cb.RedirectToPayment(order_id="ord_1").pack(),
        cb.CancelOrder(order_id="ord_1").pack(),
    ]
)


@settings(max_examples=300)
@given(state=STATES, text=st.text(max_size=600), open_order=OPEN_ORDERS)
def test_every_typed_text_gets_an_answer(
    state: Conversation, text: str, open_order: Order | None
) -> None:
    chat = Chat(ctx=context(open_order=open_order), state=state)
    assert chat.says(text).messages


@settings(max_examples=300)
@given(state=STATES, button_id=KNOWN_IDS | st.text(max_size=80), open_order=OPEN_ORDERS)
def test_every_tap_gets_an_answer(
    state: Conversation, button_id: str, open_order: Order | None
) -> None:
    chat = Chat(ctx=context(open_order=open_order), state=state)
    assert chat.taps(button_id).messages
