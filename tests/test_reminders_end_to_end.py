"""Reminders over HTTP with the real app, on both backends, with a clock the test moves: a
customer who got a payment link and did not pay hears about it once soon and once late in
WhatsApp's 24-hour window, never after it (unless the merchant has a template for it), never
after paying, replying or saying stop; and a reminder fires once across restarts and processes.

Decided here: a reply cancels every pending reminder, and the late-window one is planned again
from that reply (20 hours after it), so a customer who answered but did not pay still hears once
more while the window is open."""

import asyncio
from pathlib import Path
from typing import Any

from bot import keys
from flows.catalog import CheckoutOptions, ShopConfig
from flows.notices import TemplateRef, Templates
from flows.reminders import ReminderRules
from storage.repository import Reminder
from tests.fixtures_path import FIXTURES
from tests.support.fakes import FakeGraph
from tests.support.harness import (
    ACCESS_TOKEN,
    FakeClock,
    Shop,
    button_ids,
    row_ids,
    running_shop,
    text_of,
)
from tests.test_shop_end_to_end import ASHA, find, shop_until_pay_now

MINUTE = 60
HOUR = 60 * MINUTE
PREFERENCES = FIXTURES / "whatsapp_preferences"
REMINDED = "A reminder"


def with_rules(
    config: ShopConfig, *, link_minutes: int = 120, templates: Templates | None = None, **rules: Any
) -> ShopConfig:
    checkout = CheckoutOptions(payment_link_expiry_minutes=link_minutes)
    update: dict[str, Any] = {"reminders": ReminderRules(**rules), "checkout": checkout}
    if templates is not None:
        update["templates"] = templates
    return config.model_copy(update=update)


async def link_sent(shop: Shop) -> dict[str, Any]:
    """Asha checks out and gets her payment link (the Pay now message); returns the link."""
    summary = await shop_until_pay_now(shop)
    await shop.tap(ASHA, button_ids(summary)["Pay now"])
    await shop.settle()
    [link] = shop.razorpay.created
    return link


async def later(shop: Shop, seconds: float) -> None:
    """Time passes; whatever came due fires and is handled."""
    shop.clock.advance(seconds)
    await shop.app[keys.REMINDERS].fire_due()
    await shop.settle()


def said(message: dict[str, Any]) -> str:
    return "" if message["type"] == "template" else text_of(message)


def reminders_sent(shop: Shop) -> list[dict[str, Any]]:
    return [m for m in shop.replies(ASHA) if REMINDED in said(m) or m["type"] == "template"]


async def reminders(shop: Shop) -> list[Reminder]:
    return await shop.app[keys.STORE].customer_reminders(ASHA)


def pending(found: list[Reminder]) -> set[str]:
    return {r.slot.value for r in found if r.status == "pending"}


def sent(found: list[Reminder]) -> list[str]:
    return sorted(r.slot.value for r in found if r.status == "sent")


async def test_an_unpaid_link_is_sent_again_45_minutes_later_and_once_more_late_in_the_window(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, with_rules(shop_config, link_minutes=23 * 60)) as shop:
        link = await link_sent(shop)
        assert pending(await reminders(shop)) == {"payment_first", "payment_second"}

        await later(shop, 44 * MINUTE)
        assert reminders_sent(shop) == []

        await later(shop, 1 * MINUTE)
        [first] = reminders_sent(shop)
        assert "is still waiting for your payment" in said(first)
        assert link["short_url"] in said(shop.last_reply(ASHA))

        await later(shop, 19 * HOUR + 16 * MINUTE)  # 20 hours after her last tap
        assert len(reminders_sent(shop)) == 2
        assert link["short_url"] in said(shop.last_reply(ASHA))
        assert sent(await reminders(shop)) == ["payment_first", "payment_second"]

        await later(shop, 10 * HOUR)  # the window closed: nothing more
        assert len(reminders_sent(shop)) == 2
        assert len(shop.razorpay.created) == 1


async def test_a_paid_order_gets_no_reminder(database_url: str, shop_config: ShopConfig) -> None:
    async with running_shop(database_url, with_rules(shop_config)) as shop:
        link = await link_sent(shop)
        assert (await shop.post_razorpay(shop.razorpay.paid_webhook(link["id"]))).status == 200
        await shop.settle()

        await later(shop, 21 * HOUR)
        assert reminders_sent(shop) == []
        assert {r.status for r in await reminders(shop)} == {"cancelled"}


