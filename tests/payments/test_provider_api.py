"""The Stripe and Paystack clients against their recording fakes on loopback: what each call
sends (form or JSON, idempotency keys), how a retry of one attempt is recognised, and which
failures are worth retrying (ProviderUnavailable) and which are not (ProviderRejected)."""

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.payments.base import (
    LinkRequest,
    PaymentProvider,
    ProviderRejected,
    ProviderUnavailable,
    RefundRequest,
)
from bot.payments.paystack import PaystackProvider, order_id_of
from bot.payments.stripe import StripeProvider
from tests.support.fakes import Canned
from tests.support.provider_fakes import FakePaystack, FakeStripe

NOW = 1_790_000_000
ORDER = "ORD-20261201-4C7D2E9A1B3F"


def link_request(**changes: Any) -> LinkRequest:
    fields: dict[str, Any] = {
        "order_id": ORDER,
        "amount": 159800,
        "currency": "USD",
        "description": "Chai Point order ORD-20261201-4C7D2E9A1B3F (2 items)",
        "customer_name": "Asha",
        "customer_phone": "2348031234567",
        "expire_by": NOW + 20 * 60,
        "callback_url": "https://shop.example.com/payments/callback",
        "notes": {"order_id": ORDER, "shop": "Chai Point"},
    }
    fields.update(changes)
    return LinkRequest(**fields)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def stripe_fake() -> AsyncIterator[tuple[FakeStripe, str]]:
    fake = FakeStripe(secret_key="sk_test_api")
    async with TestServer(fake.app()) as server:
        yield fake, str(server.make_url(""))


@pytest.fixture
async def paystack_fake() -> AsyncIterator[tuple[FakePaystack, str]]:
    fake = FakePaystack(secret_key="sk_test_api")
    async with TestServer(fake.app()) as server:
        yield fake, str(server.make_url(""))


def stripe_provider(session: aiohttp.ClientSession, base: str) -> StripeProvider:
    return StripeProvider(
        session, base, secret_key="sk_test_api", webhook_secrets=["whsec_x"], clock=lambda: NOW
    )


def paystack_provider(session: aiohttp.ClientSession, base: str) -> PaystackProvider:
    suffixes = iter(["00000001", "00000002", "00000003"])
    return PaystackProvider(
        session,
        base,
        secret_key="sk_test_api",
        email_domain="shop.example.com",
        new_suffix=lambda: next(suffixes),
    )


def test_both_are_payment_providers(session: aiohttp.ClientSession) -> None:
    providers: list[PaymentProvider] = [
        stripe_provider(session, "http://x"),
        paystack_provider(session, "http://x"),
    ]
    assert [p.name for p in providers] == ["stripe", "paystack"]


# --- Stripe ----------------------------------------------------------------------------------


async def test_stripe_a_session_is_created_with_an_expiry_stripe_accepts(
    session: aiohttp.ClientSession, stripe_fake: tuple[FakeStripe, str]
) -> None:
    fake, base = stripe_fake
    provider = stripe_provider(session, base)

    link = await provider.create_link(link_request())  # asks for 20 minutes

    [created] = fake.created
    assert link.link_id == created["id"]
    assert link.url == created["url"]
    assert link.expires_at == NOW + 31 * 60  # Stripe's 30-minute minimum, and a margin
    [(_, _, form, key)] = fake.requests
    assert form["metadata"] == {"order_id": ORDER, "shop": "Chai Point"}
    assert key is not None
    longest = await provider.create_link(link_request(order_id="ORD-2", expire_by=NOW + 9 * 86400))
    assert longest.expires_at == NOW + 86400 - 60


async def test_stripe_a_retried_attempt_sends_the_same_key_and_gets_the_same_session(
    session: aiohttp.ClientSession, stripe_fake: tuple[FakeStripe, str]
) -> None:
    fake, base = stripe_fake
    provider = stripe_provider(session, base)
    # Stripe creates the session, and then the answer is lost.
    fake.script.append(Canned(500, {"error": {"type": "api_error"}}, then_apply=True))

    with pytest.raises(ProviderUnavailable):
        await provider.create_link(link_request())
    link = await provider.create_link(link_request())

    assert len(fake.created) == 1
    assert link.link_id == fake.created[0]["id"]
    keys = {key for _, _, _, key in fake.requests}
    assert len(keys) == 1
    # A new attempt (another amount) is a new key, not Stripe's idempotency error.
    other = await provider.create_link(link_request(amount=100))
    assert other.link_id != link.link_id


