"""The whole loop over HTTP: a customer chats on WhatsApp, checks out, pays, is confirmed.

The app runs on aiohttp's test server with a real SQLite file; the Graph API and Razorpay are
recording fakes on loopback (tests/support/fakes.py).
"""

import re
from typing import Any

from bot import keys
from flows.catalog import ShopConfig
from flows.orders import OrderStatus
from tests.support.harness import Shop, button_ids, row_ids, running_shop, text_of

ASHA = "919812300001"
ADDRESS = "12 MG Road, Indiranagar, Bengaluru 560038"


def find(titles: dict[str, str], pattern: str) -> str:
    """The id of the button or row whose title matches `pattern` (case-insensitive)."""
    for title, ident in titles.items():
        if re.search(pattern, title, re.IGNORECASE):
            return ident
    raise AssertionError(f"no title matching {pattern!r} in {list(titles)}")


async def shop_until_pay_now(shop: Shop, phone: str = ASHA) -> dict[str, Any]:
    """hi → Browse → Tea → Masala Chai → 2 → Checkout → address; returns the order summary."""
    assert (await shop.say(phone, "hi")).status == 200
    await shop.settle()
    welcome = shop.last_reply(phone)
    assert "Chai Point" in text_of(welcome)

    await shop.tap(phone, find(button_ids(welcome), "browse"))
    await shop.settle()
    await shop.pick(phone, find(row_ids(shop.last_reply(phone)), "^tea"))
    await shop.settle()
    await shop.pick(phone, find(row_ids(shop.last_reply(phone)), "masala chai"))
    await shop.settle()
    product = shop.last_reply(phone)
    assert "₹249.00" in text_of(product)

    await shop.tap(phone, find(button_ids(product), "^2$"))
    await shop.settle()
    added = shop.last_reply(phone)
    assert "₹498.00" in text_of(added)

    await shop.tap(phone, find(button_ids(added), "checkout"))
    await shop.settle()
    await shop.say(phone, ADDRESS)
    await shop.settle()
    summary = shop.last_reply(phone)
    assert "Pay now" in button_ids(summary)
    return summary


