"""No missed payment: when Razorpay's webhook is lost, the customer's return to the callback
page and the reconciliation sweep ask Razorpay's API and confirm the order, once, whichever of
webhook, callback and sweep comes first; /healthz then tells the merchant the webhook seems
missing. Over HTTP with the real app, on SQLite and Postgres."""

import asyncio
from itertools import pairwise
from typing import Any

import pytest

from bot import keys
from bot.payments.reconcile import SWEEP_KEY, CheckSchedule, PaymentReconciler, webhook_warning
from bot.signatures import sign_razorpay_callback
from flows.catalog import ShopConfig
from flows.orders import OrderStatus
from storage.repository import Lane, PaymentSignals
from tests.support.fakes import Canned, FakeGraph, FakeRazorpay
from tests.support.harness import (
    ACCESS_TOKEN,
    KEY_ID,
    KEY_SECRET,
    FakeClock,
    Shop,
    running_shop,
    text_of,
)
from tests.test_postgres_processes import open_as
from tests.test_providers_end_to_end import ADAPTERS, awaiting_payment
from tests.test_shop_end_to_end import ASHA, shop_until_pay_now

MINUTE = 60


async def ordered(shop: Shop) -> dict[str, Any]:
    """Asha checks out; returns Razorpay's link for her order."""
    await shop_until_pay_now(shop)
    [link] = shop.razorpay.created
    return link


def callback_params(link: dict[str, Any], payment_id: str = "pay_Fake000000001") -> dict[str, str]:
    """The query Razorpay's redirect carries back to /payments/callback, signed."""
    params = {
        "razorpay_payment_id": payment_id,
        "razorpay_payment_link_id": link["id"],
        "razorpay_payment_link_reference_id": link["reference_id"],
        "razorpay_payment_link_status": "paid",
    }
    params["razorpay_signature"] = sign_razorpay_callback(
        link_id=link["id"],
        reference_id=link["reference_id"],
        status="paid",
        payment_id=payment_id,
        key_secret=KEY_SECRET,
    )
    return params


def confirmations(shop: Shop) -> int:
    return sum("✅" in text_of(message) for message in shop.replies(ASHA))


def reconciler(shop: Shop) -> PaymentReconciler:
    return shop.app[keys.RECONCILER]


async def status_of(shop: Shop, order_id: str) -> OrderStatus:
    order = await shop.app[keys.STORE].get_order(order_id)
    assert order is not None
    return order.status


async def paid_rows(shop: Shop, order_id: str) -> int:
    history = await shop.app[keys.STORE].order_history(order_id)
    return sum(status == "paid" for status, _, _ in history)


def fetches(shop: Shop) -> int:
    return sum(
        method == "GET" and "/payment_links/" in path for method, path, _ in shop.razorpay.requests
    )


# --- the callback -------------------------------------------------------------------------------


