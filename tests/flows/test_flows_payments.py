"""Payment events from the provider, and the customer tapping Pay now."""

from typing import Any

import pytest
from flows_support import NOW, Chat, buttons, context, last, link, order, shop

from flows import callback_data as cb
from flows.effects import AttachPaymentLink, CancelPaymentLink, SetOrderStatus
from flows.events import (
    PaymentCaptured,
    PaymentFailed,
    PaymentLinkCancelled,
    PaymentLinkCreated,
    PaymentLinkCreationFailed,
    PaymentLinkExpired,
)
from flows.messages import SendCtaUrl, SendText
from flows.orders import Order, OrderStatus, PaymentLink
from flows.state import AwaitingPayment, CartLine, Conversation, Idle

LINK = link()
WAITING = Conversation(
    phase=AwaitingPayment(order_id="ord_1"),
    cart=(CartLine(product_id="masala-chai", quantity=2),),
    address="12 MG Road, Bengaluru 560001",
)
PENDING = order(link=LINK)
PAID = order(link=LINK, status=OrderStatus.PAID)


def on(event: Any, event_order: Order | None, state: Conversation = WAITING, **kw: Any) -> Any:
    return Chat(ctx=context(event_order=event_order, **kw), state=state).send(event)


def captured(**changes: Any) -> PaymentCaptured:
    fields: dict[str, Any] = {
        "order_id": "ord_1",
        "link_id": LINK.id,
        "payment_id": "pay_1",
        "currency": "INR",
        "amount": 49800,
        "amount_paid": 49800,
    }
    return PaymentCaptured(**(fields | changes))


# --- the link is made -------------------------------------------------------------------------


def created(link_id: str = "plink_NEW", url: str = "https://rzp.io/rzp/new") -> PaymentLinkCreated:
    return PaymentLinkCreated(order_id="ord_1", link_id=link_id, url=url, expires_at=NOW + 1800)


def test_a_created_link_is_attached_and_the_summary_sent() -> None:
    decision = on(created(), order(link=None))
    assert decision.effects == (
        AttachPaymentLink(
            order_id="ord_1",
            link=PaymentLink(id="plink_NEW", url="https://rzp.io/rzp/new", expires_at=NOW + 1800),
        ),
    )
    summary = last(decision)
    assert summary.body == (
        "🧾 *Order ord_1*\n"
        "• 2 × Masala Chai 250 g (₹249.00 each): ₹498.00\n"
        "*Total: ₹498.00*\n"
        "Deliver to: 12 MG Road, Bengaluru 560001\n"
        "This payment link is valid for 30 minutes."
    )
    assert buttons(summary) == {
        "Pay now": "redirect_to_payment:ord_1",
        "Cancel order": "cancel_order:ord_1",
    }
    assert decision.state == WAITING


@pytest.mark.parametrize("status", [OrderStatus.CANCELLED, OrderStatus.EXPIRED])
def test_a_link_for_an_order_replaced_meanwhile_is_cancelled_quietly(status: OrderStatus) -> None:
    decision = on(created(), order(status=status))
    assert decision.effects == (CancelPaymentLink(order_id="ord_1", link_id="plink_NEW"),)
    assert decision.messages == ()


def test_a_created_link_for_an_unknown_order_does_nothing() -> None:
    decision = on(created(), None)
    assert (decision.state, decision.messages, decision.effects) == (WAITING, (), ())


# --- Pay now ----------------------------------------------------------------------------------


def pay_now(open_order: Order | None, *, now: int = NOW, event_order: Order | None = None) -> Any:
    chat = Chat(ctx=context(open_order=open_order, event_order=event_order, now=now), state=WAITING)
    return chat.taps(cb.RedirectToPayment(order_id="ord_1").pack())


def test_pay_now_sends_the_link_as_a_button_and_as_plain_text() -> None:
    decision = pay_now(PENDING)
    cta, plain = decision.messages
    assert isinstance(cta, SendCtaUrl)
    assert cta.display_text == "Pay ₹498.00"
    assert cta.url == LINK.url
    assert cta.body == "Pay ₹498.00 for order ord_1 securely."
    assert plain == SendText(body=LINK.url, preview_url=False)
    assert decision.state == WAITING


