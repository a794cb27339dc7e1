"""Reminders: what a step plans, and what a due reminder says in each phase."""

from typing import Any

import pytest
from flows_support import (
    NEW_ORDER_ID,
    NOW,
    all_text,
    body,
    buttons,
    context,
    link,
    order,
    shop,
)

from flows.effects import CancelPaymentLink, CreatePaymentLink, PlaceOrder, SetOrderStatus
from flows.events import (
    ButtonPressed,
    MarketingPreferenceChanged,
    PaymentCaptured,
    PaymentLinkCreated,
    PaymentLinkExpired,
    ReminderDue,
    TextReceived,
)
from flows.machine import Decision, StepContext, step
from flows.messages import SendCtaUrl, SendTemplate, SendText
from flows.orders import Order, OrderStatus
from flows.reminders import (
    CancelReminders,
    ReminderFacts,
    ReminderOutcome,
    ReminderSlot,
    ScheduleReminder,
    SetReminders,
    StoppedBy,
)
from flows.state import AwaitingPayment, CartLine, ChoosingQuantity, Conversation, Idle

HOUR = 3600
CART = (CartLine(product_id="masala-chai", quantity=2),)
WAITING = Conversation(
    phase=AwaitingPayment(order_id="ord_1"), cart=CART, address="12 MG Road, Bengaluru 560001"
)
GOOD_LINK = link(expires_at=NOW + 1800)
PENDING = order(link=GOOD_LINK)
WROTE_RECENTLY = ReminderFacts(last_inbound_at=NOW - 45 * 60, pending=1)
WROTE_LONG_AGO = ReminderFacts(last_inbound_at=NOW - 25 * HOUR)


def ctx(
    facts: ReminderFacts = WROTE_RECENTLY,
    event_order: Order | None = PENDING,
    open_order: Order | None = PENDING,
    **config: Any,
) -> StepContext:
    return context(shop(**config), event_order=event_order, open_order=open_order).model_copy(
        update={"reminders": facts}
    )


def due(slot: ReminderSlot = ReminderSlot.PAYMENT_FIRST, order_id: str | None = "ord_1") -> Any:
    return ReminderDue(reminder_id=7, slot=slot, order_id=order_id)


def outcome(decision: Decision) -> ReminderOutcome:
    found = [c for c in decision.reminders if isinstance(c, ReminderOutcome)]
    assert len(found) == 1, decision.reminders
    return found[0]


def skipped(decision: Decision, why: str) -> None:
    assert decision.messages == ()
    assert decision.effects == ()
    result = outcome(decision)
    assert not result.sent
    assert why in result.note


# --- planning ----------------------------------------------------------------------------------


def test_a_new_link_plans_one_reminder_soon_and_one_late_in_the_window() -> None:
    created = PaymentLinkCreated(
        order_id="ord_1", link_id="plink_NEW", url="https://rzp.io/rzp/new", expires_at=NOW + 1800
    )
    last_message = NOW - 60
    decision = step(
        WAITING, created, ctx(ReminderFacts(last_inbound_at=last_message), order(link=None))
    )
    assert decision.reminders == (
        ScheduleReminder(slot=ReminderSlot.PAYMENT_FIRST, due_at=NOW + 45 * 60, order_id="ord_1"),
        ScheduleReminder(
            slot=ReminderSlot.PAYMENT_SECOND, due_at=last_message + 20 * HOUR, order_id="ord_1"
        ),
    )


def test_the_merchant_sets_the_times_and_zero_turns_a_reminder_off() -> None:
    created = PaymentLinkCreated(
        order_id="ord_1", link_id="plink_NEW", url="https://rzp.io/rzp/new", expires_at=NOW + 1800
    )
    rules = {"payment_first_after_minutes": 90, "payment_second_after_hours": 0}
    decision = step(WAITING, created, ctx(event_order=order(link=None), reminders=rules))
    assert decision.reminders == (
        ScheduleReminder(slot=ReminderSlot.PAYMENT_FIRST, due_at=NOW + 90 * 60, order_id="ord_1"),
    )