async def test_the_customer_returns_and_the_order_is_confirmed_though_the_webhook_was_lost(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        link = await ordered(shop)
        shop.razorpay.pay(link["id"])  # paid at Razorpay; its webhook never comes

        page = await shop.client.get("/payments/callback", params=callback_params(link))
        await shop.settle()

        assert page.status == 200
        assert "Payment received" in await page.text()
        assert await status_of(shop, link["reference_id"]) is OrderStatus.PAID
        assert confirmations(shop) == 1
        assert link["reference_id"] in text_of(shop.last_reply(ASHA))

        # The webhook turns up after all, late: nothing new happens.
        late = await shop.post_razorpay(shop.razorpay.paid_webhook(link["id"]))
        again = await shop.client.get("/payments/callback", params=callback_params(link))
        await shop.settle()
        assert late.status == 200
        assert "Payment received" in await again.text()
        assert confirmations(shop) == 1
        assert await paid_rows(shop, link["reference_id"]) == 1


async def test_after_the_webhook_the_callback_and_the_sweep_add_nothing(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        link = await ordered(shop)
        await shop.post_razorpay(shop.razorpay.paid_webhook(link["id"]))
        await shop.settle()
        asked_before = fetches(shop)

        page = await shop.client.get("/payments/callback", params=callback_params(link))
        shop.clock.advance(30 * MINUTE)
        swept = await reconciler(shop).sweep_once()
        await shop.settle()

        assert "Payment received" in await page.text()
        assert swept == 0  # nothing awaits payment
        assert fetches(shop) == asked_before  # an order already paid is not asked about
        assert confirmations(shop) == 1
        assert await paid_rows(shop, link["reference_id"]) == 1


async def test_returning_before_the_payment_completes_says_still_processing(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        link = await ordered(shop)

        page = await shop.client.get("/payments/callback", params=callback_params(link))
        await shop.settle()

        assert "Payment processing" in await page.text()
        assert "no need to pay again" in await page.text()
        assert await status_of(shop, link["reference_id"]) is OrderStatus.PENDING_PAYMENT
        # The return asked for a check soon: the sweep looks again within a minute, and the
        # payment that completes meanwhile is confirmed then.
        shop.razorpay.pay(link["id"])
        shop.clock.advance(45)
        assert await reconciler(shop).sweep_once() == 1
        await shop.settle()
        assert await status_of(shop, link["reference_id"]) is OrderStatus.PAID


async def test_when_razorpay_does_not_answer_the_page_says_processing_and_the_sweep_confirms(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        link = await ordered(shop)
        shop.razorpay.pay(link["id"])
        shop.razorpay.fetch_script.append(Canned(503, {"error": {"code": "SERVER_ERROR"}}))

        page = await shop.client.get("/payments/callback", params=callback_params(link))
        assert page.status == 200
        assert "Payment processing" in await page.text()

        shop.clock.advance(45)
        await reconciler(shop).sweep_once()
        await shop.settle()
        assert await status_of(shop, link["reference_id"]) is OrderStatus.PAID
        assert confirmations(shop) == 1


# --- the sweep ----------------------------------------------------------------------------------


async def test_the_sweep_confirms_without_webhook_or_callback_across_a_restart(
    database_url: str, shop_config: ShopConfig
) -> None:
    graph, razorpay = (
        FakeGraph(token=ACCESS_TOKEN),
        FakeRazorpay(key_id=KEY_ID, key_secret=KEY_SECRET),
    )
    clock = FakeClock()
    async with running_shop(
        database_url, shop_config, graph=graph, razorpay=razorpay, clock=clock
    ) as shop:
        link = await ordered(shop)
        assert await reconciler(shop).sweep_once() == 0  # too young to ask about
        clock.advance(1 * MINUTE)
        assert await reconciler(shop).sweep_once() == 1  # asked: not paid yet
        assert await reconciler(shop).sweep_once() == 0  # and not again at once
        asked = fetches(shop)

    # The bot restarts; meanwhile Asha pays and the webhook is lost.
    razorpay.pay(link["id"])
    clock.advance(1 * MINUTE)
    async with running_shop(
        database_url, shop_config, graph=graph, razorpay=razorpay, clock=clock
    ) as shop:
        assert await reconciler(shop).sweep_once() == 1  # the 2-minute check, from the database
        await shop.settle()

        assert fetches(shop) == asked + 1
        assert await status_of(shop, link["reference_id"]) is OrderStatus.PAID
        assert confirmations(shop) == 1


async def test_the_sweep_ends_an_expired_order_whose_webhook_was_lost_and_then_stops(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        link = await ordered(shop)
        shop.razorpay.links[link["id"]]["status"] = "expired"
        shop.clock.advance(1 * MINUTE)

        assert await reconciler(shop).sweep_once() == 1
        await shop.settle()

        assert await status_of(shop, link["reference_id"]) is OrderStatus.EXPIRED
        assert "expired" in text_of(shop.last_reply(ASHA)).lower()
        shop.clock.advance(24 * 60 * MINUTE)
        assert await reconciler(shop).sweep_once() == 0


async def test_webhook_callback_and_sweep_racing_confirm_once(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        link = await ordered(shop)
        shop.clock.advance(1 * MINUTE)
        body = shop.razorpay.paid_webhook(link["id"])  # also pays at Razorpay

        results = await asyncio.gather(
            shop.post_razorpay(body),
            shop.client.get("/payments/callback", params=callback_params(link)),
            reconciler(shop).sweep_once(),
            shop.client.get("/payments/callback", params=callback_params(link)),
            reconciler(shop).sweep_once(),
        )
        await shop.settle()

        webhook, page, _, page_again, _ = results
        assert webhook.status == 200  # type: ignore[union-attr]
        assert "Payment received" in await page.text()  # type: ignore[union-attr]
        assert "Payment received" in await page_again.text()  # type: ignore[union-attr]
        assert await status_of(shop, link["reference_id"]) is OrderStatus.PAID
        assert confirmations(shop) == 1
        assert await paid_rows(shop, link["reference_id"]) == 1


async def test_on_a_shared_database_one_process_sweeps_at_a_time(
    postgres_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(postgres_url, shop_config) as shop:
        link = await ordered(shop)
        shop.razorpay.pay(link["id"])
        shop.clock.advance(1 * MINUTE)
        other = await open_as(postgres_url, "other-process")
        try:
            async with other.claim(Lane.JOBS, SWEEP_KEY) as other_sweeps:
                assert other_sweeps
                assert await reconciler(shop).sweep_once() == 0  # the other process sweeps
                assert fetches(shop) == 0
        finally:
            await other.close()
        assert await reconciler(shop).sweep_once() == 1
        await shop.settle()
        assert await status_of(shop, link["reference_id"]) is OrderStatus.PAID


# --- /healthz -----------------------------------------------------------------------------------


async def test_healthz_warns_when_payments_are_confirmed_by_polling_only(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        link = await ordered(shop)
        shop.razorpay.pay(link["id"])
        await shop.client.get("/payments/callback", params=callback_params(link))
        await shop.settle()

        soon = await (await shop.client.get("/healthz")).json()
        assert "payments_warning" not in soon  # the webhook may still be on its way

        shop.clock.advance(15 * MINUTE)
        health = await shop.client.get("/healthz")
        body = await health.json()
        assert health.status == 200
        assert body["status"] == "ok"
        warning = body["payments_warning"]
        assert "payments are being confirmed by polling" in warning
        assert "razorpay webhook seems missing or its secret wrong" in warning
        assert "https://shop.example.com/webhooks/razorpay" in warning
        assert "RAZORPAY_WEBHOOK_SECRET" in warning

        # The webhook is fixed: the next one that arrives clears the warning.
        await shop.post_razorpay(shop.razorpay.paid_webhook(link["id"]))
        await shop.settle()
        assert "payments_warning" not in await (await shop.client.get("/healthz")).json()


# --- the schedule -------------------------------------------------------------------------------


def test_the_schedule_backs_off_with_age_and_looks_once_more_after_expiry() -> None:
    schedule = CheckSchedule()
    placed, expires = 1_000_000, 1_000_000 + 3 * 60 * MINUTE
    times: list[int] = []
    done, now = 0, placed
    while (at := schedule.next_check_at(placed, expires, done, now)) is not None:
        times.append(at - placed)
        done, now = done + 1, at

    minutes = [t // MINUTE for t in times]
    assert minutes[:6] == [1, 2, 5, 10, 20, 50]
    assert all(b - a == 30 for a, b in pairwise(minutes[5:-1]))
    assert minutes[-1] == 3 * 60 + 10  # the last look: the expiry plus the margin
    assert minutes[-2] < 3 * 60 + 10


def test_a_late_sweep_does_not_ask_again_at_once() -> None:
    schedule = CheckSchedule()
    placed = 1_000_000
    # The 1-minute check ran an hour late: the next is not due in the past.
    assert schedule.next_check_at(placed, placed + 86_400, 1, placed + 3600) == placed + 3630


def test_the_warning_names_each_provider_s_secret_variable() -> None:
    signals = PaymentSignals(last_webhook_at=None, last_polled_confirmation_at=1_000)
    later = 1_000 + 11 * MINUTE

    assert webhook_warning(signals, 1_000 + 5 * MINUTE, "razorpay") is None  # may be on its way
    stripe = webhook_warning(signals, later, "stripe", "https://shop.example.com")
    paystack = webhook_warning(signals, later, "paystack")
    assert stripe is not None
    assert paystack is not None
    assert "STRIPE_WEBHOOK_SECRET" in stripe
    assert "https://shop.example.com/webhooks/stripe" in stripe
    assert "PAYSTACK_SECRET_KEY" in paystack
    assert "<PUBLIC_BASE_URL>/webhooks/paystack" in paystack
    seen = PaymentSignals(last_webhook_at=1_000, last_polled_confirmation_at=1_000)
    assert webhook_warning(seen, later, "razorpay") is None


# --- every provider -----------------------------------------------------------------------------

LOST_WEBHOOK = {
    # The provider records the payment and hands back the webhook it would have sent.
    "razorpay": lambda shop, link_id: shop.razorpay.paid_webhook(link_id),
    "stripe": lambda shop, link_id: shop.stripe.complete(link_id),
    "paystack": lambda shop, link_id: shop.paystack.pay(link_id),
}
POST = {
    "razorpay": lambda shop, body: shop.post_razorpay(body),
    "stripe": lambda shop, body: shop.post_stripe(body),
    "paystack": lambda shop, body: shop.post_paystack(body),
}


@pytest.mark.parametrize("name", ["razorpay", "stripe", "paystack"])
async def test_every_provider_s_lost_webhook_is_found_by_the_sweep_once(
    database_url: str, shop_config: ShopConfig, name: str
) -> None:
    async with running_shop(database_url, shop_config, provider=name) as shop:
        link, _ = await awaiting_payment(shop, ADAPTERS[name](shop))
        late = LOST_WEBHOOK[name](shop, link.link_id)  # paid; the webhook is not delivered

        shop.clock.advance(1 * MINUTE)
        assert await reconciler(shop).sweep_once() == 1
        await shop.settle()

        assert await status_of(shop, link.order_id) is OrderStatus.PAID
        assert confirmations(shop) == 1
        # The webhook arrives after all: recorded, and nothing happens twice.
        assert (await POST[name](shop, late)).status == 200
        await shop.settle()
        assert confirmations(shop) == 1
        assert await paid_rows(shop, link.order_id) == 1
