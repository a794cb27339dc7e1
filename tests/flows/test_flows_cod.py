"""Cash on delivery: "Pay on delivery" beside "Pay now" when the shop offers it, the order
confirmed at once with its payment due, the link cancelled, and the limits the merchant set."""

from typing import Any

import pytest
from flows_support import NOW, Chat, buttons, context, last, link, order, shop

from flows import callback_data as cb
from flows.catalog import ShopConfig
from flows.effects import CancelPaymentLink, ChooseCashOnDelivery, SetOrderStatus
from flows.events import PaymentFailed, PaymentLinkCancelled, PaymentLinkCreated
from flows.lifecycle import PaymentStatus, Verdict, may_deliver, may_mark_paid, may_ship
from flows.lifecycle import payment_status as status_of
from flows.orders import FulfilmentStatus, Order, OrderStatus, PaymentMethod
from flows.state import AwaitingPayment, CartLine, Conversation, Idle

LINK = link()
WAITING = Conversation(
    phase=AwaitingPayment(order_id="ord_1"),
    cart=(CartLine(product_id="masala-chai", quantity=2),),
    address="12 MG Road, Bengaluru 560001",
)
COD_SHOP = shop(checkout={"cash_on_delivery": True})
PENDING = order(link=LINK)  # ₹498.00
COD = PENDING.model_copy(update={"payment_method": PaymentMethod.COD})


def at_checkout(config: ShopConfig, event_order: Order | None, **kw: Any) -> Chat:
    return Chat(ctx=context(config, event_order=event_order, **kw), state=WAITING)


def summary_for(config: ShopConfig) -> Any:
    created = PaymentLinkCreated(
        order_id="ord_1", link_id=LINK.id, url=LINK.url, expires_at=NOW + 1800
    )
    return last(at_checkout(config, order(link=None)).send(created))


# --- the offer -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("checkout", "offered", "note"),
    [
        ({}, False, None),
        ({"cash_on_delivery": True}, True, "Or pay in cash when it arrives"),
        ({"cash_on_delivery": True, "cod_max_amount": "498"}, True, "Or pay in cash"),
        (
            {"cash_on_delivery": True, "cod_max_amount": "497.99"},
            False,
            "Pay on delivery is available for orders up to ₹497.99.",
        ),
        (
            {"cash_on_delivery": True, "cod_max_amount": "100"},
            False,
            "Pay on delivery is available for orders up to ₹100.00.",
        ),
    ],
)
def test_pay_on_delivery_is_offered_beside_pay_now_when_the_shop_allows_it(
    checkout: dict[str, Any], offered: bool, note: str | None
) -> None:
    summary = summary_for(shop(checkout=checkout))
    expected = {"Pay now": "redirect_to_payment:ord_1"}
    if offered:
        expected["Pay on delivery"] = "cod:ord_1"
    expected["Cancel order"] = "cancel_order:ord_1"
    assert buttons(summary) == expected
    if note is None:
        assert "delivery" not in summary.body.lower().replace("deliver to", "")
    else:
        assert note in summary.body


# --- choosing it ---------------------------------------------------------------------------------


def test_pay_on_delivery_confirms_the_order_at_once_and_cancels_its_link() -> None:
    chat = at_checkout(COD_SHOP, PENDING)
    decision = chat.taps(cb.PayOnDelivery(order_id="ord_1").pack())

    assert decision.effects == (
        ChooseCashOnDelivery(order_id="ord_1", at=NOW),
        CancelPaymentLink(order_id="ord_1", link_id=LINK.id),
    )
    assert last(decision).body == (
        "✅ Order ord_1 is confirmed. Please pay ₹498.00 in cash when it is delivered.\n"
        "• 2 × Masala Chai 250 g (₹249.00 each): ₹498.00\n"
        "*Total to pay on delivery: ₹498.00*\n"
        "Deliver to: 12 MG Road, Bengaluru 560001"
    )
    assert decision.state == WAITING.model_copy(update={"cart": (), "phase": Idle()})


def test_before_its_link_exists_pay_on_delivery_has_no_link_to_cancel() -> None:
    decision = at_checkout(COD_SHOP, order(link=None)).taps(
        cb.PayOnDelivery(order_id="ord_1").pack()
    )
    assert decision.effects == (ChooseCashOnDelivery(order_id="ord_1", at=NOW),)