async def test_stripe_a_retry_seconds_later_sends_the_same_parameters(
    session: aiohttp.ClientSession, stripe_fake: tuple[FakeStripe, str]
) -> None:
    fake, base = stripe_fake
    clock = [float(NOW)]
    provider = StripeProvider(
        session, base, secret_key="sk_test_api", webhook_secrets=["x"], clock=lambda: clock[0]
    )
    fake.script.append(Canned(500, {"error": {"type": "api_error"}}, then_apply=True))
    with pytest.raises(ProviderUnavailable):
        await provider.create_link(link_request())  # 20 minutes asked: moved to 31
    clock[0] += 7  # the job worker's back-off

    link = await provider.create_link(link_request())

    assert len(fake.created) == 1  # the same key, the same parameters: Stripe's first answer
    assert link.expires_at == NOW + 31 * 60


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, ProviderUnavailable),
        (409, ProviderUnavailable),  # a concurrent request with the same idempotency key
        (503, ProviderUnavailable),
        (400, ProviderRejected),
        (402, ProviderRejected),
    ],
)
async def test_stripe_errors_are_classified(
    session: aiohttp.ClientSession,
    stripe_fake: tuple[FakeStripe, str],
    status: int,
    kind: type[Exception],
) -> None:
    fake, base = stripe_fake
    fake.script.append(
        Canned(status, {"error": {"type": "invalid_request_error", "message": "no"}})
    )
    with pytest.raises(kind, match="Stripe create checkout session: HTTP"):
        await stripe_provider(session, base).create_link(link_request())


async def test_stripe_cancel_expires_an_open_session_and_refuses_a_paid_one(
    session: aiohttp.ClientSession, stripe_fake: tuple[FakeStripe, str]
) -> None:
    fake, base = stripe_fake
    provider = stripe_provider(session, base)
    open_link = await provider.create_link(link_request())
    paid_link = await provider.create_link(link_request(order_id="ORD-PAID"))
    fake.complete(paid_link.link_id)

    await provider.cancel_link(open_link.link_id)
    with pytest.raises(ProviderRejected, match="can be expired"):
        await provider.cancel_link(paid_link.link_id)

    assert fake.sessions[open_link.link_id]["status"] == "expired"


async def test_stripe_check_payment_reads_the_session(
    session: aiohttp.ClientSession, stripe_fake: tuple[FakeStripe, str]
) -> None:
    fake, base = stripe_fake
    provider = stripe_provider(session, base)
    link = await provider.create_link(link_request())

    pending = await provider.check_payment(link.link_id, ORDER)
    fake.complete(link.link_id)
    paid = await provider.check_payment(link.link_id, ORDER)

    assert (pending.state, pending.payment_id, pending.amount_paid) == ("pending", None, 0)
    assert paid.state == "paid"
    assert paid.order_id == ORDER
    assert paid.payment_id == fake.sessions[link.link_id]["payment_intent"]
    assert (paid.amount_paid, paid.currency) == (159800, "USD")
    with pytest.raises(ProviderRejected):
        await provider.check_payment("cs_test_unknown", ORDER)


async def test_stripe_a_refund_is_asked_once_per_key(
    session: aiohttp.ClientSession, stripe_fake: tuple[FakeStripe, str]
) -> None:
    fake, base = stripe_fake
    provider = stripe_provider(session, base)
    link = await provider.create_link(link_request())
    fake.complete(link.link_id)
    intent = fake.sessions[link.link_id]["payment_intent"]
    request = RefundRequest(
        payment_id=intent,
        amount=49900,
        currency="USD",
        idempotency_key="5d41402abc4b2a76b9719d911017c592",
        notes={"refund_id": "7", "order_id": ORDER},
    )
    fake.script.append(Canned(502, {"error": {"type": "api_error"}}, then_apply=True))

    with pytest.raises(ProviderUnavailable):
        await provider.refund(request)
    answer = await provider.refund(request)

    [refund] = fake.refunds.values()
    assert (answer.refund_id, answer.status) == (refund["id"], "pending")
    assert refund["metadata"] == {"refund_id": "7", "order_id": ORDER}
    sent = [(form, key) for _, path, form, key in fake.requests if path == "/v1/refunds"]
    assert [key for _, key in sent] == [request.idempotency_key] * 2


# --- Paystack --------------------------------------------------------------------------------