def test_any_message_cancels_what_is_pending_and_plans_the_late_reminder_from_it() -> None:
    decision = step(WAITING, TextReceived(message_id="w1", text="hmm"), ctx())
    assert decision.reminders == (
        CancelReminders(reason="the customer wrote"),
        ScheduleReminder(
            slot=ReminderSlot.PAYMENT_SECOND, due_at=NOW + 20 * HOUR, order_id="ord_1"
        ),
    )


def test_pay_now_shows_the_link_so_the_soon_reminder_counts_from_the_tap() -> None:
    decision = step(
        WAITING, ButtonPressed(message_id="w1", button_id="redirect_to_payment:ord_1"), ctx()
    )
    assert decision.reminders == (
        CancelReminders(reason="the customer wrote"),
        ScheduleReminder(slot=ReminderSlot.PAYMENT_FIRST, due_at=NOW + 45 * 60, order_id="ord_1"),
        ScheduleReminder(
            slot=ReminderSlot.PAYMENT_SECOND, due_at=NOW + 20 * HOUR, order_id="ord_1"
        ),
    )


def test_with_nothing_pending_a_message_cancels_nothing() -> None:
    facts = ReminderFacts(last_inbound_at=NOW - 60, pending=0)
    decision = step(Conversation(), TextReceived(message_id="w1", text="hi"), ctx(facts))
    assert decision.reminders == ()


def test_a_message_outside_checkout_only_cancels_when_the_cart_nudge_is_off() -> None:
    decision = step(Conversation(), TextReceived(message_id="w1", text="hi"), ctx())
    assert decision.reminders == (CancelReminders(reason="the customer wrote"),)


def test_a_changed_cart_plans_a_nudge_when_the_merchant_turned_it_on() -> None:
    state = Conversation(phase=ChoosingQuantity(product_id="masala-chai"))
    config = {"reminders": {"cart_nudge_after_minutes": 120}}
    decision = step(state, TextReceived(message_id="w1", text="2"), ctx(**config))
    assert decision.reminders == (
        CancelReminders(reason="the customer wrote"),
        ScheduleReminder(slot=ReminderSlot.CART, due_at=NOW + 2 * HOUR),
    )
    # A message that leaves the cart as it was does not plan another nudge.
    again = step(decision.state, TextReceived(message_id="w2", text="hi"), ctx(**config))
    assert again.reminders == (CancelReminders(reason="the customer wrote"),)


@pytest.mark.parametrize(
    "event",
    [
        PaymentCaptured(
            order_id="ord_1",
            link_id=GOOD_LINK.id,
            payment_id="pay_1",
            currency="INR",
            amount=49800,
            amount_paid=49800,
        ),
        PaymentCaptured(
            order_id="ord_1",
            link_id=GOOD_LINK.id,
            payment_id="pay_1",
            currency="INR",
            amount=49800,
            amount_paid=100,
        ),
    ],
    ids=["paid", "flagged"],
)
def test_a_payment_cancels_every_pending_reminder(event: PaymentCaptured) -> None:
    decision = step(WAITING, event, ctx())
    assert decision.reminders == (CancelReminders(reason="the order was paid or cancelled"),)


def test_an_expired_link_keeps_the_reminders_which_offer_a_fresh_one() -> None:
    expired = PaymentLinkExpired(order_id="ord_1", link_id=GOOD_LINK.id)
    decision = step(WAITING, expired, ctx())
    assert decision.reminders == ()


def test_stopped_reminders_are_never_planned() -> None:
    facts = ReminderFacts(last_inbound_at=NOW, stopped_by=StoppedBy.CUSTOMER, pending=1)
    decision = step(WAITING, TextReceived(message_id="w1", text="hmm"), ctx(facts))
    assert decision.reminders == (CancelReminders(reason="the customer wrote"),)


# --- stop, start, and Meta's marketing opt-out -----------------------------------------------


