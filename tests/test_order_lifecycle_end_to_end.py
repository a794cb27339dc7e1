"""After the payment, over HTTP with the real app: the merchant ships, delivers, cancels and
refunds, and the customer hears about it (text inside WhatsApp's 24-hour window, the approved
template outside it); refunds go through Razorpay (a recording fake) once, however often
asked."""

from typing import Any

from bot import keys
from bot.merchant.orders import MerchantOrders
from flows.catalog import ShopConfig
from flows.lifecycle import PaymentStatus, Verdict, payment_status
from flows.notices import TemplateRef, Templates
from flows.orders import FulfilmentStatus
from tests.support.fakes import Canned
from tests.support.harness import Shop, button_ids, running_shop, text_of
from tests.test_shop_end_to_end import ASHA, shop_until_pay_now

DAY = 24 * 60 * 60
BY = "cli:owner"


async def paid_order(shop: Shop) -> str:
    summary = await shop_until_pay_now(shop)
    await shop.tap(ASHA, button_ids(summary)["Pay now"])
    await shop.settle()
    [link] = shop.razorpay.created
    response = await shop.post_razorpay(shop.razorpay.paid_webhook(link["id"]))
    assert response.status == 200
    await shop.settle()
    return str(link["reference_id"])


def merchant(shop: Shop) -> MerchantOrders:
    return shop.app[keys.MERCHANT]


def refund_calls(shop: Shop) -> list[dict[str, Any]]:
    return [body for method, path, body in shop.razorpay.requests if path.endswith("/refund")]


