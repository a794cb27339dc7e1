"""The owner runs the shop from WhatsApp: messages from an OWNER_WHATSAPP number are owner
commands, through the real webhook (signed like Meta), carried out by the same service as the
CLI, recorded as `owner:<number>`, answered through the outbox. A redelivered webhook ships
and refunds once; two refund messages of the same amount are two refunds. Both backends."""

import json
from typing import Any

from bot import keys
from flows.events import TextReceived
from flows.orders import FulfilmentStatus
from flows.owner import HELP_TEXT
from tests.support.harness import Shop, running_shop, text_of, webhook_body
from tests.test_order_lifecycle_end_to_end import paid_order
from tests.test_shop_end_to_end import ASHA

OWNER = "919900000077"
ENV = {"OWNER_WHATSAPP": f"{OWNER},919900000078"}


# The owners' numbers are also a merchant channel: an action's alert ("Shipped ORD-…") reaches
# them beside the reply, in whichever order the two workers send them.
ALERT_HEADLINES = ("New paid order ", "Shipped ", "Delivered ", "Cancelled ", "Refunded ")


def replies_to_owner(shop: Shop) -> list[str]:
    texts = [text_of(m) for m in shop.replies(OWNER)]
    return [t for t in texts if not t.startswith(ALERT_HEADLINES)]


async def owner_says(shop: Shop, text: str, wamid: str) -> str:
    """The owner writes; the shop's reply to that message."""
    before = len(replies_to_owner(shop))
    response = await shop.send(OWNER, {"type": "text", "text": {"body": text}}, "Owner", wamid)
    assert response.status == 200
    await shop.settle()
    [reply] = replies_to_owner(shop)[before:]
    return reply


def redeliver(wamid: str, text: str) -> bytes:
    """Meta delivering the same message again (same id), as it does when unsure we got it."""
    message = {"from": OWNER, "id": wamid, "timestamp": "1790000000", "type": "text"}
    return webhook_body(OWNER, "Owner", [{**message, "text": {"body": text}}])


def refund_calls(shop: Shop) -> list[dict[str, Any]]:
    return [body for _, path, body in shop.razorpay.requests if path.endswith("/refund")]


async def test_the_owner_lists_reads_and_ships_an_order_once(
    database_url: str, shop_config: Any
) -> None:
    async with running_shop(database_url, shop_config, extra_env=ENV) as shop:
        order_id = await paid_order(shop)
        told_before = len(shop.replies(ASHA))

        listing = await owner_says(shop, "orders", "wamid.owner1")
        assert "1 paid, not shipped" in listing
        assert f"{order_id} ₹498.00 " in listing
        assert "TO SHIP" in listing

        shown = await owner_says(shop, f"order {order_id.lower()}", "wamid.owner2")
        assert f"Order {order_id}: ₹498.00" in shown
        assert "12 MG Road, Indiranagar, Bengaluru 560038" in shown
        assert "Payment: paid" in shown
        assert "Fulfilment: unfulfilled" in shown

        ship = f"ship {order_id} DTDC AWB123"
        reply = await owner_says(shop, ship, "wamid.owner3")
        assert reply == f"Done: order {order_id} shipped"
        again = await shop.post_whatsapp(redeliver("wamid.owner3", ship))
        assert again.status == 200
        await shop.settle()

        order = await shop.app[keys.STORE].get_order(order_id)
        assert order is not None
        assert order.fulfilment is FulfilmentStatus.SHIPPED
        assert (order.courier, order.tracking_number) == ("DTDC", "AWB123")
        timeline = await shop.app[keys.STORE].order_timeline(order_id)
        shipped = [entry for entry in timeline if entry.status == "shipped"]
        assert [entry.actor for entry in shipped] == [f"owner:{OWNER}"]
        customer_notes = shop.replies(ASHA)[told_before:]
        assert len(customer_notes) == 1
        assert "AWB123" in text_of(customer_notes[0])
        assert replies_to_owner(shop).count(f"Done: order {order_id} shipped") == 1
        # The owner who shipped has the reply; the merchant's other channels get the alert.
        assert not [m for m in shop.replies(OWNER) if text_of(m).startswith("Shipped ")]
        alerts = await shop.app[keys.STORE].order_alerts(order_id)
        assert [a.channel for a in alerts if a.event_type == "order.shipped"] == [
            "whatsapp:919900000078"
        ]

        assert (await owner_says(shop, f"ship {order_id}", "wamid.owner4")).startswith(
            "Already done:"
        )
        assert (await owner_says(shop, f"deliver {order_id}", "wamid.owner5")).startswith("Done:")


async def test_refunds_by_message_are_one_per_message_however_often_delivered(
    database_url: str, shop_config: Any
) -> None:
    async with running_shop(database_url, shop_config, extra_env=ENV) as shop:
        order_id = await paid_order(shop)

        first = await owner_says(shop, f"refund {order_id} 100", "wamid.r1")
        second = await owner_says(shop, f"refund {order_id} ₹100.00", "wamid.r2")
        await shop.post_whatsapp(redeliver("wamid.r2", f"refund {order_id} ₹100.00"))
        await shop.settle()

        assert first == f"Done: refund of ₹100.00 for order {order_id} asked for"
        assert second == first
        assert [call["amount"] for call in refund_calls(shop)] == [10_000, 10_000]
        refunds = await shop.app[keys.STORE].refunds(order_id)
        assert [(r.amount, r.requested_by) for r in refunds] == [(10_000, f"owner:{OWNER}")] * 2

        # The bot stopped after the refund and before its reply was saved: the same message
        # is handled again, and the refund is not asked for twice.
        desk = shop.app[keys.RUNNER]._owner_desk
        assert desk is not None
        replay = TextReceived(message_id="wamid.r2", text=f"refund {order_id} 100")
        assert (await desk.answer(replay, OWNER)).startswith("Already done:")

        rest = await owner_says(shop, f"refund {order_id}", "wamid.r3")
        assert rest == f"Done: refund of ₹298.00 for order {order_id} asked for"
        too_much = await owner_says(shop, f"refund {order_id} 1", "wamid.r4")
        assert too_much.startswith("No: ")
        precise = await owner_says(shop, f"refund {order_id} 0.125", "wamid.r5")
        assert precise == "No: '0.125' has more than 2 decimals"  # INR: paise, exactly
        assert [call["amount"] for call in refund_calls(shop)] == [10_000, 10_000, 29_800]


async def test_anything_else_gets_help_and_the_shop_still_serves_customers(
    database_url: str, shop_config: Any
) -> None:
    async with running_shop(database_url, shop_config, extra_env=ENV) as shop:
        assert await owner_says(shop, "hi", "wamid.h1") == HELP_TEXT
        bad = await owner_says(shop, "refund ORD-1 12.3.4", "wamid.h2")
        assert bad.startswith("'12.3.4' is not an amount like 250 or 249.50 (usage: refund ID")
        missing = await owner_says(shop, "ship ORD-NOPE", "wamid.h3")
        assert missing == "No order ORD-NOPE. Send: orders"
        image = {"type": "image", "image": {"id": "media1", "mime_type": "image/jpeg"}}
        await shop.send(OWNER, image, "Owner", "wamid.h4")
        await shop.settle()
        assert replies_to_owner(shop)[-1] == HELP_TEXT

        await shop.say(ASHA, "hi")
        await shop.settle()
        assert text_of(shop.last_reply(ASHA)) != HELP_TEXT  # a customer gets the shop
        # The owner's replies went through the outbox like every other message.
        sent = [json.dumps(m) for m in shop.replies(OWNER)]
        assert len(sent) == 4