def test_stop_turns_reminders_off_and_says_so() -> None:
    decision = step(WAITING, TextReceived(message_id="w1", text="STOP"), ctx())
    assert decision.reminders == (
        CancelReminders(reason="the customer wrote"),
        CancelReminders(reason="the customer typed stop"),
        SetReminders(stopped_by=StoppedBy.CUSTOMER),
    )
    assert all_text(decision) == "OK, no more reminders from us. Type *start* to turn them back on."
    assert decision.state == WAITING


def test_start_turns_them_back_on_and_shows_the_menu() -> None:
    facts = ReminderFacts(last_inbound_at=NOW, stopped_by=StoppedBy.CUSTOMER, pending=1)
    decision = step(Conversation(), TextReceived(message_id="w1", text="start"), ctx(facts))
    assert SetReminders(stopped_by=None) in decision.reminders
    assert body(decision.messages[0]).startswith("Reminders are back on.")
    assert "Welcome to Chai Point" in body(decision.messages[-1])


def test_start_while_reminders_are_on_is_the_greeting_it_always_was() -> None:
    decision = step(Conversation(), TextReceived(message_id="w1", text="start"), ctx())
    assert decision.reminders == (CancelReminders(reason="the customer wrote"),)
    assert len(decision.messages) == 1
    assert "Welcome to Chai Point" in body(decision.messages[0])


@pytest.mark.parametrize(
    ("stopped", "before", "changes"),
    [
        (
            True,
            None,
            (
                CancelReminders(reason="the customer stopped marketing messages"),
                SetReminders(stopped_by=StoppedBy.MARKETING_OPT_OUT),
            ),
        ),
        (False, StoppedBy.MARKETING_OPT_OUT, (SetReminders(stopped_by=None),)),
        (False, StoppedBy.CUSTOMER, ()),  # Meta's resume never undoes a typed stop
        (True, StoppedBy.CUSTOMER, ()),
        (False, None, ()),
    ],
)
def test_the_marketing_opt_out_stops_and_resumes_quietly(
    stopped: bool, before: StoppedBy | None, changes: tuple[Any, ...]
) -> None:
    facts = ReminderFacts(last_inbound_at=NOW, stopped_by=before)
    decision = step(WAITING, MarketingPreferenceChanged(stopped=stopped), ctx(facts))
    assert decision.reminders == changes
    assert decision.messages == ()
    assert decision.state == WAITING


# --- a payment reminder comes due --------------------------------------------------------------


def test_inside_the_window_the_link_is_sent_again() -> None:
    decision = step(WAITING, due(), ctx())
    assert isinstance(decision.messages[0], SendText)
    assert decision.messages[0].body.startswith(
        "⏰ A reminder: order ord_1 is still waiting for your payment."
    )
    assert isinstance(decision.messages[1], SendCtaUrl)
    assert decision.messages[1].url == GOOD_LINK.url
    assert decision.effects == ()
    assert outcome(decision) == ReminderOutcome(reminder_id=7, sent=True, note="the link again")
    assert decision.state == WAITING


def test_an_expired_link_is_replaced_by_a_fresh_one_through_the_usual_link_path() -> None:
    expired = order(status=OrderStatus.EXPIRED, link=link(expires_at=NOW - 60))
    state = WAITING.model_copy(update={"phase": Idle()})
    decision = step(state, due(), ctx(event_order=expired, open_order=None))
    assert "the payment link for order ord_1 expired, so here is a fresh one" in all_text(decision)
    placed = [e for e in decision.effects if isinstance(e, PlaceOrder)]
    assert [p.order.id for p in placed] == [NEW_ORDER_ID]
    assert placed[0].order.lines == expired.lines
    assert any(isinstance(e, CreatePaymentLink) for e in decision.effects)
    assert decision.state.phase == AwaitingPayment(order_id=NEW_ORDER_ID)
    assert outcome(decision).sent


