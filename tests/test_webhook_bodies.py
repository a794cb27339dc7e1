"""Bodies from strangers: refused before reading when unsigned or declared too large, a size
limit per route, a deadline for slow bodies, and a budget of bodies being read at once.

Spoken over raw TCP where the point is what the server does before the body has arrived (the
aiohttp client always sends the whole body first). The waits below are bounds on a test that
would otherwise hang, never measurements: each answer is expected long before them.
"""

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from bot.keys import WEBHOOK_BODIES
from bot.routes.bodies import (
    KIB,
    MIB,
    RAZORPAY_BODIES,
    BodyBudget,
    BodyLimit,
    WebhookBodies,
)
from bot.signatures import sign_meta, sign_razorpay
from flows.catalog import ShopConfig
from tests.support.harness import (
    APP_SECRET,
    WEBHOOK_SECRET,
    Shop,
    running_shop,
    text_of,
    webhook_body,
)

ANSWER_WITHIN = 20.0  # seconds: a bound for a hanging test, not a measurement


@pytest.fixture
async def shop(database_url: str, shop_config: ShopConfig) -> AsyncIterator[Shop]:
    async with running_shop(database_url, shop_config) as running:
        yield running


class RawConnection:
    """One TCP connection to the shop, for requests the aiohttp client cannot make."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, shop: Shop) -> "RawConnection":
        host, port = shop.client.host, shop.client.port
        assert port is not None
        return cls(*await asyncio.open_connection(host, port))

    async def send_head(self, path: str, headers: dict[str, str]) -> None:
        lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def answer(self) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body of the response; status 0 if the server hung up first."""
        async with asyncio.timeout(ANSWER_WITHIN):
            try:
                head = await self.reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return 0, {}, b""
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in header_lines:
                name, _, value = line.partition(":")
                if name:
                    headers[name.lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            return int(status_line.split()[1]), headers, await self.reader.readexactly(length)

    async def closed_by_server(self) -> bool:
        async with asyncio.timeout(ANSWER_WITHIN):
            try:
                return await self.reader.read(1) == b""
            except ConnectionError:
                return True

    def close(self) -> None:
        self.writer.close()


# --- 401 before reading -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/webhooks/whatsapp", "/webhooks/razorpay"])
async def test_an_unsigned_post_is_refused_before_its_body_arrives(shop: Shop, path: str) -> None:
    connection = await RawConnection.open(shop)
    # It declares a large body and sends none of it: the answer must not wait for it.
    await connection.send_head(path, {"Content-Length": str(200 * KIB)})
    status, headers, _ = await connection.answer()
    assert status == 401
    assert headers["connection"] == "close"
    connection.close()


# --- 413 per route --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "header", "declared"),
    [
        ("/webhooks/whatsapp", "X-Hub-Signature-256", 3 * MIB + 1),
        ("/webhooks/razorpay", "X-Razorpay-Signature", 256 * KIB + 1),
    ],
)
async def test_a_body_declared_over_the_routes_limit_is_refused_before_it_arrives(
    shop: Shop, path: str, header: str, declared: int
) -> None:
    connection = await RawConnection.open(shop)
    await connection.send_head(path, {header: "sha256=00", "Content-Length": str(declared)})
    status, _, _ = await connection.answer()
    assert status == 413
    connection.close()


async def test_razorpays_limit_is_256_kib_and_whatsapps_3_mib(shop: Shop) -> None:
    # Razorpay events carry one entity each, a few kilobytes: 300 KiB is no Razorpay event.
    body = b'{"pad":"' + b"x" * (300 * KIB) + b'"}'
    assert (await shop.post_razorpay(body)).status == 413
    assert (await shop.post_whatsapp(body)).status == 400  # read, verified, then malformed


async def test_a_chunked_body_is_cut_off_once_past_the_limit(shop: Shop) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):  # 320 KiB in all, no Content-Length
            yield b" " * (16 * KIB)

    headers = {"X-Razorpay-Signature": "0" * 64}
    response = await shop.client.post("/webhooks/razorpay", data=chunks(), headers=headers)
    assert response.status == 413


