"""One shop, three payment providers: the customer chats, pays on Razorpay, Stripe or Paystack
(recording fakes on loopback), and the order is confirmed once; an expired or failed payment
is told; the merchant's refund goes through the provider once and settles from its webhook.
Paystack's own rules (verify before confirming, late payments refunded) have their tests below.
"""

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse

from bot import keys
from bot.payments.paystack import order_id_of
from flows.catalog import ShopConfig
from flows.lifecycle import PaymentStatus, Verdict, payment_status
from flows.orders import FulfilmentStatus, OrderStatus
from tests.support.harness import PROVIDERS, Shop, button_ids, running_shop, text_of
from tests.test_shop_end_to_end import ASHA, shop_until_pay_now

BY = "cli:owner"


@dataclass(frozen=True)
class Link:
    link_id: str
    order_id: str
    url: str


class Provider(ABC):
    """What a test does at one provider, in the provider's own words (its fake)."""

    name: str

    def __init__(self, shop: Shop) -> None:
        self.shop = shop

    @abstractmethod
    def links(self) -> list[Link]: ...

    @abstractmethod
    async def pay(self, link: Link) -> ClientResponse: ...

    @abstractmethod
    def refund_calls(self) -> list[dict[str, Any]]: ...

    @abstractmethod
    async def settle_refund(self) -> ClientResponse: ...


class Razorpay(Provider):
    name = "razorpay"

    def links(self) -> list[Link]:
        return [
            Link(link["id"], link["reference_id"], link["short_url"])
            for link in self.shop.razorpay.created
        ]

    async def pay(self, link: Link) -> ClientResponse:
        return await self.shop.post_razorpay(self.shop.razorpay.paid_webhook(link.link_id))

    async def expire(self, link: Link) -> ClientResponse:
        body = self.shop.razorpay.link_event(link.link_id, "payment_link.expired")
        return await self.shop.post_razorpay(body)

    async def fail(self, link: Link) -> ClientResponse:
        return await self.shop.post_razorpay(self.shop.razorpay.failed_webhook(link.link_id))

    def refund_calls(self) -> list[dict[str, Any]]:
        return [body for _, path, body in self.shop.razorpay.requests if path.endswith("/refund")]

    async def settle_refund(self) -> ClientResponse:
        [refund] = self.shop.razorpay.refunds.values()
        return await self.shop.post_razorpay(self.shop.razorpay.refund_webhook(refund["id"]))


class Stripe(Provider):
    name = "stripe"

    def links(self) -> list[Link]:
        return [
            Link(session["id"], session["client_reference_id"], session["url"])
            for session in self.shop.stripe.created
        ]

    async def pay(self, link: Link) -> ClientResponse:
        return await self.shop.post_stripe(self.shop.stripe.complete(link.link_id))

    async def expire(self, link: Link) -> ClientResponse:
        return await self.shop.post_stripe(self.shop.stripe.expired(link.link_id))

    async def fail(self, link: Link) -> ClientResponse:
        await self.shop.post_stripe(self.shop.stripe.complete(link.link_id, delayed=True))
        return await self.shop.post_stripe(self.shop.stripe.async_result(link.link_id, False))

    def refund_calls(self) -> list[dict[str, Any]]:
        return [
            {**form, "key": key}
            for method, path, form, key in self.shop.stripe.requests
            if path == "/v1/refunds"
        ]

    async def settle_refund(self) -> ClientResponse:
        [refund_id] = self.shop.stripe.refunds
        return await self.shop.post_stripe(self.shop.stripe.refund_result(refund_id))


class Paystack(Provider):
    name = "paystack"

    def links(self) -> list[Link]:
        return [
            Link(t["reference"], order_id_of(t["reference"]) or "", t["authorization_url"])
            for t in self.shop.paystack.created
        ]

    async def pay(self, link: Link) -> ClientResponse:
        return await self.shop.post_paystack(self.shop.paystack.pay(link.link_id))

    def refund_calls(self) -> list[dict[str, Any]]:
        return [
            body
            for method, path, body in self.shop.paystack.requests
            if method == "POST" and path == "/refund" and body is not None
        ]

    async def settle_refund(self) -> ClientResponse:
        [refund] = self.shop.paystack.refunds
        return await self.shop.post_paystack(self.shop.paystack.refund_result(refund["reference"]))


