"""Stripe's and Paystack's webhook bodies (real-shaped, tests/fixtures/stripe|paystack/webhooks)
translated into our typed outcomes: the same PaymentEvent and RefundUpdate Razorpay's give."""

import aiohttp
import pytest

from bot.payments.base import MalformedPaymentWebhook, RefundUpdate
from bot.payments.paystack import PaystackProvider, charge_reference, parse_paystack_event
from bot.payments.stripe import StripeProvider, parse_stripe_event
from flows.events import PaymentCaptured, PaymentFailed, PaymentLinkExpired
from tests.fixtures_path import PAYSTACK_FIXTURES, STRIPE_FIXTURES

ORDER = "ORD-20261201-4C7D2E9A1B3F"
SESSION = "cs_test_a1B2c3D4e5F6g7H8i9J0"
INTENT = "pi_3QxStripeTestPI0001"
REFERENCE = f"{ORDER}-1a2b3c4d"


def stripe(name: str) -> bytes:
    return (STRIPE_FIXTURES / "webhooks" / name).read_bytes()


def paystack(name: str) -> bytes:
    return (PAYSTACK_FIXTURES / "webhooks" / name).read_bytes()


def test_stripe_a_paid_session_is_a_captured_payment_with_the_payment_intent() -> None:
    hook = parse_stripe_event(stripe("checkout.session.completed.json"))
    assert (hook.event_id, hook.dedupe_id) == ("evt_1QxCompleted0001", "evt_1QxCompleted0001")
    assert hook.order_id == ORDER
    assert hook.event == PaymentCaptured(
        order_id=ORDER,
        link_id=SESSION,
        payment_id=INTENT,
        currency="USD",
        amount=159800,
        amount_paid=159800,
    )


def test_stripe_completed_but_unpaid_waits_for_the_async_result() -> None:
    hook = parse_stripe_event(stripe("checkout.session.completed.unpaid.json"))
    assert hook.order_id == ORDER
    assert hook.event is None
    succeeded = parse_stripe_event(stripe("checkout.session.async_payment_succeeded.json"))
    assert isinstance(succeeded.event, PaymentCaptured)
    assert succeeded.event.payment_id == INTENT


def test_stripe_async_failure_and_expiry() -> None:
    failed = parse_stripe_event(stripe("checkout.session.async_payment_failed.json"))
    assert failed.event == PaymentFailed(
        order_id=ORDER, payment_id=INTENT, reason="the bank did not confirm the payment"
    )
    expired = parse_stripe_event(stripe("checkout.session.expired.json"))
    assert expired.event == PaymentLinkExpired(order_id=ORDER, link_id=SESSION)


def test_stripe_refund_events_carry_our_refund_id_from_the_metadata() -> None:
    done = parse_stripe_event(stripe("refund.updated.json"))
    assert done.order_id == ORDER
    assert done.event is None
    assert done.refund == RefundUpdate(
        provider_refund_id="re_3QxStripeRefund0001", status="processed", refund_id=7
    )
    failed = parse_stripe_event(stripe("refund.failed.json"))
    assert failed.refund is not None
    assert (failed.refund.status, failed.refund.refund_id) == ("failed", 8)
    assert failed.refund.failure == "expired_or_canceled_card"


def test_stripe_charge_refunded_without_a_refund_list_is_only_logged() -> None:
    hook = parse_stripe_event(stripe("charge.refunded.json"))
    assert (hook.order_id, hook.event, hook.refund) == (ORDER, None, None)


def test_stripe_other_events_are_only_logged() -> None:
    hook = parse_stripe_event(stripe("payment_intent.created.json"))
    assert (hook.event_type, hook.order_id, hook.event) == ("payment_intent.created", ORDER, None)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"id":"evt_1","type":"checkout.session.completed"}',
        b'{"id":"evt_1","type":"checkout.session.completed","data":{"object":{"no":"id"}}}',
        b'{"id":"evt_1","type":"x","created":1e999,"data":{"object":{}}}',
    ],
)
def test_stripe_unreadable_bodies_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedPaymentWebhook):
        parse_stripe_event(body)


def test_paystack_charge_success_names_the_order_and_is_verified_later() -> None:
    raw = paystack("charge.success.json")
    hook = parse_paystack_event(raw)
    assert hook.order_id == ORDER
    assert hook.event is None  # never trusted as it is: a verify job decides
    assert hook.dedupe_id == f"charge.success:{REFERENCE}:success:159800"
    assert charge_reference(raw.decode()) == REFERENCE


def test_paystack_metadata_sent_as_zero_still_finds_the_order_from_the_reference() -> None:
    hook = parse_paystack_event(paystack("charge.success.metadata_zero.json"))
    assert hook.order_id == ORDER


def test_paystack_refund_events_settle_by_reference_and_amount() -> None:
    processed = parse_paystack_event(paystack("refund.processed.json"))  # amount as a string
    assert processed.refund == RefundUpdate(
        provider_refund_id=f"{REFERENCE}/49900", status="processed", refund_id=None
    )
    failed = parse_paystack_event(paystack("refund.failed.json"))  # amount as a number
    assert failed.refund is not None
    assert (failed.refund.provider_refund_id, failed.refund.status) == (
        f"{REFERENCE}/49900",
        "failed",
    )
    pending = parse_paystack_event(paystack("refund.pending.json"))
    assert pending.refund is None
    assert pending.dedupe_id != processed.dedupe_id


def test_paystack_other_events_are_logged_and_keyed_by_their_bytes() -> None:
    hook = parse_paystack_event(paystack("subscription.create.json"))
    assert (hook.order_id, hook.event, hook.refund) == (None, None, None)
    assert hook.dedupe_id.startswith("sha256:")


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"data":{}}',
        b'{"event":"charge.success","data":{"amount":1}}',
        b'{"event":"refund.processed","data":{"status":"processed"}}',
        b'{"event":"charge.success","data":{"reference":"a","amount":NaN}}',
    ],
)
def test_paystack_unreadable_bodies_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedPaymentWebhook):
        parse_paystack_event(body)


async def test_stripe_and_paystack_redirects_name_the_order_but_never_say_paid(
    session: aiohttp.ClientSession,
) -> None:
    stripe_provider = StripeProvider(session, secret_key="sk", webhook_secrets=["whsec_x"])
    back = stripe_provider.verify_callback(
        {"provider": "stripe", "order_id": ORDER, "session_id": SESSION}
    )
    assert back is not None
    assert (back.order_id, back.link_id, back.status) == (ORDER, SESSION, "pending")
    left = stripe_provider.verify_callback({"order_id": ORDER, "cancelled": "1"})
    assert left is not None
    assert (left.order_id, left.status) == (ORDER, "left")
    assert stripe_provider.verify_callback({"order_id": ORDER, "session_id": "x"}) is None

    paystack_provider = PaystackProvider(session, secret_key="sk", email_domain="shop.example")
    redirect = paystack_provider.verify_callback({"trxref": REFERENCE, "reference": REFERENCE})
    assert redirect is not None
    assert (redirect.order_id, redirect.link_id, redirect.status) == (ORDER, REFERENCE, "pending")
    assert paystack_provider.verify_callback({"reference": "T123_abc"}) is None
