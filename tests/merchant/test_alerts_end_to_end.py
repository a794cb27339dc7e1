"""The merchant hears about every paid order, in the running shop: a customer pays, and the
webhook, the email, Telegram and the owners' WhatsApp each get it exactly once, even when
Razorpay delivers the payment twice, when the merchant's server is down for a while, or when
the shop stops between the payment and the delivery. Both backends."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp.test_utils import TestServer

from bot import keys
from bot.merchant.alerts import resend
from bot.sandbox.merchant import MerchantInbox
from bot.sandbox.smtp import SmtpStandin
from flows.catalog import ShopConfig
from storage.repository import AlertStatus
from tests.merchant.test_channels import SECRET
from tests.support.harness import FakeClock, Shop, running_shop, text_of
from tests.test_shop_end_to_end import shop_until_pay_now

OWNER = "919900000077"
ABSENT_OWNER = "919900000078"


@dataclass
class Merchant:
    inbox: MerchantInbox
    smtp: SmtpStandin
    env: dict[str, str]


@asynccontextmanager
async def merchant_standins() -> AsyncIterator[Merchant]:
    inbox = MerchantInbox(webhook_secret=SECRET)
    smtp = SmtpStandin()
    smtp_port = await smtp.start()
    try:
        async with TestServer(inbox.app()) as server:
            base = str(server.make_url("")).rstrip("/")
            env = {
                "MERCHANT_WEBHOOK_URL": f"{base}/merchant/webhook",
                "MERCHANT_WEBHOOK_SECRET": SECRET,
                "MERCHANT_WEBHOOK_ALLOW_PRIVATE": "1",
                "MERCHANT_EMAIL": "owner@example.com",
                "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
                "TELEGRAM_BOT_TOKEN": "123:ABC",
                "TELEGRAM_CHAT_ID": "-100777",
                "TELEGRAM_API_BASE": f"{base}/telegram",
                "OWNER_WHATSAPP": f"{OWNER},{ABSENT_OWNER}",
            }
            yield Merchant(inbox, smtp, env)
    finally:
        await smtp.close()


async def deliver_alerts(shop: Shop) -> None:
    """Whatever is due now is delivered (the timer does this by itself; tests do not wait)."""
    await shop.settle()
    alerts = shop.app[keys.ALERTS]
    await alerts.deliver_due()
    await alerts.idle()


async def pay(shop: Shop, *, times: int = 1, owner_writes: bool = True) -> str:
    if owner_writes:
        await shop.say(OWNER, "hi", name="Owner")  # the owner's window opens
    await shop_until_pay_now(shop)
    [link] = shop.razorpay.created
    body = shop.razorpay.paid_webhook(link["id"])
    for n in range(times):
        assert (await shop.post_razorpay(body, event_id=f"evt_Paid{n:010d}")).status == 200
    await shop.settle()
    return str(link["reference_id"])


async def test_a_paid_order_reaches_every_channel_once_even_when_paid_twice(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with (
        merchant_standins() as merchant,
        running_shop(database_url, shop_config, extra_env=merchant.env) as shop,
    ):
        order_id = await pay(shop, times=2)
        await deliver_alerts(shop)
        await deliver_alerts(shop)

        [webhook] = merchant.inbox.webhooks
        assert webhook.verified
        body = json.loads(webhook.body)
        assert body["type"] == "order.paid"
        assert body["data"]["order_id"] == order_id
        assert body["data"]["total"] == 49_800
        assert body["data"]["address"] == "12 MG Road, Indiranagar, Bengaluru 560038"
        [telegram] = merchant.inbox.telegram
        assert order_id in telegram["text"]
        [email] = merchant.smtp.received
        assert order_id in email.message["Subject"]
        owner_texts = [m for m in shop.replies(OWNER) if order_id in text_of(m)]
        assert len(owner_texts) == 1
        assert shop.replies(ABSENT_OWNER) == []

        log = {a.channel: a for a in await shop.app[keys.STORE].order_alerts(order_id)}
        assert sorted(log) == sorted(
            ["webhook", "email", "telegram", f"whatsapp:{OWNER}", f"whatsapp:{ABSENT_OWNER}"]
        )
        assert log[f"whatsapp:{ABSENT_OWNER}"].status is AlertStatus.SKIPPED
        assert "24 hours" in (log[f"whatsapp:{ABSENT_OWNER}"].last_error or "")
        assert {a.status for c, a in log.items() if c != f"whatsapp:{ABSENT_OWNER}"} == {
            AlertStatus.DELIVERED
        }


async def test_a_merchant_server_that_is_down_gets_the_same_webhook_later(
    database_url: str, shop_config: ShopConfig
) -> None:
    clock = FakeClock()
    async with (
        merchant_standins() as merchant,
        running_shop(database_url, shop_config, extra_env=merchant.env, clock=clock) as shop,
    ):
        merchant.inbox.webhook_answers.extend([503, 502])
        order_id = await pay(shop)
        await deliver_alerts(shop)
        assert [w.answered for w in merchant.inbox.webhooks] == [503]
        assert shop.app[keys.ALERTS].busy == 0  # the retry waits in the table, not a worker

        clock.advance(4)  # before the first retry is due (5 s, less 10 % at most)
        await deliver_alerts(shop)
        assert len(merchant.inbox.webhooks) == 1

        clock.advance(2)
        await deliver_alerts(shop)
        clock.advance(330)  # the second wait: 5 minutes and a little
        await deliver_alerts(shop)

        assert [w.answered for w in merchant.inbox.webhooks] == [503, 502, 200]
        assert len({w.webhook_id for w in merchant.inbox.webhooks}) == 1
        assert all(w.verified for w in merchant.inbox.webhooks)
        [alert] = [
            a for a in await shop.app[keys.STORE].order_alerts(order_id) if a.channel == "webhook"
        ]
        assert (alert.status, alert.attempts) == (AlertStatus.DELIVERED, 3)

        # Send again: the same event, the same id, so the merchant's code can tell.
        again = await resend(shop.app[keys.STORE], alert.id, int(clock()))
        assert again is not None
        shop.app[keys.ALERTS].poke()
        await deliver_alerts(shop)
        assert [w.webhook_id for w in merchant.inbox.webhooks] == [alert.webhook_id] * 4


async def test_a_shop_stopped_before_delivering_delivers_after_restart(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with merchant_standins() as merchant:
        merchant.inbox.webhook_hold = hold = asyncio.Event()
        async with running_shop(database_url, shop_config, extra_env=merchant.env) as shop:
            order_id = await pay(shop)
            # The webhook hangs; the shop stops (its workers are cut off) before it answers.
        assert merchant.inbox.webhooks == []
        hold.set()
        merchant.inbox.webhook_hold = None

        async with running_shop(database_url, shop_config, extra_env=merchant.env) as shop:
            await deliver_alerts(shop)
            [webhook] = [w for w in merchant.inbox.webhooks if order_id in w.body]
            assert webhook.verified
            statuses = {
                a.channel: a.status for a in await shop.app[keys.STORE].order_alerts(order_id)
            }
            assert statuses["webhook"] is AlertStatus.DELIVERED


async def test_an_owner_who_wrote_more_than_a_day_ago_is_skipped_not_messaged(
    database_url: str, shop_config: ShopConfig
) -> None:
    clock = FakeClock()
    async with (
        merchant_standins() as merchant,
        running_shop(database_url, shop_config, extra_env=merchant.env, clock=clock) as shop,
    ):
        await shop.say(OWNER, "hi", name="Owner")
        await shop.settle()
        clock.advance(24 * 3600 + 60)
        order_id = await pay(shop, owner_writes=False)
        await deliver_alerts(shop)

        assert [m for m in shop.replies(OWNER) if order_id in text_of(m)] == []
        log = {a.channel: a for a in await shop.app[keys.STORE].order_alerts(order_id)}
        assert log[f"whatsapp:{OWNER}"].status is AlertStatus.SKIPPED
        assert log["telegram"].status is AlertStatus.DELIVERED


async def test_shipped_delivered_and_refunded_reach_the_merchant_too(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with (
        merchant_standins() as merchant,
        running_shop(database_url, shop_config, extra_env=merchant.env) as shop,
    ):
        order_id = await pay(shop)
        orders = shop.app[keys.MERCHANT]
        await orders.ship(order_id, by="cli:asha", courier="DTDC", tracking="AWB123")
        await orders.ship(order_id, by="cli:asha", courier="DTDC")  # a double click
        await orders.refund(order_id, 10_000, by="cli:asha", request_key="form-1")
        await shop.settle()
        [refund] = shop.razorpay.refunds.values()
        assert (await shop.post_razorpay(shop.razorpay.refund_webhook(refund["id"]))).status == 200
        await shop.settle()
        await orders.deliver(order_id, by="cli:asha")
        await deliver_alerts(shop)

        bodies = [json.loads(w.body) for w in merchant.inbox.webhooks]
        assert all(w.verified for w in merchant.inbox.webhooks)
        assert [b["type"] for b in bodies] == [
            "order.paid",
            "order.shipped",
            "order.refunded",
            "order.delivered",
        ]
        shipped, refunded = bodies[1]["data"], bodies[2]["data"]
        assert shipped["tracking"] == {"courier": "DTDC", "number": "AWB123"}
        assert shipped["fulfilment_status"] == "shipped"
        assert refunded["refund"] == {"amount": 10_000}
        assert refunded["payment_status"] == "partly_refunded"
        assert len({w.webhook_id for w in merchant.inbox.webhooks}) == 4
        subjects = [email.message["Subject"] for email in merchant.smtp.received]
        assert [s.split()[0] for s in subjects] == ["New", "Shipped", "Refunded", "Delivered"]
        telegram = [t["text"] for t in merchant.inbox.telegram]
        assert "Tracking: DTDC AWB123" in telegram[1]


async def test_an_email_sent_again_is_a_new_email_threaded_under_the_first(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with (
        merchant_standins() as merchant,
        running_shop(database_url, shop_config, extra_env=merchant.env) as shop,
    ):
        order_id = await pay(shop)
        await deliver_alerts(shop)
        [alert] = [
            a for a in await shop.app[keys.STORE].order_alerts(order_id) if a.channel == "email"
        ]

        for _ in range(2):
            assert await resend(shop.app[keys.STORE], alert.id, int(shop.clock())) is not None
            shop.app[keys.ALERTS].poke()
            await deliver_alerts(shop)

        first, second, third = (email.message for email in merchant.smtp.received)
        ids = [m["Message-ID"] for m in (first, second, third)]
        assert len(set(ids)) == 3
        assert first["In-Reply-To"] is None
        assert (second["In-Reply-To"], second["References"]) == (ids[0], ids[0])
        assert (third["In-Reply-To"], third["References"]) == (ids[0], ids[0])
        assert first["Subject"] == second["Subject"]