ADAPTERS: dict[str, type[Razorpay | Stripe | Paystack]] = {
    "razorpay": Razorpay,
    "stripe": Stripe,
    "paystack": Paystack,
}
EXPIRING: dict[str, type[Razorpay | Stripe]] = {"razorpay": Razorpay, "stripe": Stripe}


async def awaiting_payment(shop: Shop, provider: Provider) -> tuple[Link, dict[str, Any]]:
    summary = await shop_until_pay_now(shop)
    [link] = provider.links()
    assert link.order_id in text_of(summary)
    await shop.tap(ASHA, button_ids(summary)["Pay now"])
    await shop.settle()
    cta = shop.replies(ASHA)[-2]
    assert cta["interactive"]["action"]["parameters"]["url"] == link.url
    return link, summary


def confirmations(shop: Shop) -> list[str]:
    return [text_of(m) for m in shop.replies(ASHA) if "✅" in text_of(m)]


@pytest.mark.parametrize("name", PROVIDERS)
async def test_chat_pay_and_the_order_is_confirmed_once(
    database_url: str, shop_config: ShopConfig, name: str
) -> None:
    async with running_shop(database_url, shop_config, provider=name) as shop:
        provider = ADAPTERS[name](shop)
        link, _ = await awaiting_payment(shop, provider)

        response = await provider.pay(link)
        assert response.status == 200
        await shop.settle()
        [confirmation] = confirmations(shop)
        assert link.order_id in confirmation
        assert "₹498.00" in confirmation
        order = await shop.app[keys.STORE].get_order(link.order_id)
        assert order is not None
        assert order.status is OrderStatus.PAID
        assert order.payment_id

        # The provider delivers the same event again: nothing more happens.
        again = await provider.pay(link)
        assert again.status == 200
        await shop.settle()
        assert len(confirmations(shop)) == 1


@pytest.mark.parametrize("name", ["razorpay", "stripe"])  # Paystack has no expiry event
async def test_an_expired_link_is_told_and_a_new_one_offered(
    database_url: str, shop_config: ShopConfig, name: str
) -> None:
    async with running_shop(database_url, shop_config, provider=name) as shop:
        provider = EXPIRING[name](shop)
        link, _ = await awaiting_payment(shop, provider)

        assert (await provider.expire(link)).status == 200
        await shop.settle()

        told = shop.last_reply(ASHA)
        assert "expired" in text_of(told)
        assert len(button_ids(told)) >= 1  # a new link is offered
        order = await shop.app[keys.STORE].get_order(link.order_id)
        assert order is not None
        assert order.status is OrderStatus.EXPIRED


@pytest.mark.parametrize("name", ["razorpay", "stripe"])  # Paystack sends no failure event
async def test_a_failed_payment_is_told_and_the_order_stays_open(
    database_url: str, shop_config: ShopConfig, name: str
) -> None:
    async with running_shop(database_url, shop_config, provider=name) as shop:
        provider = EXPIRING[name](shop)
        link, _ = await awaiting_payment(shop, provider)

        assert (await provider.fail(link)).status == 200
        await shop.settle()

        assert "did not go through" in text_of(shop.last_reply(ASHA))
        order = await shop.app[keys.STORE].get_order(link.order_id)
        assert order is not None
        assert order.status is OrderStatus.PENDING_PAYMENT
        assert confirmations(shop) == []


@pytest.mark.parametrize("name", PROVIDERS)
async def test_a_refund_goes_through_the_provider_once_and_settles_from_its_webhook(
    database_url: str, shop_config: ShopConfig, name: str
) -> None:
    async with running_shop(database_url, shop_config, provider=name) as shop:
        provider = ADAPTERS[name](shop)
        link, _ = await awaiting_payment(shop, provider)
        await provider.pay(link)
        await shop.settle()
        merchant = shop.app[keys.MERCHANT]

        # The same form submitted twice (a double click): the same request key.
        first = await merchant.refund(
            link.order_id, 49_800, by=BY, reason="out of stock", request_key="form-1"
        )
        again = await merchant.refund(
            link.order_id, 49_800, by=BY, reason="out of stock", request_key="form-1"
        )
        await shop.settle()
        assert (first.verdict, again.verdict) == (Verdict.DO, Verdict.ALREADY)
        [call] = provider.refund_calls()
        assert int(call["amount"]) == 49_800

        assert (await provider.settle_refund()).status == 200
        await shop.settle()
        order = await shop.app[keys.STORE].get_order(link.order_id)
        assert order is not None
        assert payment_status(order) is PaymentStatus.REFUNDED
        assert "refunded" in text_of(shop.last_reply(ASHA)).lower()