async def test_paystack_initialize_sends_a_reference_an_email_and_the_callback(
    session: aiohttp.ClientSession, paystack_fake: tuple[FakePaystack, str]
) -> None:
    fake, base = paystack_fake
    provider = paystack_provider(session, base)

    link = await provider.create_link(link_request(currency="NGN"))

    [(_, _, body)] = fake.requests
    assert body == {
        "email": "wa2348031234567@shop.example.com",
        "amount": 159800,
        "currency": "NGN",
        "reference": f"{ORDER}-00000001",
        "metadata": {"order_id": ORDER, "shop": "Chai Point"},
        "label": "Asha",
        "callback_url": "https://shop.example.com/payments/callback?provider=paystack",
    }
    assert link.link_id == f"{ORDER}-00000001"
    assert order_id_of(link.link_id) == ORDER
    assert link.url.startswith("https://checkout.paystack.test/")


async def test_paystack_a_lost_answer_is_retried_as_a_new_transaction(
    session: aiohttp.ClientSession, paystack_fake: tuple[FakePaystack, str]
) -> None:
    fake, base = paystack_fake
    provider = paystack_provider(session, base)
    fake.script.append(Canned(502, {"status": False, "message": "Bad gateway"}, then_apply=True))

    with pytest.raises(ProviderUnavailable):
        await provider.create_link(link_request(currency="NGN"))
    link = await provider.create_link(link_request(currency="NGN"))

    # Paystack would refuse the first reference again and has no way to find its URL: the
    # retry is a second transaction, and nobody has the first one's URL to pay it.
    assert [t["reference"] for t in fake.created] == [f"{ORDER}-00000001", f"{ORDER}-00000002"]
    assert link.link_id == f"{ORDER}-00000002"


async def test_paystack_refuses_an_order_id_it_cannot_use_as_a_reference(
    session: aiohttp.ClientSession, paystack_fake: tuple[FakePaystack, str]
) -> None:
    _, base = paystack_fake
    with pytest.raises(ProviderRejected, match="cannot be a Paystack reference"):
        await paystack_provider(session, base).create_link(link_request(order_id="ORD_1/2"))


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, ProviderRejected),
        (401, ProviderRejected),
        (429, ProviderUnavailable),
        (500, ProviderUnavailable),
        (200, ProviderUnavailable),
    ],
)
async def test_paystack_errors_are_classified(
    session: aiohttp.ClientSession,
    paystack_fake: tuple[FakePaystack, str],
    status: int,
    kind: type[Exception],
) -> None:
    fake, base = paystack_fake
    fake.script.append(Canned(status, {"status": False, "message": "Invalid key"}))
    with pytest.raises(kind, match="Invalid key"):
        await paystack_provider(session, base).create_link(link_request(currency="NGN"))


async def test_paystack_check_payment_is_the_verify_answer(
    session: aiohttp.ClientSession, paystack_fake: tuple[FakePaystack, str]
) -> None:
    fake, base = paystack_fake
    provider = paystack_provider(session, base)
    link = await provider.create_link(link_request(currency="NGN"))

    abandoned = await provider.check_payment(link.link_id, ORDER)
    fake.pay(link.link_id)
    paid = await provider.check_payment(link.link_id, ORDER)

    assert abandoned.state == "pending"
    assert (paid.state, paid.payment_id, paid.amount_paid, paid.currency) == (
        "paid",
        link.link_id,
        159800,
        "NGN",
    )
    with pytest.raises(ProviderRejected, match="not found"):
        await provider.check_payment(f"{ORDER}-ffffffff", ORDER)


async def test_paystack_cancel_is_local_and_calls_nothing(
    session: aiohttp.ClientSession, paystack_fake: tuple[FakePaystack, str]
) -> None:
    fake, base = paystack_fake
    await paystack_provider(session, base).cancel_link(f"{ORDER}-00000001")
    assert fake.requests == []


async def test_paystack_a_refund_retried_after_a_lost_answer_is_found_not_repeated(
    session: aiohttp.ClientSession, paystack_fake: tuple[FakePaystack, str]
) -> None:
    fake, base = paystack_fake
    provider = paystack_provider(session, base)
    link = await provider.create_link(link_request(currency="NGN"))
    fake.pay(link.link_id)
    request = RefundRequest(
        payment_id=link.link_id,
        amount=49900,
        currency="NGN",
        idempotency_key="5d41402abc4b2a76b9719d911017c592",
    )

    first = await provider.refund(request)
    again = await provider.refund(request)  # as if the first answer had been lost

    assert len(fake.refunds) == 1
    assert fake.refunds[0]["merchant_note"] == ("idempotency key 5d41402abc4b2a76b9719d911017c592")
    assert first.refund_id == again.refund_id == f"{link.link_id}/49900"
    assert first.status == "pending"
