"""The order page's actions over HTTP, as a merchant clicks them: each goes through the same
service as the CLI, is recorded as done by "admin", tells the customer, and a form sent twice
(a double click, a reloaded POST) does it once. Bad input is said clearly and changes nothing."""

import re

from bot import keys
from flows.catalog import ShopConfig
from flows.lifecycle import PaymentStatus, payment_status
from flows.orders import FulfilmentStatus
from tests.admin.conftest import PASSWORD, Merchant, flash, forms
from tests.support.harness import Shop, button_ids, running_shop, text_of
from tests.test_order_lifecycle_end_to_end import paid_order, refund_calls
from tests.test_shop_end_to_end import ADDRESS, ASHA, shop_until_pay_now


def told(shop: Shop, words: str) -> int:
    return sum(words in text_of(m) for m in shop.replies(ASHA) if m["type"] != "template")


async def send_twice(merchant: Merchant, order_id: str, action: str, **typed: str) -> list[str]:
    """The same form, sent twice: what the merchant sees after each."""
    target, fields = await merchant.form(f"/admin/orders/{order_id}", f"/{action}")
    flashes = []
    for _ in range(2):
        response = await merchant.post(target, fields, **typed)
        assert response.status == 303
        flashes.append(flash(await merchant.page(response.headers["Location"])))
    return flashes


async def test_the_order_page_shows_what_the_merchant_needs(shop: Shop, merchant: Merchant) -> None:
    order_id = await paid_order(shop)
    await merchant.login()

    page = await merchant.page(f"/admin/orders/{order_id}")

    assert ADDRESS in page
    assert "data-copy='address'" in page  # the copy button
    assert "Masala Chai" in page
    assert "₹498.00" in page
    assert "+" + ASHA in page  # the full number, to call or hand to the courier
    assert "pay_" in page  # Razorpay's payment id
    assert "plink_" in page  # and the link's
    assert "Messages to the customer about this order" in page
    # No inline code the Content-Security-Policy would block (or an injection could use).
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert not re.search(r"\sstyle\s*=", page)
    assert not re.search(r"\son[a-z]+\s*=", page)
    assert set(forms(page)) >= {
        f"/admin/orders/{order_id}/ship",
        f"/admin/orders/{order_id}/deliver",
        f"/admin/orders/{order_id}/refund",
        f"/admin/orders/{order_id}/cancel",
    }


async def test_ship_sent_twice_ships_once_tells_the_customer_once_and_records_admin(
    shop: Shop, merchant: Merchant
) -> None:
    order_id = await paid_order(shop)
    await merchant.login()

    flashes = await send_twice(
        merchant, order_id, "ship", courier="DTDC", tracking="https://track.example/AWB1"
    )
    await shop.settle()

    assert flashes[0] == f"Order {order_id} shipped."
    assert flashes[1].startswith("Already done")
    assert told(shop, "on its way") == 1
    assert "https://track.example/AWB1" in text_of(shop.last_reply(ASHA))
    details = await shop.app[keys.MERCHANT].show(order_id)
    assert details is not None
    assert details.order.fulfilment is FulfilmentStatus.SHIPPED
    assert details.order.courier == "DTDC"
    assert [(e.status, e.actor) for e in details.history if e.status == "shipped"] == [
        ("shipped", "admin")
    ]
    page = await merchant.page(f"/admin/orders/{order_id}")
    assert "https://track.example/AWB1" in page
    assert "on its way" in page  # the message, in the order's message log
    assert f"/admin/orders/{order_id}/ship" not in forms(page)  # nothing to ship any more


async def test_outside_the_window_without_a_template_the_answer_says_why_not_told(
    shop: Shop, merchant: Merchant
) -> None:
    order_id = await paid_order(shop)
    shop.clock.advance(24 * 60 * 60 + 1)  # the customer last wrote over a day ago
    await merchant.login()

    said = await merchant.act(order_id, "ship", courier="DTDC")
    await shop.settle()

    assert said.startswith(f"Order {order_id} shipped. The customer could not be told:")
    assert "order_shipped" in said  # the template to create, by name
    assert told(shop, "on its way") == 0


async def test_deliver_sent_twice_delivers_once(shop: Shop, merchant: Merchant) -> None:
    order_id = await paid_order(shop)
    await merchant.login()

    flashes = await send_twice(merchant, order_id, "deliver")
    await shop.settle()

    assert flashes[0] == f"Order {order_id} delivered."
    assert flashes[1].startswith("Already done")
    order = await shop.app[keys.STORE].get_order(order_id)
    assert order is not None
    assert order.fulfilment is FulfilmentStatus.DELIVERED