async def test_a_reply_cancels_what_is_pending_and_the_late_reminder_counts_from_it(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, with_rules(shop_config)) as shop:
        await link_sent(shop)
        await later(shop, 10 * MINUTE)
        await shop.say(ASHA, "is cash on delivery possible?")
        await shop.settle()
        replied_at = int(shop.clock())

        await later(shop, 50 * MINUTE)
        assert reminders_sent(shop) == []
        found = await reminders(shop)
        assert pending(found) == {"payment_second"}
        assert found[-1].due_at == replied_at + 20 * HOUR

        # 20 hours after the reply the two-hour link has expired: the reminder brings a fresh one.
        await later(shop, 19 * HOUR + 10 * MINUTE)
        [reminder] = reminders_sent(shop)
        assert "expired, so here is a fresh one" in said(reminder)
        assert len(shop.razorpay.created) == 2
        fresh = shop.razorpay.created[-1]
        assert "Pay now" in button_ids(shop.last_reply(ASHA))
        assert fresh["amount"] == 49_800


async def test_an_expired_link_comes_back_fresh_in_the_reminder(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, with_rules(shop_config, link_minutes=30)) as shop:
        first_link = await link_sent(shop)
        await later(shop, 45 * MINUTE)

        [reminder] = reminders_sent(shop)
        assert "expired, so here is a fresh one" in said(reminder)
        old, new = shop.razorpay.created
        assert old["id"] == first_link["id"]
        assert new["reference_id"] != old["reference_id"]
        summary = shop.last_reply(ASHA)
        assert "Pay now" in button_ids(summary)
        old_order = await shop.app[keys.STORE].get_order(old["reference_id"])
        assert old_order is not None
        assert old_order.status.value == "cancelled"

        await shop.tap(ASHA, button_ids(summary)["Pay now"])
        await shop.settle()
        assert new["short_url"] in said(shop.last_reply(ASHA))


async def test_after_the_window_closes_nothing_is_sent_without_a_template(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, with_rules(shop_config, link_minutes=48 * 60)) as shop:
        await link_sent(shop)
        sent_before = len(shop.replies(ASHA))

        await later(shop, 25 * HOUR)  # the shop was down all day: both came due at once
        assert len(shop.replies(ASHA)) == sent_before
        notes = {
            r.slot.value: (r.status, r.note)
            for r in await reminders(shop)
            if r.status != "cancelled"
        }
        assert notes["payment_first"][0] == "skipped"
        assert "overtaken" in str(notes["payment_first"][1])
        assert notes["payment_second"][0] == "skipped"
        assert "no [templates] payment_reminder" in str(notes["payment_second"][1])


async def test_after_the_window_closes_the_merchants_template_is_sent_once(
    database_url: str, shop_config: ShopConfig
) -> None:
    templates = Templates(payment_reminder=TemplateRef(name="payment_pending", language="en"))
    config = with_rules(shop_config, link_minutes=48 * 60, templates=templates)
    async with running_shop(database_url, config) as shop:
        link = await link_sent(shop)

        await later(shop, 25 * HOUR)
        [sent] = reminders_sent(shop)
        assert sent["type"] == "template"
        assert sent["template"]["name"] == "payment_pending"
        parameters = [p["text"] for p in sent["template"]["components"][0]["parameters"]]
        assert parameters == [link["reference_id"], "₹498.00", link["short_url"]]


async def test_stop_turns_reminders_off_and_start_back_on(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, with_rules(shop_config)) as shop:
        link = await link_sent(shop)
        await shop.say(ASHA, "Stop")
        await shop.settle()
        assert "no more reminders" in said(shop.last_reply(ASHA))

        await later(shop, 21 * HOUR)
        assert reminders_sent(shop) == []
        assert {r.status for r in await reminders(shop)} == {"cancelled"}

        await shop.say(ASHA, "start")
        await shop.settle()
        back_on, menu = shop.replies(ASHA)[-2:]
        assert "Reminders are back on" in said(back_on)
        assert "Chai Point" in said(menu)

        # The order still waits: the late reminder is planned from this message again.
        await later(shop, 20 * HOUR)
        [reminder] = reminders_sent(shop)
        assert REMINDED in said(reminder)
        assert link["id"] != shop.razorpay.created[-1]["id"]  # the 2-hour link was made fresh


