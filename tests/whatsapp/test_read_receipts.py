"""Blue ticks and "typing…": each new customer message is marked read with the typing
indicator while its reply is made. Best-effort: a read call that fails or hangs never delays,
loses or repeats the reply, is never retried, and is not made for anything but a customer's
message we answer."""

import asyncio
from collections.abc import Callable

import aiohttp
from aiohttp.test_utils import TestServer

from bot import keys
from bot.whatsapp.client import WhatsAppClient
from bot.whatsapp.receipts import ReadReceipts, answered_message_id
from flows.catalog import ShopConfig
from flows.events import MediaReceived, ReactionReceived, TextReceived
from tests.support.fakes import PHONE_NUMBER_ID, Canned, FakeGraph, graph_error
from tests.support.harness import Shop, button_ids, running_shop, text_of
from tests.test_shop_end_to_end import ASHA, shop_until_pay_now

READ_AND_TYPING = {
    "messaging_product": "whatsapp",
    "status": "read",
    "typing_indicator": {"type": "text"},
}


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition did not come true within 10 s")


async def receipts_done(shop: Shop) -> None:
    receipts = shop.app[keys.RECEIPTS]
    for _ in range(200):
        if receipts.in_flight == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("a read receipt is still in flight")


async def test_each_message_is_marked_read_with_the_typing_indicator(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        await shop.send(ASHA, {"type": "text", "text": {"body": "hi"}}, wamid="wamid.HELLO1")
        await shop.settle()
        await receipts_done(shop)

        assert shop.graph.reads == [{**READ_AND_TYPING, "message_id": "wamid.HELLO1"}]
        assert "Chai Point" in text_of(shop.last_reply(ASHA))

        # Meta delivers the same message again: no second step, no second receipt.
        await shop.send(ASHA, {"type": "text", "text": {"body": "hi"}}, wamid="wamid.HELLO1")
        await shop.settle()
        await receipts_done(shop)
        assert shop.graph.read_ids() == ["wamid.HELLO1"]
        assert len(shop.replies(ASHA)) == 1


async def test_a_failing_read_call_changes_nothing_of_the_reply_and_is_not_retried(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        shop.graph.read_script.extend(
            [Canned(500, {"error": {"code": 131000}}), graph_error(131009), graph_error(190, 401)]
        )
        await shop.say(ASHA, "hi")
        await shop.say(ASHA, "menu")
        await shop.say(ASHA, "help")
        await shop.settle()
        await receipts_done(shop)

        assert len(shop.graph.reads) == 3  # one call each, none retried
        assert len(shop.replies(ASHA)) == 3
        assert shop.graph.attempts == 3  # the replies went first time
        assert not shop.graph.read_script


async def test_a_hanging_read_call_does_not_hold_up_the_reply_or_the_order(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        summary = await shop_until_pay_now(shop)
        [link] = shop.razorpay.created
        order_id = str(link["reference_id"])
        shop.graph.read_script.append(Canned(200, {"success": True}, delay=4.0))  # > 3 s

        await shop.tap(ASHA, button_ids(summary)["Pay now"])
        await shop.settle()
        # The reply is out while the read call still hangs.
        assert shop.app[keys.RECEIPTS].in_flight == 1
        cta = shop.replies(ASHA)[-2]
        assert cta["interactive"]["type"] == "cta_url"

        await receipts_done(shop)  # given up after its own short deadline, quietly
        order = await shop.app[keys.STORE].get_order(order_id)
        assert order is not None
        assert order.status.value == "pending_payment"
        await shop.say(ASHA, "cart")
        await shop.settle()
        assert "Your cart" in text_of(shop.last_reply(ASHA))


async def test_no_receipt_for_payments_reactions_or_when_turned_off(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, shop_config) as shop:
        await shop_until_pay_now(shop)
        await receipts_done(shop)
        reads = len(shop.graph.reads)
        [link] = shop.razorpay.created
        await shop.post_razorpay(shop.razorpay.paid_webhook(str(link["id"])))
        reaction = {"message_id": "wamid.in1", "emoji": "👍"}
        await shop.send(ASHA, {"type": "reaction", "reaction": reaction})
        await shop.settle()
        await receipts_done(shop)
        assert len(shop.graph.reads) == reads
        assert "paid" in text_of(shop.last_reply(ASHA)).lower()

    async with running_shop(database_url, shop_config, extra_env={"READ_RECEIPTS": "0"}) as quiet:
        # The same database: a message id of its own, or it would be a redelivery.
        hello = {"type": "text", "text": {"body": "hi"}}
        await quiet.send("919812300077", hello, wamid="wamid.QUIET1")
        await quiet.settle()
        await receipts_done(quiet)
        assert quiet.graph.reads == []
        assert len(quiet.replies("919812300077")) == 1


def test_only_messages_we_answer_are_acknowledged() -> None:
    hello = TextReceived(message_id="wamid.A", text="hi")
    sticker = MediaReceived(message_id="wamid.B", media_type="sticker")
    photo = MediaReceived(message_id="wamid.C", media_type="image")
    thumbs = ReactionReceived(message_id="wamid.D", emoji="👍")
    assert [answered_message_id(e) for e in (hello, sticker, photo, thumbs, None)] == [
        "wamid.A",
        None,
        "wamid.C",
        None,
        None,
    ]


async def test_receipts_stop_starting_while_too_many_are_under_way() -> None:
    graph = FakeGraph(token="token")
    graph.read_script.extend(Canned(200, {"success": True}, delay=30.0) for _ in range(3))
    async with TestServer(graph.app()) as server, aiohttp.ClientSession() as session:
        client = WhatsAppClient(session, str(server.make_url("/v25.0")), PHONE_NUMBER_ID, "token")
        receipts = ReadReceipts(client, timeout=60.0, max_in_flight=3)

        for n in range(5):  # Meta hangs: three calls under way, the other two not started
            receipts.acknowledge(TextReceived(message_id=f"wamid.{n}", text="hi"))
        await until(lambda: len(graph.reads) == 3)
        assert (receipts.in_flight, receipts.skipped) == (3, 2)

        await receipts.close()  # the hanging three given up: receipts start again
        receipts.acknowledge(TextReceived(message_id="wamid.5", text="hi"))
        await until(lambda: receipts.in_flight == 0)
        assert graph.read_ids() == ["wamid.0", "wamid.1", "wamid.2", "wamid.5"]
