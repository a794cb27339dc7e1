"""The optional Shopify hand-off: each paid order becomes one paid Shopify order (GraphQL
`orderCreate`, tagged with our order id), through a recording stand-in on loopback. A create
that times out after Shopify made the order is looked up by its tag, not made again; the
customer's confirmation never waits for Shopify. Both backends."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp.test_utils import TestServer
from pydantic import ValidationError

from bot import keys
from bot.merchant.shopify import order_input, order_tag
from bot.sandbox.shopify import ShopifyStandin
from flows.catalog import Product, ShopConfig
from flows.orders import Order, OrderLine, OrderStatus
from flows.state import Customer
from tests.support.harness import Shop, button_ids, running_shop, text_of
from tests.test_shop_end_to_end import ASHA, shop_until_pay_now

TOKEN = "shpat_test_token"


@asynccontextmanager
async def shopify_standin() -> AsyncIterator[tuple[ShopifyStandin, dict[str, str]]]:
    standin = ShopifyStandin(access_token=TOKEN, hang_seconds=4.0)  # HTTP timeout: 2 s
    async with TestServer(standin.app()) as server:
        env = {
            "SHOPIFY_STORE": "asha-teas.myshopify.com",
            "SHOPIFY_ACCESS_TOKEN": TOKEN,
            "SHOPIFY_API_BASE": str(server.make_url("")).rstrip("/"),
        }
        yield standin, env


async def pay(shop: Shop) -> str:
    summary = await shop_until_pay_now(shop)
    await shop.tap(ASHA, button_ids(summary)["Pay now"])
    await shop.settle()
    [link] = shop.razorpay.created
    response = await shop.post_razorpay(shop.razorpay.paid_webhook(link["id"]))
    assert response.status == 200
    return str(link["reference_id"])


async def test_a_paid_order_becomes_one_paid_shopify_order(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with (
        shopify_standin() as (shopify, env),
        running_shop(database_url, shop_config, extra_env=env) as shop,
    ):
        order_id = await pay(shop)
        await shop.settle()

        [created] = shopify.orders
        order = created["input"]
        assert order["financialStatus"] == "PAID"
        assert order["tags"] == ["whatsapp", order_tag(order_id)]
        assert order["lineItems"] == [
            {
                "title": "Masala Chai 250 g",
                "priceSet": {"shopMoney": {"amount": "249.00", "currencyCode": "INR"}},
                "quantity": 2,
                "requiresShipping": True,
            }
        ]
        [sale] = order["transactions"]
        assert sale["amountSet"] == {"shopMoney": {"amount": "498.00", "currencyCode": "INR"}}
        assert (sale["kind"], sale["status"], sale["gateway"]) == ("SALE", "SUCCESS", "razorpay")
        assert order["shippingAddress"]["address1"] == "12 MG Road, Indiranagar, Bengaluru 560038"
        assert order["phone"] == f"+{ASHA}"
        stored = await shop.app[keys.STORE].get_order(order_id)
        assert stored is not None
        assert stored.shopify_order_id == created["id"]
        assert shopify.calls == ["find", "create"]  # looked up first: a crash leaves no trace


async def test_a_create_that_times_out_after_shopify_made_the_order_makes_no_second(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with (
        shopify_standin() as (shopify, env),
        running_shop(database_url, shop_config, extra_env=env) as shop,
    ):
        shopify.create_script.append("hang")
        order_id = await pay(shop)

        # While Shopify hangs, the customer has their confirmation already.
        await asyncio.wait_for(shopify.created.wait(), timeout=20)  # a ceiling, not a speed check
        await shop.app[keys.RUNNER].idle()
        await shop.app[keys.OUTBOX].idle()
        assert f"Payment received for order {order_id}" in text_of(shop.last_reply(ASHA))

        await shop.settle()  # the create times out; the retry finds the order by its tag

        assert len(shopify.tagged(order_tag(order_id))) == 1
        assert shopify.calls == ["find", "create", "find"]
        stored = await shop.app[keys.STORE].get_order(order_id)
        assert stored is not None
        assert stored.shopify_order_id == shopify.orders[0]["id"]


async def test_a_create_shopify_refused_with_503_is_made_once_on_retry(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with (
        shopify_standin() as (shopify, env),
        running_shop(database_url, shop_config, extra_env=env) as shop,
    ):
        shopify.create_script.extend(["503-after", "503"])
        order_id = await pay(shop)
        await shop.settle()

        assert len(shopify.orders) == 1
        assert shopify.calls == ["find", "create", "find"]
        stored = await shop.app[keys.STORE].get_order(order_id)
        assert stored is not None
        assert stored.shopify_order_id is not None


async def test_without_shopify_settings_nothing_is_handed_over(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        order_id = await pay(shop)
        await shop.settle()
        assert await shop.app[keys.STORE].pending_jobs() == []
        stored = await shop.app[keys.STORE].get_order(order_id)
        assert stored is not None
        assert stored.shopify_order_id is None


# --- the order as Shopify gets it ----------------------------------------------------------------


def test_a_product_with_a_variant_id_is_that_variant(shop_config: ShopConfig) -> None:
    first = shop_config.products[0].model_copy(
        update={"shopify_variant_id": "gid://shopify/ProductVariant/42"}
    )
    shop = shop_config.model_copy(update={"products": (first, *shop_config.products[1:])})
    other = shop_config.products[1]
    order = Order(
        id="ORD-1",
        customer_key=ASHA,
        lines=(
            OrderLine(product_id=first.id, name=first.name, unit_price=first.price, quantity=2),
            OrderLine(product_id=other.id, name=other.name, unit_price=other.price, quantity=1),
        ),
        total=2 * first.price + other.price,
        status=OrderStatus.PAID,
        payment_id="pay_1",
        created_at=0,
    )
    customer = Customer(key=ASHA, phone=ASHA, name="Asha Rao")

    payload = order_input(order, customer, shop)

    variant, custom = payload["lineItems"]
    assert variant == {"variantId": "gid://shopify/ProductVariant/42", "quantity": 2}
    assert custom["title"] == other.name
    assert "shippingAddress" not in payload  # no address given: none made up


def test_the_variant_id_is_written_as_a_number_or_a_gid() -> None:
    fields = {"id": "tea", "name": "Tea", "price": "10.00", "category": "Tea"}
    assert Product(**fields, shopify_variant_id="42").shopify_variant_id == (
        "gid://shopify/ProductVariant/42"
    )
    gid = "gid://shopify/ProductVariant/43"
    assert Product(**fields, shopify_variant_id=gid).shopify_variant_id == gid
    with pytest.raises(ValidationError, match="Shopify variant id"):
        Product(**fields, shopify_variant_id="gid://shopify/Product/43")


async def test_a_refused_hand_off_is_set_aside_not_dropped(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with shopify_standin() as (shopify, env):
        env = {**env, "SHOPIFY_ACCESS_TOKEN": "shpat_wrong"}
        async with running_shop(database_url, shop_config, extra_env=env) as shop:
            order_id = await pay(shop)
            await shop.settle()

            assert shopify.orders == []
            [aside] = await shop.app[keys.STORE].dead_letters()
            assert "HTTP 401" in aside.reason
            assert f"Payment received for order {order_id}" in text_of(shop.last_reply(ASHA))