@pytest.mark.parametrize("name", PROVIDERS)
async def test_another_providers_webhook_route_is_not_there(
    database_url: str, shop_config: ShopConfig, name: str
) -> None:
    async with running_shop(database_url, shop_config, provider=name) as shop:
        for other in PROVIDERS:
            response = await shop.client.post(f"/webhooks/{other}", data=b"{}")
            assert (response.status == 404) is (other != name), other


# --- Stripe's own rules ---------------------------------------------------------------------


async def test_stripe_a_cancelled_order_expires_its_checkout_session(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config, provider="stripe") as shop:
        link, _ = await awaiting_payment(shop, Stripe(shop))

        result = await shop.app[keys.MERCHANT].cancel(link.order_id, by=BY)
        await shop.settle()

        assert result.verdict is Verdict.DO
        assert shop.stripe.sessions[link.link_id]["status"] == "expired"
        expire_calls = [r for r in shop.stripe.requests if r[1].endswith("/expire")]
        assert len(expire_calls) == 1


async def test_stripe_a_session_asks_for_the_order_on_the_session_and_its_payment_intent(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config, provider="stripe") as shop:
        link, _ = await awaiting_payment(shop, Stripe(shop))
        [(_, _, form, key)] = [r for r in shop.stripe.requests if r[1] == "/v1/checkout/sessions"]
        assert form["mode"] == "payment"
        assert form["client_reference_id"] == link.order_id
        assert form["metadata"]["order_id"] == link.order_id
        assert form["payment_intent_data"]["metadata"]["order_id"] == link.order_id
        assert form["line_items"]["0"]["price_data"] == {
            "currency": "inr",
            "unit_amount": "49800",
            "product_data": {"name": form["line_items"]["0"]["price_data"]["product_data"]["name"]},
        }
        now = int(shop.clock())
        assert now + 30 * 60 <= int(form["expires_at"]) <= now + 24 * 3600
        assert form["success_url"].startswith("https://shop.example.com/payments/callback?")
        assert "{CHECKOUT_SESSION_ID}" in form["success_url"]
        assert key is not None
        assert key.startswith(f"chk:{link.order_id}:")


# --- Paystack's own rules -------------------------------------------------------------------


async def test_paystack_confirms_only_after_verify_agrees(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config, provider="paystack") as shop:
        link, _ = await awaiting_payment(shop, Paystack(shop))

        await shop.post_paystack(shop.paystack.pay(link.link_id))
        await shop.settle()

        verified = [r for r in shop.paystack.requests if r[1].startswith("/transaction/verify/")]
        assert [r[1] for r in verified] == [f"/transaction/verify/{link.link_id}"]
        assert len(confirmations(shop)) == 1


