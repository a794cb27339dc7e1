"""Each channel against a local stand-in: the signed webhook (checked with the Standard
Webhooks reference package), email through an SMTP server on loopback, Telegram's
sendMessage. A delivery here is the row storage queued; the channels only read it."""

import dataclasses
import json
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from standardwebhooks.webhooks import Webhook

from bot.merchant.channels.base import ChannelError, Delivered
from bot.merchant.channels.email import EmailChannel, SmtpServer
from bot.merchant.channels.telegram import TelegramChannel
from bot.merchant.channels.webhook import PrivateAddressError, PublicAddressesOnly, WebhookChannel
from bot.sandbox.merchant import MerchantInbox
from bot.sandbox.smtp import SmtpStandin
from storage.repository import AlertStatus, MerchantAlert

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = {
    "type": "order.paid",
    "timestamp": "2026-12-02T00:00:00Z",
    "data": {
        "order_id": "ORD-20261202-ABC",
        "status": "paid",
        "payment_status": "paid",
        "fulfilment_status": "unfulfilled",
        "currency": "INR",
        "total": 49_800,
        "items": [
            {"product_id": "chai", "name": "Masala Chai", "quantity": 2, "unit_price": 24_900}
        ],
        "customer": {"name": "Asha", "phone": "919812300001", "user_id": None},
        "address": "12 MG Road, Bengaluru 560038",
        "payment": {"provider": "razorpay", "link_id": "plink_1", "payment_id": "pay_1"},
        "tracking": {},
    },
}


def alert(channel: str) -> MerchantAlert:
    return MerchantAlert(
        id=1,
        channel=channel,
        event_type="order.paid",
        order_id="ORD-20261202-ABC",
        webhook_id="msg_0123456789abcdef",
        body=json.dumps(BODY, ensure_ascii=False),
        status=AlertStatus.PENDING,
        attempts=0,
        last_error=None,
        next_attempt_at=0,
        created_at=0,
        delivered_at=None,
    )


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def inbox() -> AsyncIterator[tuple[MerchantInbox, str]]:
    inbox = MerchantInbox(webhook_secret=SECRET)
    async with TestServer(inbox.app()) as server:
        yield inbox, str(server.make_url("")).rstrip("/")


def webhook(
    session: aiohttp.ClientSession, base: str, *, allow_private: bool = True
) -> WebhookChannel:
    return WebhookChannel(
        session, url=f"{base}/merchant/webhook", secret=SECRET, allow_private=allow_private
    )


async def test_the_webhook_is_signed_so_the_reference_package_verifies_it(
    session: aiohttp.ClientSession, inbox: tuple[MerchantInbox, str]
) -> None:
    receiver, base = inbox
    outcome = await webhook(session, base).deliver(alert("webhook"))

    assert outcome == Delivered("HTTP 200")
    [received] = receiver.webhooks
    assert received.verified
    assert received.webhook_id == "msg_0123456789abcdef"
    assert json.loads(received.body) == BODY
    # The merchant's own check, as the README shows it:
    headers = {
        "webhook-id": received.webhook_id,
        "webhook-timestamp": received.timestamp,
        "webhook-signature": received.signature,
    }
    assert received.signature.startswith("v1,")
    assert Webhook(SECRET).verify(received.body, headers) == BODY


async def test_a_body_changed_on_the_way_fails_verification(
    session: aiohttp.ClientSession,
) -> None:
    channel = WebhookChannel(session, url="http://x.invalid/", secret=SECRET, allow_private=True)
    headers = channel.headers("msg_1", '{"a": 1}')
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(SECRET).verify('{"a": 2}', headers)


@pytest.mark.parametrize("status", [302, 303])
async def test_google_apps_script_redirect_counts_as_delivered(
    session: aiohttp.ClientSession, inbox: tuple[MerchantInbox, str], status: int
) -> None:
    receiver, base = inbox
    receiver.webhook_answers.append(status)

    outcome = await webhook(session, base).deliver(alert("webhook"))

    assert outcome == Delivered(f"HTTP {status} from Google Apps Script")
    assert len(receiver.webhooks) == 1  # not followed: doPost already ran


@pytest.mark.parametrize(("status", "transient"), [(503, True), (500, True), (410, False)])
async def test_other_answers_fail_and_only_gone_is_final(
    session: aiohttp.ClientSession,
    inbox: tuple[MerchantInbox, str],
    status: int,
    transient: bool,
) -> None:
    receiver, base = inbox
    receiver.webhook_answers.append(status)
    with pytest.raises(ChannelError) as failure:
        await webhook(session, base).deliver(alert("webhook"))
    assert failure.value.transient is transient


