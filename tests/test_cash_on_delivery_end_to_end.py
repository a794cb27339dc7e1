"""Cash on delivery over HTTP with the real app, on SQLite and Postgres: the customer chooses
"Pay on delivery", the order is confirmed at once with its payment due and its Razorpay link
cancelled, the merchant is told to pack it, delivers it and the order is paid; the merchant's
limit on cash orders is kept."""

import json
from typing import Any

from bot import keys
from bot.merchant.orders import MerchantOrders
from flows.catalog import ShopConfig
from flows.lifecycle import PaymentStatus, Verdict, payment_status
from flows.orders import FulfilmentStatus, Order, OrderStatus
from tests.merchant.test_alerts_end_to_end import OWNER, deliver_alerts, merchant_standins
from tests.support.harness import Shop, button_ids, running_shop, text_of
from tests.test_payment_reconciliation import callback_params
from tests.test_shop_end_to_end import ASHA, shop_until_pay_now

BY = "cli:owner"


def with_cod(config: ShopConfig, **options: Any) -> ShopConfig:
    checkout = config.checkout.model_copy(update={"cash_on_delivery": True, **options})
    return config.model_copy(update={"checkout": checkout})


async def order_of(shop: Shop, order_id: str) -> Order:
    order = await shop.app[keys.STORE].get_order(order_id)
    assert order is not None
    return order


def merchant(shop: Shop) -> MerchantOrders:
    return shop.app[keys.MERCHANT]


async def test_pay_on_delivery_confirmed_at_once_then_delivered_and_paid(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with (
        merchant_standins() as standins,
        running_shop(database_url, with_cod(shop_config), extra_env=standins.env) as shop,
    ):
        await shop.say(OWNER, "hi", name="Owner")
        summary = await shop_until_pay_now(shop)
        [link] = shop.razorpay.created
        order_id = str(link["reference_id"])
        assert "Or pay in cash when it arrives" in text_of(summary)

        await shop.tap(ASHA, button_ids(summary)["Pay on delivery"])
        await shop.settle()

        confirmation = text_of(shop.last_reply(ASHA))
        assert f"Order {order_id} is confirmed" in confirmation
        assert "Please pay ₹498.00 in cash when it is delivered" in confirmation
        order = await order_of(shop, order_id)
        assert payment_status(order) is PaymentStatus.COD_DUE
        assert link["status"] == "cancelled"  # nobody can pay the link now
        # The merchant is told to pack it, as a new order (not a paid one).
        await deliver_alerts(shop)
        [webhook] = standins.inbox.webhooks
        body = json.loads(webhook.body)
        assert (body["type"], body["data"]["payment_status"]) == ("order.placed", "cod_due")
        [telegram] = standins.inbox.telegram
        assert "New order to pack, cash on delivery" in telegram["text"]
        assert "Collect ₹498.00 in cash on delivery" in telegram["text"]

        # Back from an old payment page: nothing to pay there, and Razorpay is not asked.
        page = await shop.client.get("/payments/callback", params=callback_params(link))
        assert "confirmed for payment in cash on delivery" in await page.text()
        # Razorpay's webhook about the cancelled link changes nothing.
        await shop.post_razorpay(shop.razorpay.link_event(link["id"], "payment_link.cancelled"))
        await shop.settle()
        assert payment_status(await order_of(shop, order_id)) is PaymentStatus.COD_DUE
        assert text_of(shop.last_reply(ASHA)) == confirmation

        shipped = await merchant(shop).ship(order_id, by=BY, courier="DTDC")
        delivered = await merchant(shop).deliver(order_id, by=BY)
        again = await merchant(shop).mark_paid(order_id, by=BY)
        await shop.settle()

        assert (shipped.verdict, delivered.verdict, again.verdict) == (
            Verdict.DO,
            Verdict.DO,
            Verdict.ALREADY,
        )
        assert "paid (₹498.00 in cash)" in delivered.message
        order = await order_of(shop, order_id)
        assert (order.status, order.fulfilment) == (OrderStatus.PAID, FulfilmentStatus.DELIVERED)
        history = [(s, r) for s, _, r in await shop.app[keys.STORE].order_history(order_id)]
        assert ("cod_due", "pay on delivery chosen") in history
        assert ("paid", "cash collected on delivery") in history
        assert "delivered" in text_of(shop.last_reply(ASHA))
        await deliver_alerts(shop)
        # No "order.paid" for cash at the door: shipped and delivered (paid in cash) instead.
        types = [json.loads(w.body)["type"] for w in standins.inbox.webhooks]
        assert types == ["order.placed", "order.shipped", "order.delivered"]
        delivered = json.loads(standins.inbox.webhooks[-1].body)["data"]
        assert (delivered["payment_status"], delivered["fulfilment_status"]) == (
            "paid",
            "delivered",
        )


async def test_the_merchant_marks_a_cash_order_paid_before_delivery(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, with_cod(shop_config)) as shop:
        summary = await shop_until_pay_now(shop)
        order_id = str(shop.razorpay.created[0]["reference_id"])
        await shop.tap(ASHA, button_ids(summary)["Pay on delivery"])
        await shop.settle()

        paid = await merchant(shop).mark_paid(order_id, by=BY, reason="paid at the counter")

        assert paid.verdict is Verdict.DO
        order = await order_of(shop, order_id)
        assert order.status is OrderStatus.PAID
        assert order.fulfilment is FulfilmentStatus.UNFULFILLED
        listed = await merchant(shop).list(["cod_due"], None, 10)
        assert listed == []


async def test_an_online_order_cannot_be_marked_paid_by_hand(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, with_cod(shop_config)) as shop:
        await shop_until_pay_now(shop)
        order_id = str(shop.razorpay.created[0]["reference_id"])

        refused = await merchant(shop).mark_paid(order_id, by=BY)

        assert refused.verdict is Verdict.REFUSED
        assert "online payments are confirmed by the provider" in refused.message
        assert (await order_of(shop, order_id)).status is OrderStatus.PENDING_PAYMENT


async def test_above_the_cash_limit_only_pay_now_is_offered(
    database_url: str, shop_config: ShopConfig
) -> None:
    config = with_cod(shop_config, cod_max_amount=40_000)  # ₹400.00; the order is ₹498.00
    async with running_shop(database_url, config) as shop:
        summary = await shop_until_pay_now(shop)
        order_id = str(shop.razorpay.created[0]["reference_id"])

        assert "Pay on delivery" not in button_ids(summary)
        assert "Pay on delivery is available for orders up to ₹400.00." in text_of(summary)
        # A button from an older message is refused in words, with Pay now beside it.
        await shop.tap(ASHA, f"cod:{order_id}")
        await shop.settle()
        refusal = shop.last_reply(ASHA)
        assert "only for orders up to ₹400.00" in text_of(refusal)
        assert "Pay now" in button_ids(refusal)
        order = await order_of(shop, order_id)
        assert payment_status(order) is PaymentStatus.AWAITING