async def test_shipped_inside_the_window_the_customer_gets_the_tracking_link(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        order_id = await paid_order(shop)
        shop.clock.advance(3600)

        shipped = await merchant(shop).ship(
            order_id, by=BY, courier="DTDC", tracking="https://track.example/AWB123"
        )
        again = await merchant(shop).ship(order_id, by=BY, courier="DTDC")  # a double click
        await shop.settle()

        assert (shipped.verdict, again.verdict) == (Verdict.DO, Verdict.ALREADY)
        told = text_of(shop.last_reply(ASHA))
        assert order_id in told
        assert "https://track.example/AWB123" in told
        assert sum("on its way" in text_of(m) for m in shop.replies(ASHA)) == 1
        details = await merchant(shop).show(order_id)
        assert details is not None
        assert details.order.fulfilment is FulfilmentStatus.SHIPPED
        assert (details.history[-1].status, details.history[-1].actor) == ("shipped", BY)


async def test_outside_the_window_the_template_is_sent_or_the_order_says_why_not(
    database_url: str, shop_config: ShopConfig
) -> None:
    templates = Templates(order_shipped=TemplateRef(name="order_shipped", language="en"))
    config = shop_config.model_copy(update={"templates": templates})
    async with running_shop(database_url, config) as shop:
        order_id = await paid_order(shop)
        shop.clock.advance(DAY + 1)  # the customer last wrote over a day ago

        await merchant(shop).ship(order_id, by=BY, tracking="AWB123")
        await shop.settle()
        sent = shop.last_reply(ASHA)
        assert sent["type"] == "template"
        assert sent["template"]["name"] == "order_shipped"
        parameters = sent["template"]["components"][0]["parameters"]
        assert [p["text"] for p in parameters] == [order_id, "-", "AWB123"]

        delivered = await merchant(shop).deliver(order_id, by=BY)  # no template for this one
        await shop.settle()
        assert delivered.verdict is Verdict.DO
        assert shop.last_reply(ASHA) == sent  # nothing new sent
        details = await merchant(shop).show(order_id)
        assert details is not None
        assert details.order.fulfilment is FulfilmentStatus.DELIVERED
        assert details.history[-1].status == "customer not told"
        assert "order_delivered" in details.history[-1].reason


async def test_a_full_refund_asked_twice_and_retried_refunds_once(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        order_id = await paid_order(shop)
        # Razorpay refunds, then the answer is lost: the job retries with the same key.
        shop.razorpay.refund_script.append(
            Canned(503, {"error": {"code": "SERVER_ERROR"}}, then_apply=True)
        )

        # The same form submitted twice (a double click): the same request key.
        first = await merchant(shop).refund(
            order_id, 49_800, by=BY, reason="out of stock", request_key="form-1"
        )
        again = await merchant(shop).refund(
            order_id, 49_800, by=BY, reason="out of stock", request_key="form-1"
        )
        await shop.settle()

        assert (first.verdict, again.verdict) == (Verdict.DO, Verdict.ALREADY)
        calls = refund_calls(shop)
        assert len(calls) == 2  # the lost answer and its retry
        assert len({call["key"] for call in calls}) == 1
        assert [call["amount"] for call in calls] == [49_800, 49_800]
        [refund] = shop.razorpay.refunds.values()

        response = await shop.post_razorpay(shop.razorpay.refund_webhook(refund["id"]))
        assert response.status == 200
        await shop.settle()

        order = await shop.app[keys.STORE].get_order(order_id)
        assert order is not None
        assert payment_status(order) is PaymentStatus.REFUNDED
        assert "refunded ₹498.00" in text_of(shop.last_reply(ASHA))
        [stored] = await shop.app[keys.STORE].refunds(order_id)
        assert (stored.status, stored.provider_refund_id) == ("processed", refund["id"])

        redelivered = await shop.post_razorpay(shop.razorpay.refund_webhook(refund["id"]))
        await shop.settle()
        assert redelivered.status == 200
        order = await shop.app[keys.STORE].get_order(order_id)
        assert order is not None
        assert order.refunded_total == 49_800


async def test_partial_refunds_add_up_and_never_exceed_the_payment(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        order_id = await paid_order(shop)
        orders = merchant(shop)

        one = await orders.refund(order_id, 20_000, by=BY, reason="one jar broken")
        too_much = await orders.refund(order_id, 29_801, by=BY, reason="the rest")
        rest = await orders.refund(order_id, 29_800, by=BY, reason="the rest")
        await shop.settle()

        assert [r.verdict for r in (one, too_much, rest)] == [
            Verdict.DO,
            Verdict.REFUSED,
            Verdict.DO,
        ]
        assert [call["amount"] for call in refund_calls(shop)] == [20_000, 29_800]
        first, second = shop.razorpay.refunds.values()
        await shop.post_razorpay(shop.razorpay.refund_webhook(first["id"]))
        await shop.settle()
        order = await shop.app[keys.STORE].get_order(order_id)
        assert order is not None
        assert payment_status(order) is PaymentStatus.PARTLY_REFUNDED

        await shop.post_razorpay(shop.razorpay.refund_webhook(second["id"], "refund.failed"))
        await shop.settle()
        order = await shop.app[keys.STORE].get_order(order_id)
        assert order is not None
        assert (order.refunded_total, order.refunds_requested_total) == (20_000, 20_000)


async def test_cancel_an_unpaid_order_cancels_its_link_and_a_paid_one_asks_for_a_refund(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        await shop_until_pay_now(shop)
        [link] = shop.razorpay.created
        unpaid = str(link["reference_id"])

        cancelled = await merchant(shop).cancel(unpaid, by=BY)
        await shop.settle()

        assert cancelled.verdict is Verdict.DO
        assert link["status"] == "cancelled"
        assert "cancelled" in text_of(shop.last_reply(ASHA))


async def test_a_refund_razorpay_refuses_fails_and_frees_its_amount(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        order_id = await paid_order(shop)
        refused = {"error": {"code": "BAD_REQUEST_ERROR", "description": "Insufficient balance"}}
        shop.razorpay.refund_script.append(Canned(400, refused))

        asked = await merchant(shop).refund(order_id, 10_000, by=BY, reason="damaged")
        await shop.settle()

        assert asked.verdict is Verdict.DO
        [refund] = await shop.app[keys.STORE].refunds(order_id)
        assert refund.status == "failed"
        assert "Insufficient balance" in (refund.failure or "")
        order = await shop.app[keys.STORE].get_order(order_id)
        assert order is not None
        assert (order.refunded_total, order.refunds_requested_total) == (0, 0)
        assert shop.razorpay.refunds == {}