# --- the deadline ---------------------------------------------------------------------------------


async def test_a_body_that_trickles_in_too_slowly_gets_408_and_the_connection_closes(
    database_url: str, shop_config: ShopConfig
) -> None:
    slow = BodyLimit(max_bytes=3 * MIB, deadline_seconds=0.5, budget_bytes=16 * MIB)
    bodies = WebhookBodies(whatsapp=BodyBudget(slow), razorpay=BodyBudget(RAZORPAY_BODIES))
    async with running_shop(database_url, shop_config, webhook_bodies=bodies) as shop:
        connection = await RawConnection.open(shop)
        headers = {"X-Hub-Signature-256": "sha256=00", "Content-Length": "1000"}
        await connection.send_head("/webhooks/whatsapp", headers)
        await connection.send(b'{"object":')  # ...and nothing more
        status, _, _ = await connection.answer()
        assert status in (408, 0)  # 408, or at least the connection dropped
        assert await connection.closed_by_server()
        assert bodies.whatsapp.reserved == 0  # its place in the budget is free again


# --- the budget of bodies being read at once ------------------------------------------------------


async def test_past_the_budget_large_bodies_get_503_at_once_and_small_webhooks_still_pass(
    database_url: str, shop_config: ShopConfig
) -> None:
    # A budget of 4 MiB: large bodies may use 3 MiB of it, so one stalled 3 MiB body fills that.
    tight = BodyLimit(max_bytes=3 * MIB, deadline_seconds=60.0, budget_bytes=4 * MIB)
    bodies = WebhookBodies(whatsapp=BodyBudget(tight), razorpay=BodyBudget(RAZORPAY_BODIES))
    async with running_shop(database_url, shop_config, webhook_bodies=bodies) as shop:
        stalled = await RawConnection.open(shop)
        headers = {"X-Hub-Signature-256": "sha256=00", "Content-Length": str(3 * MIB)}
        await stalled.send_head("/webhooks/whatsapp", headers)
        await stalled.send(b"{" * (64 * KIB))
        await until(lambda: shop.app[WEBHOOK_BODIES].whatsapp.reserved == 3 * MIB)

        another = await RawConnection.open(shop)
        headers = {"X-Hub-Signature-256": "sha256=00", "Content-Length": str(1 * MIB)}
        await another.send_head("/webhooks/whatsapp", headers)
        status, answer_headers, _ = await another.answer()  # before sending a byte of it
        assert status == 503
        assert answer_headers["retry-after"].isdigit()

        # The everyday webhook of a few hundred bytes still has its room.
        response = await shop.say("919812300042", "hi")
        assert response.status == 200
        await shop.settle()
        assert "Chai Point" in text_of(shop.last_reply("919812300042"))
        assert bodies.razorpay.reserved == 0  # and the other route never noticed
        stalled.close()
        another.close()
        await until(lambda: shop.app[WEBHOOK_BODIES].whatsapp.reserved == 0)


async def test_signed_webhooks_read_through_the_budget_leave_it_empty(shop: Shop) -> None:
    body = webhook_body("919812300043", "Asha", [])
    headers = {"X-Hub-Signature-256": sign_meta(body, APP_SECRET)}
    assert (await shop.client.post("/webhooks/whatsapp", data=body, headers=headers)).status == 200
    signed = {"X-Razorpay-Signature": sign_razorpay(b"{}", WEBHOOK_SECRET)}
    assert (await shop.client.post("/webhooks/razorpay", data=b"{}", headers=signed)).status == 400
    budgets = shop.app[WEBHOOK_BODIES]
    assert (budgets.whatsapp.reserved, budgets.razorpay.reserved) == (0, 0)


async def until(condition: Callable[[], bool], rounds: int = 2000) -> None:
    """Yield to the server until `condition()` holds (a state, not a time)."""
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the server never reached the expected state")