async def test_paystack_verify_disagreeing_on_the_amount_flags_the_order(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(
        database_url,
        shop_config,
        provider="paystack",
        extra_env={"OWNER_WHATSAPP": "919900000001"},
    ) as shop:
        link, _ = await awaiting_payment(shop, Paystack(shop))

        # The webhook is signed, but Paystack's own record says 100 was paid, not 49,800.
        await shop.post_paystack(shop.paystack.pay(link.link_id, amount=100))
        await shop.settle()

        order = await shop.app[keys.STORE].get_order(link.order_id)
        assert order is not None
        assert order.status is OrderStatus.FLAGGED
        assert confirmations(shop) == []
        assert "checking" in text_of(shop.last_reply(ASHA))
        [alert] = await shop.app[keys.STORE].order_alerts(link.order_id)  # the merchant is told
        assert alert.event_type == "order.flagged"


async def test_paystack_a_webhook_verify_does_not_confirm_changes_nothing(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config, provider="paystack") as shop:
        link, _ = await awaiting_payment(shop, Paystack(shop))
        body = shop.paystack.pay(link.link_id)
        shop.paystack.transactions[link.link_id]["status"] = "abandoned"  # verify says no

        assert (await shop.post_paystack(body)).status == 200
        await shop.settle()

        order = await shop.app[keys.STORE].get_order(link.order_id)
        assert order is not None
        assert order.status is OrderStatus.PENDING_PAYMENT
        assert confirmations(shop) == []


async def test_paystack_a_payment_after_the_order_was_cancelled_is_refunded_and_both_told(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(
        database_url,
        shop_config,
        provider="paystack",
        extra_env={"OWNER_WHATSAPP": "919900000001"},
    ) as shop:
        link, _ = await awaiting_payment(shop, Paystack(shop))
        cancelled = await shop.app[keys.MERCHANT].cancel(link.order_id, by=BY)
        await shop.settle()
        assert cancelled.verdict is Verdict.DO
        sent_before = len(shop.replies(ASHA))

        # Paystack cannot cancel the transaction: the customer pays the old link anyway.
        body = shop.paystack.pay(link.link_id)
        assert (await shop.post_paystack(body)).status == 200
        assert (await shop.post_paystack(body)).status == 200  # and it is delivered twice
        await shop.settle()

        [refund] = Paystack(shop).refund_calls()
        assert refund["transaction"] == link.link_id
        assert refund["amount"] == 49_800
        order = await shop.app[keys.STORE].get_order(link.order_id)
        assert order is not None
        assert order.status is OrderStatus.PAID
        assert order.fulfilment is FulfilmentStatus.CANCELLED
        assert order.refunds_requested_total == 49_800
        assert confirmations(shop) == []  # never told "paid, thank you" for a cancelled order
        told = [text_of(m) for m in shop.replies(ASHA)[sent_before:]]
        assert any(link.order_id in text for text in told)
        # The merchant's alert is queued with the refund (WhatsApp's window decides whether
        # the owner's number can get it as text).
        # (The shop's cancel before it told the merchant too: order.cancelled.)
        alerts = await shop.app[keys.STORE].order_alerts(link.order_id)
        assert [a.event_type for a in alerts] == ["order.cancelled", "order.late_payment_refunded"]
        alert = alerts[-1]
        assert alert.channel == "whatsapp:919900000001"
        assert link.order_id in alert.body
        assert json.loads(alert.body)["data"]["payment"]["provider"] == "paystack"

        assert (await Paystack(shop).settle_refund()).status == 200
        await shop.settle()
        settled = await shop.app[keys.STORE].get_order(link.order_id)
        assert settled is not None
        assert payment_status(settled) is PaymentStatus.REFUNDED


async def test_paystack_a_payment_after_the_customer_cancelled_cancels_and_refunds_it(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config, provider="paystack") as shop:
        link, summary = await awaiting_payment(shop, Paystack(shop))
        await shop.tap(ASHA, button_ids(summary)["Cancel order"])
        await shop.settle()
        order = await shop.app[keys.STORE].get_order(link.order_id)
        assert order is not None
        assert order.status is OrderStatus.CANCELLED
        assert order.fulfilment is FulfilmentStatus.UNFULFILLED

        assert (await shop.post_paystack(shop.paystack.pay(link.link_id))).status == 200
        await shop.settle()

        [refund] = Paystack(shop).refund_calls()
        assert (refund["transaction"], refund["amount"]) == (link.link_id, 49_800)
        late = await shop.app[keys.STORE].get_order(link.order_id)
        assert late is not None
        assert (late.status, late.fulfilment) == (OrderStatus.PAID, FulfilmentStatus.CANCELLED)
        assert late.payment_id == link.link_id
        assert confirmations(shop) == []
        assert "cancelled" in text_of(shop.last_reply(ASHA))
        history = await shop.app[keys.MERCHANT].show(link.order_id)
        assert history is not None
        assert any("refunded automatically" in entry.reason for entry in history.history)