@pytest.mark.parametrize(
    ("checkout", "said"),
    [
        (
            {"cash_on_delivery": True, "cod_max_amount": "400"},
            "Sorry, pay on delivery is available only for orders up to ₹400.00, and order ord_1 "
            "is ₹498.00. Please pay online with *Pay now*.",
        ),
        (
            {"cash_on_delivery": False},
            "Sorry, this shop does not take payment on delivery. Please pay online with *Pay now*.",
        ),
    ],
)
def test_pay_on_delivery_beyond_what_the_merchant_allows_is_refused_clearly(
    checkout: dict[str, Any], said: str
) -> None:
    chat = at_checkout(shop(checkout=checkout), PENDING)
    decision = chat.taps(cb.PayOnDelivery(order_id="ord_1").pack())

    assert decision.effects == ()
    assert last(decision).body == said
    assert buttons(last(decision)) == {"Pay now": "redirect_to_payment:ord_1"}
    assert decision.state == WAITING


@pytest.mark.parametrize(
    ("event_order", "said"),
    [
        (COD, "Order ord_1 is confirmed for payment on delivery. Please pay ₹498.00"),
        (order(link=LINK, status=OrderStatus.PAID), "Order ord_1 is already paid."),
        (order(link=LINK, status=OrderStatus.CANCELLED), "is no longer open for payment"),
    ],
)
def test_a_second_tap_or_a_closed_order_changes_nothing(event_order: Order, said: str) -> None:
    decision = at_checkout(COD_SHOP, event_order).taps(cb.PayOnDelivery(order_id="ord_1").pack())
    assert decision.effects == ()
    assert said in last(decision).body


def test_pay_now_on_a_cash_on_delivery_order_sends_no_link() -> None:
    decision = at_checkout(COD_SHOP, COD).taps(cb.RedirectToPayment(order_id="ord_1").pack())
    assert decision.effects == ()
    assert "confirmed for payment on delivery" in last(decision).body


# --- the provider's events about the cancelled link ---------------------------------------------


def test_a_link_made_after_cash_was_chosen_is_cancelled_quietly() -> None:
    created = PaymentLinkCreated(
        order_id="ord_1", link_id="plink_LATE", url="https://rzp.io/x", expires_at=NOW + 1800
    )
    cod_without_link = COD.model_copy(update={"link": None})
    decision = at_checkout(COD_SHOP, cod_without_link).send(created)
    assert decision.effects == (CancelPaymentLink(order_id="ord_1", link_id="plink_LATE"),)
    assert decision.messages == ()


@pytest.mark.parametrize(
    "event",
    [
        PaymentLinkCancelled(order_id="ord_1", link_id=LINK.id),
        PaymentFailed(order_id="ord_1", payment_id="pay_x", reason="declined"),
    ],
)
def test_the_cancelled_link_s_events_do_not_touch_a_cash_on_delivery_order(event: Any) -> None:
    decision = at_checkout(COD_SHOP, COD).send(event)
    assert decision.effects == ()
    assert decision.messages == ()


def test_checking_out_again_leaves_a_cash_on_delivery_order_alone() -> None:
    chat = Chat(
        ctx=context(COD_SHOP, open_order=COD),
        state=Conversation(cart=(CartLine(product_id="masala-chai", quantity=1),), address=None),
    )
    decision = chat.says("checkout")
    assert not any(isinstance(effect, SetOrderStatus) for effect in decision.effects)


# --- the merchant's side -------------------------------------------------------------------------


def test_a_cash_on_delivery_order_may_ship_and_deliver_and_be_marked_paid() -> None:
    assert status_of(COD) is PaymentStatus.COD_DUE
    assert status_of(PENDING) is PaymentStatus.AWAITING
    assert may_ship(COD).verdict is Verdict.DO
    assert may_deliver(COD).verdict is Verdict.DO
    assert may_mark_paid(COD).verdict is Verdict.DO

    paid = COD.model_copy(update={"status": OrderStatus.PAID})
    assert may_mark_paid(paid).verdict is Verdict.ALREADY
    assert may_ship(PENDING).verdict is Verdict.REFUSED  # online and unpaid: not yet
    assert may_mark_paid(PENDING).verdict is Verdict.REFUSED  # online payments are the provider's
    cancelled = COD.model_copy(update={"fulfilment": FulfilmentStatus.CANCELLED})
    assert may_mark_paid(cancelled).verdict is Verdict.REFUSED


# --- the config ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "written", "held"),
    [
        ("INR", "2000", 200000),
        ("INR", "2000.50", 200050),
        ("JPY", "5000", 5000),
        ("KWD", "20.5", 20500),
    ],
)
def test_cod_max_amount_is_written_in_major_units_and_held_in_minor_units(
    currency: str, written: str, held: int
) -> None:
    product = {"id": "chai", "name": "Chai", "price": "100", "category": "Tea"}
    config = shop(
        shop={"currency": currency},
        checkout={"cash_on_delivery": True, "cod_max_amount": written},
        products=[product],
    )
    assert config.checkout.cod_max_amount == held
