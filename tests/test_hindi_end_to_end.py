"""A customer who writes हाय shops in Hindi over HTTP with the real app, on SQLite and on
Postgres: every message the Graph API receives is in Hindi and within the Cloud API's limits,
and the choice is remembered until the customer switches back."""

from typing import Any

from bot import keys
from bot.merchant.orders import MerchantOrders
from flows import limits
from flows.catalog import ShopConfig
from tests.support.harness import Shop, button_ids, row_ids, running_shop, text_of
from tests.test_shop_end_to_end import ASHA, find

ADDRESS = "फ्लैट 4, गांधी नगर, जयपुर 302001"


def assert_within_limits(message: dict[str, Any]) -> None:
    """What Meta checks on an outgoing message, read from the JSON it would receive."""
    if message["type"] == "text":
        assert len(message["text"]["body"]) <= limits.TEXT_BODY_MAX
        return
    interactive = message["interactive"]
    assert len(interactive["body"]["text"]) <= limits.INTERACTIVE_BODY_MAX
    if "footer" in interactive:
        assert len(interactive["footer"]["text"]) <= limits.FOOTER_TEXT_MAX
    action = interactive["action"]
    for button in action.get("buttons", []):
        assert len(button["reply"]["title"]) <= limits.BUTTON_TITLE_MAX, button
    if "button" in action:
        assert len(action["button"]) <= limits.LIST_BUTTON_LABEL_MAX, action["button"]
    for section in action.get("sections", []):
        assert len(section["title"]) <= limits.LIST_SECTION_TITLE_MAX, section["title"]
        for row in section["rows"]:
            assert len(row["title"]) <= limits.LIST_ROW_TITLE_MAX, row
            assert len(row.get("description", "")) <= limits.LIST_ROW_DESCRIPTION_MAX, row
    if action.get("name") == "cta_url":
        assert len(action["parameters"]["display_text"]) <= limits.CTA_DISPLAY_TEXT_MAX


async def said(shop: Shop, text: str) -> dict[str, Any]:
    await shop.say(ASHA, text)
    await shop.settle()
    return shop.last_reply(ASHA)


async def tapped(shop: Shop, message: dict[str, Any], title: str) -> dict[str, Any]:
    await shop.tap(ASHA, find(button_ids(message), title))
    await shop.settle()
    return shop.last_reply(ASHA)


async def picked(shop: Shop, message: dict[str, Any], title: str) -> dict[str, Any]:
    await shop.pick(ASHA, find(row_ids(message), title))
    await shop.settle()
    return shop.last_reply(ASHA)


async def test_haay_then_browse_cart_checkout_and_pay_in_hindi(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        welcome = await said(shop, "हाय")
        assert text_of(welcome).startswith("Chai Point में आपका स्वागत है!")
        assert list(button_ids(welcome)) == ["सामान देखें", "कार्ट देखें", "मदद"]

        categories = await tapped(shop, welcome, "सामान देखें")
        assert categories["interactive"]["action"]["button"] == "श्रेणियाँ"
        products = await picked(shop, categories, "^tea")
        assert "मसाला चाय 250 ग्राम" in row_ids(products)
        details = await picked(shop, products, "मसाला चाय")
        assert text_of(details).startswith("*मसाला चाय 250 ग्राम*\n₹249.00\n\nइलायची")
        added = await tapped(shop, details, "^2$")
        assert "2 × मसाला चाय 250 ग्राम आपके कार्ट में जोड़ दिया।" in text_of(added)
        assert "*कुल: ₹498.00*" in text_of(added)

        asked = await tapped(shop, added, "चेकआउट")
        assert text_of(asked).startswith("कृपया अपना डिलीवरी पता लिखें")
        summary = await said(shop, ADDRESS)
        assert text_of(summary).startswith("🧾 *ऑर्डर ORD-")
        assert "डिलीवरी का पता: " + ADDRESS in text_of(summary)
        assert list(button_ids(summary)) == ["अभी भुगतान करें", "ऑर्डर रद्द करें"]

        await shop.tap(ASHA, button_ids(summary)["अभी भुगतान करें"])
        await shop.settle()
        cta, plain = shop.replies(ASHA)[-2:]
        assert cta["interactive"]["action"]["parameters"]["display_text"] == "₹498.00 भुगतान करें"
        [link] = shop.razorpay.created
        assert link["short_url"] in plain["text"]["body"]

        await shop.post_razorpay(shop.razorpay.paid_webhook(link["id"]))
        await shop.settle()
        receipt = text_of(shop.last_reply(ASHA))
        assert receipt.startswith(f"✅ ऑर्डर {link['reference_id']} का भुगतान मिल गया।")
        assert "*कुल भुगतान: ₹498.00*" in receipt

        merchant: MerchantOrders = shop.app[keys.MERCHANT]
        await merchant.ship(str(link["reference_id"]), by="cli:owner", courier="DTDC")
        await shop.settle()
        shipped = text_of(shop.last_reply(ASHA))
        assert shipped == f"📦 आपका ऑर्डर {link['reference_id']} रास्ते में है!\nकूरियर: DTDC"

        orders = await said(shop, "orders")  # English words work in Hindi too
        assert text_of(orders).startswith("आपके हाल के ऑर्डर।")
        assert "भुगतान हो गया" in text_of(orders)

        for message in shop.replies(ASHA):
            assert_within_limits(message)


async def test_language_switches_and_is_remembered_across_restarts(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        languages = await said(shop, "language")
        assert list(row_ids(languages)) == ["English", "हिन्दी"]
        welcome = await picked(shop, languages, "हिन्दी")
        assert text_of(welcome).startswith("Chai Point में आपका स्वागत है!")
        assert text_of(await said(shop, "cart")).startswith("आपका कार्ट खाली है।")

    async with running_shop(database_url, shop_config) as shop:
        # A new process reads the choice from the customer's row.
        await shop.send(ASHA, {"type": "text", "text": {"body": "menu"}}, wamid="wamid.later1")
        await shop.settle()
        assert text_of(shop.last_reply(ASHA)).startswith("Chai Point में आपका स्वागत है!")
        await shop.send(ASHA, {"type": "text", "text": {"body": "english"}}, wamid="wamid.later2")
        await shop.settle()
        assert text_of(shop.last_reply(ASHA)).startswith("Welcome to Chai Point!")
        for message in shop.replies(ASHA):
            assert_within_limits(message)