@pytest.mark.parametrize(
    ("pay_cta", "price", "shown"),
    [
        ("Pay {amount}", 500000, "Pay ₹1,00,000.00"),
        ("Pay safely now {amount}", 24900, "Pay now"),  # 22 characters: over the limit of 20
    ],
)
def test_the_pay_button_names_the_amount_only_when_it_fits(
    pay_cta: str, price: int, shown: str
) -> None:
    big = order(("silver-urn", "Silver Samovar", price, 20), link=LINK)
    chat = Chat(ctx=context(shop(messages={"pay_cta": pay_cta}), open_order=big), state=WAITING)
    cta = chat.taps(cb.RedirectToPayment(order_id="ord_1").pack()).messages[0]
    assert isinstance(cta, SendCtaUrl)
    assert cta.display_text == shown


@pytest.mark.parametrize(
    ("open_order", "event_order", "now", "answer", "button"),
    [
        (None, PAID, NOW, "Order ord_1 is already paid.", None),
        (None, None, NOW, "Order ord_1 is no longer open for payment.", "Checkout"),
        (order(status=OrderStatus.EXPIRED), None, NOW, "Order ord_1 is no longer open", "Checkout"),
        (
            PENDING,
            None,
            LINK.expires_at,
            "The payment link for order ord_1 has expired.",
            "Get a new link",
        ),
        (order(link=None), None, NOW, "Your payment link for order ord_1 is on its way.", None),
        (
            None,
            order(status=OrderStatus.FLAGGED),
            NOW,
            "We received a payment for order ord_1",
            None,
        ),
    ],
)
def test_pay_now_when_the_link_cannot_be_used(
    open_order: Order | None, event_order: Order | None, now: int, answer: str, button: str | None
) -> None:
    decision = pay_now(open_order, event_order=event_order, now=now)
    assert decision.effects == ()
    assert last(decision).body.startswith(answer)
    if button is not None:
        assert buttons(last(decision)) == {button: "checkout"}


def test_a_template_quick_reply_with_an_unknown_payload_gets_the_hint() -> None:
    decision = Chat(state=WAITING).taps("PROMO_DIWALI_2026")
    assert decision.state == WAITING
    assert last(decision).body.startswith("Sorry, I didn't get that.")


# --- money arrives ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", [OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED, OrderStatus.CANCELLED]
)
def test_a_matching_payment_is_confirmed_even_after_expiry(status: OrderStatus) -> None:
    decision = on(captured(), order(link=LINK, status=status))
    assert decision.effects == (
        SetOrderStatus(order_id="ord_1", status=OrderStatus.PAID, payment_id="pay_1", at=NOW),
    )
    assert last(decision).body == (
        "✅ Payment received for order ord_1. Thank you!\n"
        "• 2 × Masala Chai 250 g (₹249.00 each): ₹498.00\n"
        "*Total paid: ₹498.00*\n"
        "Deliver to: 12 MG Road, Bengaluru 560001"
    )
    assert decision.state == WAITING.model_copy(update={"cart": (), "phase": Idle()})


@pytest.mark.parametrize(
    ("mismatch", "named"),
    [
        ({"amount_paid": 100}, "amount paid 100 is not the total 49800"),
        ({"amount": 100, "amount_paid": 100}, "link amount 100 is not the total 49800"),
        ({"currency": "USD"}, "currency 'USD' is not 'INR'"),
        ({"link_id": "plink_SOMEONEELSE1"}, "link 'plink_SOMEONEELSE1' is not"),
    ],
)
def test_a_payment_that_does_not_match_is_flagged_never_confirmed(
    mismatch: dict[str, Any], named: str
) -> None:
    decision = on(captured(**mismatch), PENDING)
    (flag,) = decision.effects
    assert isinstance(flag, SetOrderStatus)
    assert flag.status is OrderStatus.FLAGGED
    assert named in flag.reason
    said = last(decision).body
    assert "being checked" in said or "checking it" in said
    assert "✅" not in said
    assert decision.state.cart == WAITING.cart
    assert decision.state.phase == Idle()


def test_a_payment_for_an_order_the_runner_did_not_find_does_nothing() -> None:
    decision = on(captured(order_id="ord_2"), PENDING)
    assert decision.effects == ()  # the runner gives the order the event names: none matches


def test_the_order_id_check_is_part_of_the_comparison() -> None:
    from flows.machine import payment_mismatches

    assert payment_mismatches(captured(order_id="ord_2"), PENDING) == [
        "reference 'ord_2' is not 'ord_1'"
    ]


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.FLAGGED])
def test_a_second_capture_for_a_settled_order_does_nothing(status: OrderStatus) -> None:
    decision = on(captured(payment_id="pay_2"), order(link=LINK, status=status))
    assert (decision.state, decision.messages, decision.effects) == (WAITING, (), ())


def test_a_capture_without_the_order_does_nothing() -> None:
    decision = on(captured(), None)
    assert (decision.state, decision.messages, decision.effects) == (WAITING, (), ())