async def test_a_partial_refund_sent_twice_asks_razorpay_once(
    shop: Shop, merchant: Merchant
) -> None:
    order_id = await paid_order(shop)
    await merchant.login()

    flashes = await send_twice(merchant, order_id, "refund", amount="100.50", reason="broken")
    await shop.settle()

    assert flashes[0] == f"Refund of ₹100.50 for order {order_id} asked for."
    assert flashes[1].startswith("Already done")
    assert [call["amount"] for call in refund_calls(shop)] == [10_050]
    # A second refund of the same amount is a new form, so a new refund.
    assert (await merchant.act(order_id, "refund", amount="100.50", reason="broken")).startswith(
        "Refund of ₹100.50"
    )
    await shop.settle()
    assert [call["amount"] for call in refund_calls(shop)] == [10_050, 10_050]

    [first, _] = shop.razorpay.refunds.values()
    assert (await shop.post_razorpay(shop.razorpay.refund_webhook(first["id"]))).status == 200
    await shop.settle()
    order = await shop.app[keys.STORE].get_order(order_id)
    assert order is not None
    assert payment_status(order) is PaymentStatus.PARTLY_REFUNDED
    assert told(shop, "refund") >= 1


async def test_a_refund_with_no_amount_refunds_all_that_is_left(
    shop: Shop, merchant: Merchant
) -> None:
    order_id = await paid_order(shop)
    await merchant.login()
    assert (await merchant.act(order_id, "refund", amount="98")).startswith("Refund of ₹98.00")
    assert (await merchant.act(order_id, "refund", amount="")).startswith("Refund of ₹400.00")
    await shop.settle()
    assert [call["amount"] for call in refund_calls(shop)] == [9_800, 40_000]


async def test_bad_amounts_are_said_clearly_and_refund_nothing(
    shop: Shop, merchant: Merchant
) -> None:
    order_id = await paid_order(shop)
    await merchant.login()

    unreadable = await merchant.act(order_id, "refund", amount="ten rupees")
    too_much = await merchant.act(order_id, "refund", amount="499")
    await shop.settle()

    assert "write an amount like 250 or 249.50" in unreadable
    assert "more than what is left to refund" in too_much
    assert refund_calls(shop) == []
    page = await merchant.page(f"/admin/orders/{order_id}")
    assert "No refunds." in page


async def test_cancelling_an_unpaid_order_cancels_its_link(shop: Shop, merchant: Merchant) -> None:
    summary = await shop_until_pay_now(shop)
    await shop.tap(ASHA, button_ids(summary)["Pay now"])
    await shop.settle()
    [link] = shop.razorpay.created
    order_id = str(link["reference_id"])
    await merchant.login()

    flashes = await send_twice(merchant, order_id, "cancel")
    await shop.settle()

    assert flashes[0] == f"Order {order_id} cancelled."
    assert flashes[1].startswith("Already done")
    cancels = [path for method, path, _ in shop.razorpay.requests if path.endswith("/cancel")]
    assert cancels == [f"/payment_links/{link['id']}/cancel"]
    assert told(shop, "cancelled by the shop") == 1


async def test_cancelling_a_paid_order_refunds_it(shop: Shop, merchant: Merchant) -> None:
    order_id = await paid_order(shop)
    await merchant.login()
    page = await merchant.page(f"/admin/orders/{order_id}")
    assert "Cancel and refund ₹498.00" in page

    flashes = await send_twice(merchant, order_id, "cancel", reason="out of stock")
    await shop.settle()

    assert flashes[0].startswith(f"Order {order_id} cancelled; refund of ₹498.00")
    assert flashes[1].startswith("Already done")
    assert [call["amount"] for call in refund_calls(shop)] == [49_800]


async def test_an_action_without_its_form_token_does_nothing(
    shop: Shop, merchant: Merchant
) -> None:
    order_id = await paid_order(shop)
    await merchant.login()
    target, fields = await merchant.form(f"/admin/orders/{order_id}", "/ship")
    del fields["form_token"]

    response = await merchant.post(target, fields)
    said = flash(await merchant.page(response.headers["Location"]))
    assert "reload the page" in said
    order = await shop.app[keys.STORE].get_order(order_id)
    assert order is not None
    assert order.fulfilment is FulfilmentStatus.UNFULFILLED


async def test_send_again_sent_twice_queues_the_alert_once(
    database_url: str, shop_config: ShopConfig
) -> None:
    # An owner number: each paid order queues a delivery to it (skipped while its window is
    # closed, which is what "Send again" is for once the owner has written).
    env = {"ADMIN_PASSWORD": PASSWORD, "OWNER_WHATSAPP": "919800000099"}
    async with running_shop(database_url, shop_config, extra_env=env) as shop:
        order_id = await paid_order(shop)
        merchant = Merchant(shop)
        await merchant.login()
        page = await merchant.page(f"/admin/orders/{order_id}")
        assert "Send again" in page
        assert "order.paid" in page

        flashes = await send_twice(merchant, order_id, "resend")

        assert flashes[0].endswith("queued to be sent again.")
        assert flashes[1].startswith("Already done")
