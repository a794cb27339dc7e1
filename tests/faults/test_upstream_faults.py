"""The Graph API and Razorpay misbehave; every customer is still served, exactly once.

Graph: 30% HTTP 500 and 10% HTTP 429 (seeded, so a run is reproducible), or 2-second
answers: every reply is delivered, in order per customer. Razorpay: 500s, and link creations
that succeed but answer only after the bot gave up: exactly one link per order, and every
customer gets a summary whose Pay now opens that link.
"""

import asyncio
from collections import deque
from typing import Any

from bench.payloads import catalog_order
from flows.catalog import ShopConfig
from tests.faults.support import ADDRESS, FlakyGraph, each, summaries
from tests.support.fakes import Canned, FakeRazorpay
from tests.support.harness import ACCESS_TOKEN, KEY_ID, KEY_SECRET, Shop, running_shop, text_of

WORDS = ("hi", "help", "cart")


def kind(message: dict[str, Any]) -> str:
    text = text_of(message)
    if text.startswith("Welcome to"):
        return "hi"
    if "*help*" in text and "didn't get that" not in text:
        return "help"
    if "cart is empty" in text:
        return "cart"
    return f"unexpected: {text[:60]}"


async def three_words_each(shop: Shop, phones: list[str]) -> None:
    """Every customer sends hi, help, cart back to back (without waiting for answers); all
    customers at once."""

    async def customer(phone: str) -> None:
        for word in WORDS:
            assert (await shop.say(phone, word)).status == 200

    await asyncio.gather(*(customer(phone) for phone in phones))
    await shop.settle()


async def test_graph_500s_and_429s_delay_replies_but_lose_none_and_keep_their_order(
    database_url: str, shop_config: ShopConfig
) -> None:
    graph = FlakyGraph(token=ACCESS_TOKEN, error_rate=0.3, rate_limit_rate=0.1, seed=11)
    # A long retry budget: 40% failures in a row for a whole minute does not happen.
    env = {"RETRY_BASE_SECONDS": "0.01", "SEND_RETRY_SECONDS": "120"}
    async with running_shop(database_url, shop_config, graph=graph, extra_env=env) as shop:
        phones = [f"91980000{i:04d}" for i in range(20)]
        await three_words_each(shop, phones)

        assert graph.failures["500"] > 0
        assert graph.failures["429"] > 0
        for phone in phones:
            assert [kind(m) for m in shop.replies(phone)] == list(WORDS), phone
        assert len(graph.sent) == len(phones) * len(WORDS)  # none twice


async def test_slow_graph_answers_still_deliver_every_reply_in_order(
    database_url: str, shop_config: ShopConfig
) -> None:
    graph = FlakyGraph(token=ACCESS_TOKEN, latency=2.0)
    env = {"HTTP_TIMEOUT_SECONDS": "10", "SEND_RETRY_SECONDS": "120"}
    async with running_shop(database_url, shop_config, graph=graph, extra_env=env) as shop:
        phones = [f"91981000{i:04d}" for i in range(10)]
        await three_words_each(shop, phones)

        for phone in phones:
            assert [kind(m) for m in shop.replies(phone)] == list(WORDS), phone
        assert graph.attempts == len(phones) * len(WORDS)  # slow is not failed: no retries


async def test_razorpay_500s_and_answers_lost_after_creating_still_make_one_link_per_order(
    database_url: str, shop_config: ShopConfig
) -> None:
    razorpay = FakeRazorpay(key_id=KEY_ID, key_secret=KEY_SECRET)
    server_error = Canned(500, {"error": {"code": "SERVER_ERROR", "description": "oops"}})
    # Created, then the answer comes long after the bot's 1 s timeout: the ambiguous failure.
    lost_answer = Canned(200, {}, delay=3.0, then_apply=True)
    razorpay.script = deque([server_error, lost_answer, server_error, lost_answer, lost_answer])
    env = {"HTTP_TIMEOUT_SECONDS": "1", "RETRY_BASE_SECONDS": "0.05"}
    async with running_shop(database_url, shop_config, razorpay=razorpay, extra_env=env) as shop:
        phones = [f"91982000{i:04d}" for i in range(8)]
        order = catalog_order([("masala-chai-250", 2), ("tea-strainer", 1)])
        await each(phones, lambda phone: shop.send(phone, order))
        await shop.settle()
        await each(phones, lambda phone: shop.say(phone, ADDRESS))
        await shop.settle()

        assert not razorpay.script  # every scripted fault was served
        links = razorpay.created
        references = [link["reference_id"] for link in links]
        assert len(references) == len(set(references)) == len(phones)
        by_reference = {link["reference_id"]: link for link in links}
        for phone in phones:
            [order_id] = summaries(shop, phone)
            link = by_reference[order_id]
            assert link["status"] == "created"
            # Pay now opens exactly that link.
            await shop.tap(phone, f"redirect_to_payment:{order_id}")
        await shop.settle()
        for phone in phones:
            order_id = summaries(shop, phone)[0]
            cta = next(
                m
                for m in reversed(shop.replies(phone))
                if m["type"] == "interactive" and m["interactive"]["type"] == "cta_url"
            )
            url = cta["interactive"]["action"]["parameters"]["url"]
            assert url == by_reference[order_id]["short_url"]
