"""A customer's own orders over HTTP with the real app, on SQLite and on Postgres: buy twice,
list them with their statuses, the merchant ships one, its tracking shows, and Order again
fills the cart at the prices of the config the shop runs today."""

import itertools
from typing import Any

from bot import keys
from bot.merchant.orders import MerchantOrders
from flows.catalog import ShopConfig
from tests.support.harness import Shop, button_ids, row_ids, running_shop, text_of
from tests.test_shop_end_to_end import ASHA, find, shop_until_pay_now

BY = "cli:owner"
KETTLE = "Stainless Steel Chai Kettle 1.5 L"


# Message ids of our own: a restarted shop's harness counts from 1 again, and WhatsApp's
# message ids are what the shop deduplicates deliveries by.
_WAMIDS = itertools.count(1)


async def _send(shop: Shop, content: dict[str, Any]) -> dict[str, Any]:
    assert (await shop.send(ASHA, content, wamid=f"wamid.e2e{next(_WAMIDS)}")).status == 200
    await shop.settle()
    return shop.last_reply(ASHA)


async def reply_to(shop: Shop, text: str) -> dict[str, Any]:
    return await _send(shop, {"type": "text", "text": {"body": text}})


async def tap_id(shop: Shop, button_id: str) -> dict[str, Any]:
    reply = {"type": "button_reply", "button_reply": {"id": button_id, "title": "x"}}
    return await _send(shop, {"type": "interactive", "interactive": reply})


async def pick_id(shop: Shop, row_id: str) -> dict[str, Any]:
    reply = {"type": "list_reply", "list_reply": {"id": row_id, "title": "x"}}
    return await _send(shop, {"type": "interactive", "interactive": reply})


async def tap(shop: Shop, message: dict[str, Any], title: str) -> dict[str, Any]:
    return await tap_id(shop, find(button_ids(message), title))


async def pick(shop: Shop, message: dict[str, Any], title: str) -> dict[str, Any]:
    return await pick_id(shop, find(row_ids(message), title))


def order_rows(listing: dict[str, Any]) -> list[dict[str, Any]]:
    assert listing["interactive"]["type"] == "list"
    rows: list[dict[str, Any]] = listing["interactive"]["action"]["sections"][0]["rows"]
    return rows


def row_of(listing: dict[str, Any], order_id: str) -> str:
    return next(str(r["id"]) for r in order_rows(listing) if order_id in r["description"])


async def pay_the_last_link(shop: Shop) -> str:
    link = shop.razorpay.created[-1]
    assert (await shop.post_razorpay(shop.razorpay.paid_webhook(link["id"]))).status == 200
    await shop.settle()
    return str(link["reference_id"])


async def kettle_and_chai_awaiting_payment(shop: Shop) -> str:
    """A second order, left unpaid: one kettle and one masala chai, to the saved address."""
    menu = await reply_to(shop, "menu")
    categories = await tap(shop, menu, "browse")
    products = await pick(shop, categories, "^brewing")
    kettle = await pick(shop, products, "^stainless steel")
    added = await tap(shop, kettle, "^1$")
    categories = await tap(shop, added, "keep shopping")
    products = await pick(shop, categories, "^tea")
    chai = await pick(shop, products, "masala chai")
    added = await tap(shop, chai, "^1$")
    confirm = await tap(shop, added, "checkout")
    summary = await tap(shop, confirm, "use this address")
    assert "Pay now" in button_ids(summary)
    return str(shop.razorpay.created[-1]["reference_id"])


def today(config: ShopConfig) -> ShopConfig:
    """The merchant's next config: masala chai costs more, the kettle is sold out."""
    products = [
        p.model_copy(update={"price": 27900})
        if p.id == "masala-chai-250"
        else p.model_copy(update={"available": False})
        if p.id == "steel-kettle"
        else p
        for p in config.products
    ]
    return ShopConfig.model_validate(
        {**config.model_dump(exclude={"products", "languages"}), "products": products}
    )


async def test_orders_lists_both_orders_shows_tracking_and_orders_again_at_todays_prices(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        await shop_until_pay_now(shop)
        paid_id = await pay_the_last_link(shop)
        shop.clock.advance(3600)
        unpaid_id = await kettle_and_chai_awaiting_payment(shop)

        listing = await reply_to(shop, "orders")
        assert [row["description"] for row in order_rows(listing)] == [
            f"{unpaid_id} · awaiting payment",
            f"{paid_id} · paid · being prepared",
        ]

        merchant: MerchantOrders = shop.app[keys.MERCHANT]
        await merchant.ship(paid_id, by=BY, courier="DTDC", tracking="AWB123456")
        await shop.settle()

        listing = await reply_to(shop, "my orders")
        assert f"{paid_id} · paid · shipped" in text_of(listing)
        detail = text_of(await pick_id(shop, row_of(listing, paid_id)))
        assert "2 × Masala Chai 250 g (₹249.00 each): ₹498.00" in detail
        assert "Payment: paid" in detail
        assert "Delivery: shipped" in detail
        assert "Courier: DTDC" in detail
        assert "Tracking: AWB123456" in detail

    # The merchant changes config.toml and restarts; the orders stay in the database.
    async with running_shop(database_url, today(shop_config)) as shop:
        listing = await reply_to(shop, "orders")
        detail = await pick_id(shop, row_of(listing, unpaid_id))
        assert "Payment: awaiting payment" in text_of(detail)
        cart = await tap(shop, detail, "order again")
        lines = cart["interactive"]["body"]["text"].splitlines()
        assert lines == [
            f"Added the items of order {unpaid_id} to your cart at today's prices.",
            "Masala Chai 250 g now costs ₹279.00 (was ₹249.00).",
            f"No longer available, so left out: {KETTLE}.",
            "🛒 *Your cart*",
            "• 1 × Masala Chai 250 g (₹279.00 each): ₹279.00",
            # Still in the cart from the unpaid order; checkout drops it.
            f"• {KETTLE} is no longer available and will be removed.",
            "*Total: ₹279.00*",
        ]
        assert list(button_ids(cart)) == ["Checkout", "Remove item", "Clear cart"]


async def test_a_customer_without_orders_is_told_so(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        reply = await reply_to(shop, "orders")
        assert text_of(reply).startswith("You have no orders yet.")