# --- the link ends unpaid -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "status", "said"),
    [
        (
            PaymentLinkExpired(order_id="ord_1", link_id=LINK.id),
            OrderStatus.EXPIRED,
            "The payment link for order ord_1 has expired.",
        ),
        (
            PaymentLinkCancelled(order_id="ord_1", link_id=LINK.id),
            OrderStatus.CANCELLED,
            "The payment link for order ord_1 was cancelled.",
        ),
    ],
)
def test_an_ended_link_closes_the_order_and_offers_a_new_one(
    event: Any, status: OrderStatus, said: str
) -> None:
    decision = on(event, PENDING)
    (effect,) = decision.effects
    assert isinstance(effect, SetOrderStatus)
    assert (effect.order_id, effect.status, effect.at) == ("ord_1", status, NOW)
    assert last(decision).body.startswith(said)
    assert buttons(last(decision)) == {"Get a new link": "checkout"}
    assert decision.state.phase == Idle()


@pytest.mark.parametrize(
    "event",
    [
        PaymentLinkExpired(order_id="ord_1", link_id=LINK.id),
        PaymentLinkCancelled(order_id="ord_1", link_id=LINK.id),
        PaymentFailed(order_id="ord_1", payment_id="pay_1", reason="bank declined"),
        PaymentLinkCreationFailed(order_id="ord_1", reason="BAD_REQUEST_ERROR"),
    ],
)
@pytest.mark.parametrize(
    "status", [OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.FLAGGED]
)
def test_late_events_for_a_settled_order_change_nothing(event: Any, status: OrderStatus) -> None:
    decision = on(event, order(link=LINK, status=status))
    assert (decision.state, decision.messages, decision.effects) == (WAITING, (), ())


def test_an_event_for_an_older_link_changes_nothing() -> None:
    decision = on(PaymentLinkExpired(order_id="ord_1", link_id="plink_OLDOLDOLDOLDOL"), PENDING)
    assert (decision.messages, decision.effects) == ((), ())


def test_a_failed_payment_can_be_retried() -> None:
    decision = on(
        PaymentFailed(order_id="ord_1", payment_id="pay_1", reason="bank declined"), PENDING
    )
    assert decision.effects == ()
    assert last(decision).body == (
        "Your payment for order ord_1 did not go through. You can try again.\nReason: bank declined"
    )
    assert buttons(last(decision)) == {"Pay now": "redirect_to_payment:ord_1"}
    assert decision.state == WAITING


def test_a_failed_payment_without_a_reason() -> None:
    decision = on(PaymentFailed(order_id="ord_1", payment_id="pay_1"), PENDING)
    assert "Reason" not in last(decision).body


def test_a_link_that_could_not_be_made_cancels_the_order_with_an_apology() -> None:
    decision = on(PaymentLinkCreationFailed(order_id="ord_1", reason="BAD_REQUEST_ERROR"), order())
    assert decision.effects == (
        SetOrderStatus(
            order_id="ord_1", status=OrderStatus.CANCELLED, at=NOW, reason="BAD_REQUEST_ERROR"
        ),
    )
    assert last(decision).body.startswith("Sorry, we could not create a payment link")
    assert buttons(last(decision)) == {"Try again": "checkout"}
    assert decision.state.phase == Idle()
    assert decision.state.cart == WAITING.cart


# --- the whole way through ----------------------------------------------------------------------


def test_hello_to_paid() -> None:
    chat = Chat()
    chat.says("Hello")
    chat.taps(cb.BrowseCategories().pack())
    chat.picks(cb.ShowProduct(product_id="tulsi-green").pack())
    chat.says("3")
    chat.says("checkout")
    placing = chat.says("221B Baker Street, Kolkata 700016")
    placed = placing.effects[0].order
    assert placed.total == 3 * 19950

    chat.ctx = context(event_order=placed, open_order=placed)
    summary = chat.send(
        PaymentLinkCreated(
            order_id=placed.id, link_id="plink_X", url="https://rzp.io/x", expires_at=NOW + 1800
        )
    )
    assert "₹598.50" in last(summary).body

    with_link = placed.model_copy(
        update={"link": PaymentLink(id="plink_X", url="https://rzp.io/x", expires_at=NOW + 1800)}
    )
    chat.ctx = context(event_order=with_link, open_order=with_link)
    paid = chat.send(
        captured(order_id=placed.id, link_id="plink_X", amount=59850, amount_paid=59850)
    )
    assert last(paid).body.startswith("✅ Payment received for order ord_new")
    assert chat.state == Conversation(address="221B Baker Street, Kolkata 700016")
