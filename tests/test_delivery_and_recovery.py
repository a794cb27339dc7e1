"""Failing upstreams and crashes: replies still arrive, once, in order; links are made once."""

from bot import keys
from flows.catalog import ShopConfig
from flows.events import TextReceived
from flows.state import Customer
from storage.backends import open_store
from storage.repository import NewEvent
from tests.support.fakes import Canned, FakeGraph, FakeRazorpay, graph_error
from tests.support.harness import ACCESS_TOKEN, KEY_ID, KEY_SECRET, running_shop, text_of
from tests.test_shop_end_to_end import ASHA, shop_until_pay_now

ROHAN = "919812300002"


async def test_5xx_and_429_are_retried_until_the_reply_is_delivered_once(
    database_url: str, shop_config: ShopConfig
) -> None:
    graph = FakeGraph(token=ACCESS_TOKEN)
    graph.script.extend(
        [
            Canned(500, {"error": {"message": "oops"}}),
            graph_error(130429, status=429),
            graph_error(131000, 500),
        ]
    )
    async with running_shop(database_url, shop_config, graph=graph) as shop:
        await shop.say(ASHA, "hi")
        await shop.settle()
        assert graph.attempts == 4
        assert len(shop.replies(ASHA)) == 1


async def test_replies_to_one_customer_keep_their_order_through_retries(
    database_url: str, shop_config: ShopConfig
) -> None:
    graph = FakeGraph(token=ACCESS_TOKEN)
    graph.script.extend([Canned(503, {}), Canned(502, {})])
    async with running_shop(database_url, shop_config, graph=graph) as shop:
        await shop.say(ASHA, "hi")
        await shop.say(ASHA, "help")
        await shop.say(ASHA, "cart")
        await shop.settle()
        replies = [text_of(m).lower() for m in shop.replies(ASHA)]
        assert len(replies) == 3
        assert "chai point" in replies[0]
        assert "cart" in replies[2]


async def test_invalid_parameter_and_closed_window_are_not_retried(
    database_url: str, shop_config: ShopConfig
) -> None:
    graph = FakeGraph(token=ACCESS_TOKEN)
    graph.script.extend([graph_error(131009), graph_error(131047)])
    async with running_shop(database_url, shop_config, graph=graph) as shop:
        await shop.say(ASHA, "hi")
        await shop.say(ROHAN, "hi")
        await shop.settle()
        assert graph.attempts == 2
        assert graph.sent == []
        assert await shop.app[keys.STORE].pending_outbox() == []


async def test_a_message_still_failing_after_the_retry_budget_is_given_up(
    database_url: str, shop_config: ShopConfig
) -> None:
    graph = FakeGraph(token=ACCESS_TOKEN)
    graph.script.extend([Canned(500, {})] * 1000)
    env = {"SEND_RETRY_SECONDS": "0.3"}
    async with running_shop(database_url, shop_config, graph=graph, extra_env=env) as shop:
        await shop.say(ASHA, "hi")
        await shop.settle()
        assert graph.sent == []
        assert 1 < graph.attempts < 1000
        assert await shop.app[keys.STORE].pending_outbox() == []


async def test_link_creation_survives_a_5xx_with_one_link(
    database_url: str, shop_config: ShopConfig
) -> None:
    razorpay = FakeRazorpay(key_id=KEY_ID, key_secret=KEY_SECRET)
    razorpay.script.extend(
        [Canned(500, {"error": {"code": "SERVER_ERROR", "description": "try later"}})]
    )
    async with running_shop(database_url, shop_config, razorpay=razorpay) as shop:
        await shop_until_pay_now(shop)
        assert len(razorpay.created) == 1
        creates = [r for r in razorpay.requests if r[:2] == ("POST", "/payment_links")]
        assert len(creates) == 2
        assert creates[0][2] == creates[1][2]  # the retry is the same request: same reference_id


async def test_a_timeout_after_the_link_was_made_recovers_that_link(
    database_url: str, shop_config: ShopConfig
) -> None:
    razorpay = FakeRazorpay(key_id=KEY_ID, key_secret=KEY_SECRET)
    # Razorpay creates the link, then answers too late: the bot's 2 s timeout fires.
    razorpay.script.append(Canned(200, {}, delay=3.0, then_apply=True))
    async with running_shop(database_url, shop_config, razorpay=razorpay) as shop:
        summary = await shop_until_pay_now(shop)
        [link] = razorpay.created
        assert link["reference_id"] in text_of(summary)
        assert (
            "GET",
            "/payment_links",
            {"reference_id": link["reference_id"]},
        ) in razorpay.requests