async def test_a_cart_left_unpaid_gets_one_nudge_when_the_merchant_turns_it_on(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(
        database_url, with_rules(shop_config, cart_nudge_after_minutes=60)
    ) as shop:
        await shop.say(ASHA, "hi")
        await shop.settle()
        await shop.tap(ASHA, find(button_ids(shop.last_reply(ASHA)), "browse"))
        await shop.settle()
        await shop.pick(ASHA, find(row_ids(shop.last_reply(ASHA)), "^tea"))
        await shop.settle()
        await shop.pick(ASHA, find(row_ids(shop.last_reply(ASHA)), "masala chai"))
        await shop.settle()
        assert await reminders(shop) == []  # nothing in the cart yet
        await shop.tap(ASHA, find(button_ids(shop.last_reply(ASHA)), "^2$"))
        await shop.settle()
        assert pending(await reminders(shop)) == {"cart"}

        await later(shop, 59 * MINUTE)
        assert not any("left something in your cart" in said(m) for m in shop.replies(ASHA))
        await later(shop, 1 * MINUTE)
        nudge = shop.last_reply(ASHA)
        assert "left something in your cart" in said(nudge)
        assert "Checkout" in button_ids(nudge)

        await later(shop, 2 * HOUR)  # one nudge, not one an hour
        assert sum("left something in your cart" in said(m) for m in shop.replies(ASHA)) == 1


async def post_fixture(shop: Shop, name: str) -> int:
    response = await shop.post_whatsapp((PREFERENCES / name).read_bytes())
    await shop.settle()
    return response.status


async def test_metas_marketing_opt_out_stops_reminders_and_its_resume_restarts_them(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, with_rules(shop_config, link_minutes=23 * 60)) as shop:
        await link_sent(shop)
        sent_before = len(shop.replies(ASHA))

        assert await post_fixture(shop, "user_preferences_stop.json") == 200
        assert await post_fixture(shop, "user_preferences_stop.json") == 200  # redelivered
        assert len(shop.replies(ASHA)) == sent_before  # nothing is said to an opt-out
        assert {r.status for r in await reminders(shop)} == {"cancelled"}

        await later(shop, 1 * HOUR)
        assert reminders_sent(shop) == []

        assert await post_fixture(shop, "user_preferences_resume.json") == 200
        await shop.say(ASHA, "ok")  # the next message plans the late reminder again
        await shop.settle()
        await later(shop, 20 * HOUR)
        assert len(reminders_sent(shop)) == 1


async def test_a_user_preferences_change_of_an_unknown_shape_is_still_acknowledged(
    database_url: str, shop_config: ShopConfig
) -> None:
    body = (PREFERENCES / "user_preferences_stop.json").read_bytes()
    odd = [
        body.replace(b'"marketing_messages"', b'"service_messages"'),
        body.replace(b'"stop"', b'"pause"'),
        body.replace(b'"user_preferences": [', b'"user_preferences": [42, '),
    ]
    async with running_shop(database_url, with_rules(shop_config)) as shop:
        await link_sent(shop)
        for variant in odd:
            assert (await shop.post_whatsapp(variant)).status == 200
        await shop.settle()
        assert pending(await reminders(shop)) == {"payment_first", "payment_second"}


async def test_a_reminder_pending_over_a_restart_fires_once(
    database_url: str, shop_config: ShopConfig
) -> None:
    config = with_rules(shop_config, link_minutes=23 * 60)
    graph, clock = FakeGraph(token=ACCESS_TOKEN), FakeClock()
    async with running_shop(database_url, config, graph=graph, clock=clock) as shop:
        await link_sent(shop)
        razorpay = shop.razorpay
    clock.advance(46 * MINUTE)  # it came due while the shop was stopped
    async with running_shop(
        database_url, config, graph=graph, clock=clock, razorpay=razorpay
    ) as shop:
        await shop.app[keys.REMINDERS].fire_due()
        await shop.settle()
        await later(shop, 1 * MINUTE)
        assert len(reminders_sent(shop)) == 1
        assert sent(await reminders(shop)) == ["payment_first"]


async def test_two_processes_on_one_postgres_database_fire_a_reminder_once(
    postgres_url: str, shop_config: ShopConfig
) -> None:
    config = with_rules(shop_config, link_minutes=23 * 60)
    graph, clock = FakeGraph(token=ACCESS_TOKEN), FakeClock()
    async with running_shop(postgres_url, config, graph=graph, clock=clock) as a:
        await link_sent(a)
        async with running_shop(
            postgres_url, config, graph=graph, clock=clock, razorpay=a.razorpay
        ) as b:
            clock.advance(45 * MINUTE)
            fired = await asyncio.gather(
                *(shop.app[keys.REMINDERS].fire_due() for shop in (a, b, a, b))
            )
            assert sum(fired) == 1
            # Either process may take the customer's lane (the other's sweep finds it).
            for _ in range(100):
                await a.settle()
                await b.settle()
                if reminders_sent(a):
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            await a.settle()
            await b.settle()
            assert len(reminders_sent(a)) == 1
            assert sent(await reminders(a)) == ["payment_first"]


def test_the_fixtures_are_the_ones_the_index_names() -> None:
    index = (PREFERENCES / "INDEX.md").read_text(encoding="utf-8")
    for path in sorted(Path(PREFERENCES).glob("*.json")):
        assert f"`{path.name}`" in index