async def test_a_customer_browses_checks_out_pays_and_is_confirmed(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        summary = await shop_until_pay_now(shop)

        [link] = shop.razorpay.created
        order_id = link["reference_id"]
        assert order_id in text_of(summary)
        assert "₹498.00" in text_of(summary)
        [(_, _, request)] = [r for r in shop.razorpay.requests if r[0] == "POST"]
        assert request is not None
        assert request["amount"] == 49800
        assert request["currency"] == "INR"
        assert request["notify"] == {"sms": False, "email": False}
        assert request["notes"]["order_id"] == order_id
        assert request["callback_url"] == "https://shop.example.com/payments/callback"
        assert request["callback_method"] == "get"
        assert request["expire_by"] >= shop.clock() + 16 * 60

        await shop.tap(ASHA, button_ids(summary)["Pay now"])
        await shop.settle()
        cta, plain = shop.replies(ASHA)[-2:]
        assert cta["interactive"]["type"] == "cta_url"
        assert cta["interactive"]["action"]["parameters"]["url"] == link["short_url"]
        assert link["short_url"] in plain["text"]["body"]

        response = await shop.post_razorpay(shop.razorpay.paid_webhook(link["id"]))
        assert response.status == 200
        await shop.settle()
        confirmation = text_of(shop.last_reply(ASHA))
        assert "✅" in confirmation
        assert order_id in confirmation
        assert "₹498.00" in confirmation
        assert "Masala Chai" in confirmation

        order = await shop.app[keys.STORE].get_order(order_id)
        assert order is not None
        assert order.status is OrderStatus.PAID
        assert order.address == ADDRESS

        await shop.say(ASHA, "CART")
        await shop.settle()
        assert "empty" in text_of(shop.last_reply(ASHA)).lower()


async def test_a_paid_webhook_delivered_again_confirms_only_once(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        await shop_until_pay_now(shop)
        [link] = shop.razorpay.created
        body = shop.razorpay.paid_webhook(link["id"])
        await shop.post_razorpay(body, event_id="evt_Same000000001")
        await shop.settle()
        sent = len(shop.replies(ASHA))
        # The same event again, then a new event id for the same payment.
        assert (await shop.post_razorpay(body, event_id="evt_Same000000001")).status == 200
        assert (await shop.post_razorpay(body, event_id="evt_Other00000002")).status == 200
        await shop.settle()
        assert len(shop.replies(ASHA)) == sent
        confirmations = [m for m in shop.replies(ASHA) if "✅" in text_of(m)]
        assert len(confirmations) == 1


async def test_a_captured_payment_failed_replayed_with_new_event_ids_messages_once(
    database_url: str, shop_config: ShopConfig
) -> None:
    # X-Razorpay-Event-Id is not signed: whoever captured one signed body could send it again
    # under fresh ids and have the customer told "payment failed" every time.
    async with running_shop(database_url, shop_config) as shop:
        await shop_until_pay_now(shop)
        [link] = shop.razorpay.created
        body = shop.razorpay.failed_webhook(link["id"])
        for event_id in ("evt_Captured00001", "evt_Replayed00002", "evt_Replayed00003"):
            assert (await shop.post_razorpay(body, event_id=event_id)).status == 200
            await shop.settle()
        failures = [m for m in shop.replies(ASHA) if "did not go through" in text_of(m)]
        assert len(failures) == 1

        # A second, real failure (another payment attempt) is news, and is said.
        retry = shop.razorpay.failed_webhook(link["id"], payment_id="pay_Failed0000002")
        assert (await shop.post_razorpay(retry)).status == 200
        await shop.settle()
        failures = [m for m in shop.replies(ASHA) if "did not go through" in text_of(m)]
        assert len(failures) == 2


async def test_a_payment_that_does_not_match_the_order_is_flagged_not_confirmed(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        await shop_until_pay_now(shop)
        [link] = shop.razorpay.created
        await shop.post_razorpay(shop.razorpay.paid_webhook(link["id"], amount_paid=100))
        await shop.settle()
        assert not any("✅" in text_of(m) for m in shop.replies(ASHA))
        order = await shop.app[keys.STORE].get_order(link["reference_id"])
        assert order is not None
        assert order.status is OrderStatus.FLAGGED


async def test_an_expired_link_is_told_and_a_fresh_one_offered(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        await shop_until_pay_now(shop)
        [link] = shop.razorpay.created
        await shop.post_razorpay(shop.razorpay.link_event(link["id"], "payment_link.expired"))
        await shop.settle()
        told = shop.last_reply(ASHA)
        assert "expired" in text_of(told).lower()
        await shop.tap(ASHA, find(button_ids(told), "link|checkout|pay"))
        await shop.settle()
        # Same cart, same address: the address is offered again, then a second link is made.
        latest = shop.last_reply(ASHA)
        if "Pay now" not in button_ids(latest) if latest["type"] == "interactive" else True:
            await shop.tap(ASHA, find(button_ids(latest), "use"))
            await shop.settle()
        assert len(shop.razorpay.created) == 2
        assert "Pay now" in button_ids(shop.last_reply(ASHA))


async def test_checking_out_again_reuses_the_link_until_the_cart_changes(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        await shop_until_pay_now(shop)
        await shop.say(ASHA, "checkout")
        await shop.settle()
        await shop.tap(ASHA, find(button_ids(shop.last_reply(ASHA)), "use"))
        await shop.settle()
        assert len(shop.razorpay.created) == 1  # unchanged cart: the same link again
        assert "Pay now" in button_ids(shop.last_reply(ASHA))

        # A changed cart cancels the old link and makes a new one.
        await shop.pick(ASHA, "x")  # garbage row id: a hint, nothing changes
        await shop.settle()
        await shop.say(ASHA, "menu")
        await shop.settle()
        await shop.tap(ASHA, find(button_ids(shop.last_reply(ASHA)), "browse"))
        await shop.settle()
        await shop.pick(ASHA, find(row_ids(shop.last_reply(ASHA)), "^cups"))
        await shop.settle()
        await shop.pick(ASHA, find(row_ids(shop.last_reply(ASHA)), "kulhad"))
        await shop.settle()
        await shop.tap(ASHA, find(button_ids(shop.last_reply(ASHA)), "^1$"))
        await shop.settle()
        await shop.say(ASHA, "checkout")
        await shop.settle()
        await shop.tap(ASHA, find(button_ids(shop.last_reply(ASHA)), "use"))
        await shop.settle()
        first, second = shop.razorpay.created
        assert first["status"] == "cancelled"
        assert second["status"] == "created"
        assert second["amount"] == 49800 + 29900
        old = await shop.app[keys.STORE].get_order(first["reference_id"])
        assert old is not None
        assert old.status is OrderStatus.CANCELLED
