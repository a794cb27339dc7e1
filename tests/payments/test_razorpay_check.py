"""check_payment: Razorpay's own answer about one order's link, over loopback HTTP against the
recording stand-in, and turned into the same event the webhook would have produced."""

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from razorpay_corpus import api_json, make_provider, webhook_bytes

from bot.payments import ProviderRejected, ProviderUnavailable
from bot.payments.base import PaymentCheck
from bot.payments.checks import check_dedupe_key, check_event
from bot.payments.razorpay import RazorpayProvider
from flows.events import PaymentCaptured, PaymentLinkCancelled, PaymentLinkExpired
from tests.support.fakes import Canned, FakeRazorpay

ORDER = "wa-ord-2025-000042"
LINK = "plink_Qx7Rm2KpL9vTzA"


@pytest.fixture
def fake() -> FakeRazorpay:
    razorpay = FakeRazorpay(key_id="rzp_test_key_id", key_secret="key-secret-for-tests-only")
    razorpay.links[LINK] = api_json("create_payment_link.response.json")
    return razorpay


@pytest.fixture
async def provider(
    fake: FakeRazorpay, session: aiohttp.ClientSession
) -> AsyncIterator[RazorpayProvider]:
    async with TestServer(fake.app()) as server:
        yield make_provider(session, api_base=str(server.make_url("/v1")))


def link_as(fake: FakeRazorpay, name: str, **changes: Any) -> None:
    fake.links[LINK] = {**api_json(name), **changes}


async def test_a_link_nobody_paid_yet_is_pending(
    provider: RazorpayProvider, fake: FakeRazorpay
) -> None:
    check = await provider.check_payment(LINK, ORDER)

    assert check == PaymentCheck(
        order_id=ORDER, link_id=LINK, state="pending", amount_paid=0, currency="INR"
    )
    assert ("GET", f"/payment_links/{LINK}", None) in fake.requests
    assert check_event(check) is None  # nothing to record while it is pending


async def test_a_paid_link_gives_the_event_the_paid_webhook_gives(
    provider: RazorpayProvider, fake: FakeRazorpay
) -> None:
    link_as(fake, "fetch_payment_link.paid.response.json")

    check = await provider.check_payment(LINK, ORDER)
    webhook = provider.parse_webhook(webhook_bytes("payment_link.paid.json"), {})

    assert check.state == "paid"
    assert (check.payment_id, check.amount_paid, check.currency) == (
        "pay_Qx7Ro5JtF3gNsU",
        149900,
        "INR",
    )
    assert isinstance(webhook.event, PaymentCaptured)
    assert check_event(check) == webhook.event  # one path to "paid", whichever source


async def test_the_captured_payment_is_named_when_an_earlier_attempt_failed(
    provider: RazorpayProvider, fake: FakeRazorpay
) -> None:
    paid = api_json("fetch_payment_link.paid.response.json")
    failed = {**paid["payments"][0], "payment_id": "pay_Qx7RnZ1aB2cD3e", "status": "failed"}
    link_as(fake, "fetch_payment_link.paid.response.json", payments=[paid["payments"][0], failed])

    check = await provider.check_payment(LINK, ORDER)

    assert check.payment_id == "pay_Qx7Ro5JtF3gNsU"


@pytest.mark.parametrize(
    ("status", "state", "event_type"),
    [("expired", "expired", PaymentLinkExpired), ("cancelled", "cancelled", PaymentLinkCancelled)],
)
async def test_an_ended_link_gives_the_event_its_webhook_gives(
    provider: RazorpayProvider, fake: FakeRazorpay, status: str, state: str, event_type: type
) -> None:
    fake.links[LINK]["status"] = status

    check = await provider.check_payment(LINK, ORDER)

    assert check.state == state
    event = check_event(check)
    assert isinstance(event, event_type)
    assert (event.order_id, event.link_id) == (ORDER, LINK)


async def test_a_partly_paid_link_is_not_paid(
    provider: RazorpayProvider, fake: FakeRazorpay
) -> None:
    fake.links[LINK].update(status="partially_paid", amount_paid=80000)

    assert (await provider.check_payment(LINK, ORDER)).state == "pending"


async def test_a_link_of_another_order_is_refused(
    provider: RazorpayProvider, fake: FakeRazorpay
) -> None:
    with pytest.raises(ProviderRejected, match="not order 'wa-ord-2025-000099'"):
        await provider.check_payment(LINK, "wa-ord-2025-000099")


async def test_provider_trouble_is_transient_and_an_unknown_link_is_not(
    provider: RazorpayProvider, fake: FakeRazorpay
) -> None:
    fake.fetch_script.append(Canned(503, {"error": {"code": "SERVER_ERROR"}}))
    with pytest.raises(ProviderUnavailable):
        await provider.check_payment(LINK, ORDER)
    with pytest.raises(ProviderRejected):
        await provider.check_payment("plink_NoSuchLink0000", ORDER)


async def test_an_unknown_link_status_is_not_guessed(
    provider: RazorpayProvider, fake: FakeRazorpay
) -> None:
    fake.links[LINK]["status"] = "frozen"
    with pytest.raises(ProviderUnavailable, match="unknown status 'frozen'"):
        await provider.check_payment(LINK, ORDER)


def test_the_same_answer_has_one_key_whoever_asked() -> None:
    paid = PaymentCheck(ORDER, LINK, "paid", "pay_Qx7Ro5JtF3gNsU", 149900, "INR")
    expired = PaymentCheck(ORDER, LINK, "expired")

    assert check_dedupe_key("razorpay", paid) == check_dedupe_key("razorpay", paid)
    assert check_dedupe_key("razorpay", paid) != check_dedupe_key("razorpay", expired)
    assert ORDER in check_dedupe_key("razorpay", expired)