async def test_a_live_shop_refuses_private_addresses(
    session: aiohttp.ClientSession, inbox: tuple[MerchantInbox, str]
) -> None:
    receiver, base = inbox
    for url in (base, base.replace("127.0.0.1", "localhost")):
        channel = webhook(session, url, allow_private=False)
        with pytest.raises(ChannelError, match="private address") as failure:
            await channel.deliver(alert("webhook"))
        await channel.close()
        assert failure.value.transient is False
        assert "MERCHANT_WEBHOOK_ALLOW_PRIVATE=1" in str(failure.value)
    assert receiver.webhooks == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.1.2.3", "169.254.169.254", "::1"])
async def test_the_connection_itself_refuses_private_answers(host: str) -> None:
    # Checked again where aiohttp resolves the name it connects to: a name that answered
    # a public address for the check cannot answer a private one for the connection.
    resolver = PublicAddressesOnly()
    try:
        with pytest.raises(PrivateAddressError):
            await resolver.resolve(host, 443, family=socket.AF_UNSPEC)
        [answer] = await resolver.resolve("8.8.8.8", 443)
        assert answer["host"] == "8.8.8.8"
    finally:
        await resolver.close()


async def test_the_email_names_the_order_the_address_and_its_dashboard_page() -> None:
    smtp = SmtpStandin()
    port = await smtp.start()
    try:
        server = SmtpServer.from_url(f"smtp://shop%40example.com:app-pass@127.0.0.1:{port}")
        channel = EmailChannel(
            server=server,
            to="owner@example.com",
            sender="shop@example.com",
            public_base_url="https://shop.example.com",
        )
        outcome = await channel.deliver(alert("email"))
    finally:
        await smtp.close()

    assert isinstance(outcome, Delivered)
    [email] = smtp.received
    assert email.recipients == ("owner@example.com",)
    assert email.login == "shop@example.com"
    assert email.message["Subject"] == "New paid order ORD-20261202-ABC (₹498.00)"
    text = email.message.get_content()
    assert "2 × Masala Chai (₹249.00)" in text
    assert "12 MG Road, Bengaluru 560038" in text
    assert "https://shop.example.com/admin/orders/ORD-20261202-ABC" in text


def test_smtp_urls_choose_how_to_encrypt() -> None:
    starttls = SmtpServer.from_url("smtp://u:p@smtp.gmail.com:587")
    implicit = SmtpServer.from_url("smtps://u:p@smtp.gmail.com")
    local = SmtpServer.from_url("smtp://localhost:2525")
    assert (starttls.port, starttls.starttls, starttls.implicit_tls) == (587, True, False)
    assert (implicit.port, implicit.starttls, implicit.implicit_tls) == (465, False, True)
    assert (local.port, local.starttls, local.username) == (2525, None, None)


async def test_telegram_gets_the_order_in_the_merchants_chat(
    session: aiohttp.ClientSession, inbox: tuple[MerchantInbox, str]
) -> None:
    receiver, base = inbox
    channel = TelegramChannel(
        session,
        api_base=f"{base}/telegram",
        token="123:ABC",
        chat_id="-100777",
        public_base_url="https://shop.example.com",
    )

    assert await channel.deliver(alert("telegram")) == Delivered("message 1")

    [message] = receiver.telegram
    assert (message["token"], message["chat_id"]) == ("123:ABC", "-100777")
    assert message["text"].startswith("New paid order ORD-20261202-ABC: ₹498.00")
    assert "Customer: Asha +919812300001" in message["text"]
    assert "123:ABC" not in repr(channel)


@pytest.mark.parametrize(("status", "transient"), [(429, True), (502, True), (400, False)])
async def test_telegram_failures_retry_unless_the_chat_or_token_is_wrong(
    session: aiohttp.ClientSession,
    inbox: tuple[MerchantInbox, str],
    status: int,
    transient: bool,
) -> None:
    receiver, base = inbox
    receiver.telegram_answers.append(status)
    channel = TelegramChannel(
        session, api_base=f"{base}/telegram", token="t", chat_id="1", public_base_url=None
    )
    with pytest.raises(ChannelError) as failure:
        await channel.deliver(alert("telegram"))
    assert failure.value.transient is transient


def test_a_retried_email_keeps_its_message_id_and_a_resend_gets_its_own() -> None:
    channel = EmailChannel(
        server=SmtpServer.from_url("smtp://localhost:2525"),
        to="owner@example.com",
        sender="shop@example.com",
        public_base_url=None,
    )
    first = alert("email")
    retried = dataclasses.replace(first, attempts=3)
    resent = dataclasses.replace(first, resends=1)

    original = channel.message(first)["Message-ID"]
    assert channel.message(retried)["Message-ID"] == original
    again = channel.message(resent)
    assert again["Message-ID"] != original
    assert (again["In-Reply-To"], again["References"]) == (original, original)