def test_a_pending_order_whose_link_ran_out_is_replaced_too() -> None:
    stale = order(link=link(expires_at=NOW + 10))
    decision = step(WAITING, due(), ctx(event_order=stale, open_order=stale))
    kinds = [type(e) for e in decision.effects]
    assert kinds == [CancelPaymentLink, SetOrderStatus, PlaceOrder, CreatePaymentLink]
    assert outcome(decision).sent


def test_outside_the_window_nothing_is_sent_without_a_template() -> None:
    skipped(
        step(WAITING, due(), ctx(WROTE_LONG_AGO)),
        "outside the 24-hour window and no [templates] payment_reminder",
    )


def test_outside_the_window_the_merchants_template_is_sent() -> None:
    templates = {"payment_reminder": {"name": "payment_pending", "language": "en"}}
    decision = step(WAITING, due(), ctx(WROTE_LONG_AGO, templates=templates))
    assert decision.messages == (
        SendTemplate(
            name="payment_pending",
            language="en",
            body_parameters=("ord_1", "₹498.00", GOOD_LINK.url),
        ),
    )
    assert outcome(decision).sent


def test_outside_the_window_an_expired_link_gets_nothing() -> None:
    expired = order(status=OrderStatus.EXPIRED, link=link(expires_at=NOW - 60))
    templates = {"payment_reminder": {"name": "payment_pending", "language": "en"}}
    decision = step(WAITING, due(), ctx(WROTE_LONG_AGO, expired, None, templates=templates))
    skipped(decision, "the link expired and the window closed")


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (OrderStatus.PAID, "the order is paid"),
        (OrderStatus.CANCELLED, "the order is cancelled"),
        (OrderStatus.FLAGGED, "the order is flagged"),
    ],
)
def test_a_paid_or_cancelled_order_gets_no_reminder(status: OrderStatus, why: str) -> None:
    closed = order(status=status, link=GOOD_LINK)
    skipped(step(Conversation(), due(), ctx(event_order=closed, open_order=None)), why)


def test_a_replaced_order_gets_no_reminder() -> None:
    newer = order(order_id="ord_2", link=GOOD_LINK)
    skipped(step(WAITING, due(), ctx(open_order=newer)), "a newer order replaced it")


def test_an_expired_order_whose_cart_changed_gets_no_fresh_link() -> None:
    expired = order(status=OrderStatus.EXPIRED, link=link(expires_at=NOW - 60))
    changed = Conversation(cart=(CartLine(product_id="kettle", quantity=1),))
    skipped(
        step(changed, due(), ctx(event_order=expired, open_order=None)),
        "the cart changed since the order",
    )


def test_the_cap_counts_reminders_since_the_customers_last_message() -> None:
    facts = ReminderFacts(last_inbound_at=NOW - HOUR, sent_since_inbound=2)
    skipped(step(WAITING, due(), ctx(facts)), "the cap")


def test_stopped_reminders_that_were_already_due_say_nothing() -> None:
    facts = ReminderFacts(last_inbound_at=NOW - HOUR, stopped_by=StoppedBy.MARKETING_OPT_OUT)
    skipped(step(WAITING, due(), ctx(facts)), "reminders are off")


# --- a cart nudge comes due --------------------------------------------------------------------


def test_a_cart_nudge_shows_the_cart_with_checkout() -> None:
    decision = step(Conversation(cart=CART), due(ReminderSlot.CART, None), ctx(open_order=None))
    assert body(decision.messages[0]).startswith("🛒 You left something in your cart.")
    assert "Checkout" in buttons(decision.messages[0])
    assert outcome(decision).sent


@pytest.mark.parametrize(
    ("state", "facts", "why"),
    [
        (Conversation(), WROTE_RECENTLY, "the cart is empty"),
        (WAITING, WROTE_RECENTLY, "an order is waiting for payment"),
        (Conversation(cart=CART), WROTE_LONG_AGO, "outside the 24-hour window"),
    ],
)
def test_a_cart_nudge_says_nothing_when_it_no_longer_applies(
    state: Conversation, facts: ReminderFacts, why: str
) -> None:
    skipped(step(state, due(ReminderSlot.CART, None), ctx(facts)), why)