async def test_events_stored_before_a_crash_are_processed_on_the_next_start(
    database_url: str, shop_config: ShopConfig
) -> None:
    """The process died after answering 200 and before working: the start picks it up."""
    store = await open_store(database_url)
    customer = Customer(key=ASHA, phone=ASHA, name="Asha")
    await store.record_events(
        [
            NewEvent(
                source="whatsapp",
                dedupe_key="whatsapp:wamid.before-crash",
                raw="{}",
                event=TextReceived(message_id="wamid.before-crash", text="hi"),
                customer=customer,
            )
        ],
        now=1_790_000_000,
    )
    await store.close()
    async with running_shop(database_url, shop_config) as shop:
        await shop.settle()
        assert len(shop.replies(ASHA)) == 1
        assert "Chai Point" in text_of(shop.last_reply(ASHA))


async def test_messages_left_unsent_at_shutdown_are_sent_after_restart_and_only_once(
    database_url: str, shop_config: ShopConfig
) -> None:
    down = FakeGraph(token=ACCESS_TOKEN)
    down.script.extend([Canned(503, {}, delay=0.05)] * 10_000)
    env = {"SHUTDOWN_GRACE_SECONDS": "0.5", "SEND_RETRY_SECONDS": "60"}
    async with running_shop(database_url, shop_config, graph=down, extra_env=env) as shop:
        await shop.say(ASHA, "hi")
        await shop.say(ROHAN, "hi")
        await shop.app[keys.RUNNER].idle()
    assert down.sent == []

    up = FakeGraph(token=ACCESS_TOKEN)
    async with running_shop(database_url, shop_config, graph=up) as shop:
        await shop.settle()
        assert len(up.to(ASHA)) == 1
        assert len(up.to(ROHAN)) == 1
    again = FakeGraph(token=ACCESS_TOKEN)
    async with running_shop(database_url, shop_config, graph=again) as shop:
        await shop.settle()
        assert again.sent == []


async def test_a_checkout_interrupted_before_the_link_resumes_after_restart(
    database_url: str, shop_config: ShopConfig
) -> None:
    """Razorpay is down when the process stops; the job is still there on the next start."""
    razorpay = FakeRazorpay(key_id=KEY_ID, key_secret=KEY_SECRET)
    razorpay.script.extend(
        [Canned(503, {"error": {"code": "SERVER_ERROR", "description": "x"}}, delay=0.05)] * 10_000
    )
    env = {"SHUTDOWN_GRACE_SECONDS": "0.3"}
    async with running_shop(database_url, shop_config, razorpay=razorpay, extra_env=env) as shop:
        await shop.say(ASHA, "hi")
        await shop.settle()
        await shop.say(ASHA, "checkout")  # empty cart: just a message
        await shop.settle()
        from tests.support.harness import button_ids, row_ids
        from tests.test_shop_end_to_end import find

        await shop.say(ASHA, "menu")
        await shop.settle()
        await shop.tap(ASHA, find(button_ids(shop.last_reply(ASHA)), "browse"))
        await shop.settle()
        await shop.pick(ASHA, find(row_ids(shop.last_reply(ASHA)), "^snacks"))
        await shop.settle()
        await shop.pick(ASHA, find(row_ids(shop.last_reply(ASHA)), "rusk"))
        await shop.settle()
        await shop.tap(ASHA, find(button_ids(shop.last_reply(ASHA)), "^3$"))
        await shop.settle()
        await shop.tap(ASHA, find(button_ids(shop.last_reply(ASHA)), "checkout"))
        await shop.settle()
        await shop.say(ASHA, "7 Park Street, Kolkata 700016")
        await shop.app[keys.RUNNER].idle()
    assert razorpay.created == []

    fresh = FakeRazorpay(key_id=KEY_ID, key_secret=KEY_SECRET)
    async with running_shop(database_url, shop_config, razorpay=fresh) as shop:
        await shop.settle()
        [link] = fresh.created
        assert link["amount"] == 3 * 9500
        assert "Pay now" in str(shop.last_reply(ASHA))
