"""The order's life after checkout: what the merchant may do to an order in each state, and
what the customer is told, inside the 24-hour window and outside it."""

import pytest

from flows.lifecycle import (
    FULFILMENT_TRANSITIONS,
    WINDOW_SECONDS,
    Notice,
    PaymentStatus,
    Verdict,
    may_cancel,
    may_deliver,
    may_refund,
    may_ship,
    payment_status,
    refundable,
)
from flows.messages import SendTemplate, SendText
from flows.notices import NoticeContext, NotTold, TemplateRef, Templates, customer_notice
from flows.orders import FulfilmentStatus as F
from flows.orders import Order
from flows.orders import OrderStatus as S
from flows.texts import Texts
from tests.flows.flows_support import NOW, order

TOTAL = 49_800  # the default order: 2 × ₹249


def an_order(
    status: S = S.PAID, fulfilment: F = F.UNFULFILLED, refunded: int = 0, requested: int = 0
) -> Order:
    return order(status=status).model_copy(
        update={
            "fulfilment": fulfilment,
            "payment_id": "pay_1" if status is S.PAID else None,
            "refunded_total": refunded,
            "refunds_requested_total": max(requested, refunded),
        }
    )


@pytest.mark.parametrize(
    ("status", "refunded", "expected"),
    [
        (S.PENDING_PAYMENT, 0, PaymentStatus.AWAITING),
        (S.PAID, 0, PaymentStatus.PAID),
        (S.PAID, 100, PaymentStatus.PARTLY_REFUNDED),
        (S.PAID, TOTAL, PaymentStatus.REFUNDED),
        (S.FLAGGED, 0, PaymentStatus.FLAGGED),
        (S.EXPIRED, 0, PaymentStatus.EXPIRED),
        (S.CANCELLED, 0, PaymentStatus.CANCELLED),
    ],
)
def test_payment_status_counts_the_refunds(
    status: S, refunded: int, expected: PaymentStatus
) -> None:
    assert payment_status(an_order(status, refunded=refunded)) is expected


DO, ALREADY, REFUSED = Verdict.DO, Verdict.ALREADY, Verdict.REFUSED


@pytest.mark.parametrize(
    ("status", "fulfilment", "ship", "deliver"),
    [
        (S.PAID, F.UNFULFILLED, DO, DO),
        (S.PAID, F.SHIPPED, ALREADY, DO),
        (S.PAID, F.DELIVERED, REFUSED, ALREADY),
        (S.PAID, F.CANCELLED, REFUSED, REFUSED),
        (S.PENDING_PAYMENT, F.UNFULFILLED, REFUSED, REFUSED),
        (S.FLAGGED, F.UNFULFILLED, REFUSED, REFUSED),
        (S.EXPIRED, F.UNFULFILLED, REFUSED, REFUSED),
        (S.CANCELLED, F.UNFULFILLED, REFUSED, REFUSED),
    ],
)
def test_only_a_paid_order_ships_and_is_delivered_once(
    status: S, fulfilment: F, ship: Verdict, deliver: Verdict
) -> None:
    assert may_ship(an_order(status, fulfilment)).verdict is ship
    assert may_deliver(an_order(status, fulfilment)).verdict is deliver


@pytest.mark.parametrize(
    ("status", "fulfilment", "refund", "expected"),
    [
        (S.PENDING_PAYMENT, F.UNFULFILLED, False, DO),  # and its link is cancelled
        (S.EXPIRED, F.UNFULFILLED, False, DO),
        (S.CANCELLED, F.UNFULFILLED, False, DO),
        (S.PAID, F.UNFULFILLED, False, REFUSED),  # the money first: refund to cancel
        (S.PAID, F.UNFULFILLED, True, DO),
        (S.PAID, F.SHIPPED, True, REFUSED),  # on its way: deliver, then refund if need be
        (S.PAID, F.CANCELLED, True, ALREADY),
        (S.FLAGGED, F.UNFULFILLED, True, REFUSED),
    ],
)
def test_cancel(status: S, fulfilment: F, refund: bool, expected: Verdict) -> None:
    assert may_cancel(an_order(status, fulfilment), refund).verdict is expected


def test_a_paid_order_refunded_in_full_may_be_cancelled_without_another_refund() -> None:
    assert may_cancel(an_order(refunded=TOTAL), refund_requested=False).verdict is DO


@pytest.mark.parametrize(
    ("requested", "amount", "expected"),
    [
        (0, TOTAL, DO),
        (0, 100, DO),
        (TOTAL - 100, 100, DO),  # partial refunds add up to the total exactly
        (TOTAL - 100, 101, REFUSED),  # never more than was paid
        (TOTAL, 1, REFUSED),
        (0, 0, REFUSED),
        (0, -5, REFUSED),
    ],
)
def test_refunds_add_up_to_at_most_what_was_paid(
    requested: int, amount: int, expected: Verdict
) -> None:
    paid = an_order(requested=requested)
    assert may_refund(paid, amount).verdict is expected
    assert refundable(paid) == TOTAL - requested


def test_an_unpaid_order_has_nothing_to_refund() -> None:
    assert may_refund(an_order(S.PENDING_PAYMENT), 100).verdict is REFUSED
    assert refundable(an_order(S.PENDING_PAYMENT)) == 0


def test_every_fulfilment_status_has_a_row_and_final_ones_lead_nowhere() -> None:
    assert set(FULFILMENT_TRANSITIONS) == set(F)
    assert FULFILMENT_TRANSITIONS[F.DELIVERED] == FULFILMENT_TRANSITIONS[F.CANCELLED] == set()


# --- what the customer is told ------------------------------------------------------------------

TEMPLATES = Templates(order_shipped=TemplateRef(name="order_shipped", language="en"))
SHIPPED = an_order(fulfilment=F.SHIPPED).model_copy(
    update={"courier": "DTDC", "tracking_url": "https://track.example/AWB123"}
)


def context(last_inbound_at: int | None) -> NoticeContext:
    return NoticeContext(Texts(), TEMPLATES, last_inbound_at, NOW)


def test_inside_the_window_the_customer_gets_text_with_the_tracking_link() -> None:
    message = customer_notice(Notice.SHIPPED, SHIPPED, context(NOW - WINDOW_SECONDS + 1))
    assert isinstance(message, SendText)
    assert message.body == (
        "📦 Your order ord_1 is on its way!\nCourier: DTDC\nTracking: https://track.example/AWB123"
    )


def test_outside_the_window_the_merchants_template_with_its_parameters_in_order() -> None:
    message = customer_notice(Notice.SHIPPED, SHIPPED, context(NOW - WINDOW_SECONDS))
    assert message == SendTemplate(
        name="order_shipped",
        language="en",
        body_parameters=("ord_1", "DTDC", "https://track.example/AWB123"),
    )


def test_without_a_template_the_customer_is_not_told_and_the_reason_says_why() -> None:
    told = customer_notice(Notice.REFUNDED, an_order(), context(None), amount=1250)
    assert told == NotTold(
        "outside the 24-hour window and no [templates] order_refunded in config.toml"
    )


def test_a_refund_notice_names_the_amount() -> None:
    told = customer_notice(Notice.REFUNDED, an_order(), context(NOW - 60), amount=1250)
    assert isinstance(told, SendText)
    assert "₹12.50" in told.body
