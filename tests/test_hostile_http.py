"""Strangers on the internet: whatever arrives over a socket, malformed HTTP included, the log
gets no ERROR line and no traceback. ERROR is for what someone must look at; a client's
broken request is not that, and a stranger who can write ERROR lines can page the merchant.

The real app (sandbox mode, so every route is there) on a loopback port, spoken to over raw
TCP, because aiohttp's client will not send most of these.
"""

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import structlog
from aiohttp import web

from bot.app import create_app
from bot.logging import configure_logging
from bot.sandbox import sandbox_settings
from bot.settings import load_settings
from bot.shop_config import load_shop_config
from storage.migrate import migrate
from tests.conftest import REPO
from tests.support.ports import free_port

CUSTOMER_API = "/sandbox/api/customers/919800000001"
MALFORMED: dict[str, bytes] = {
    "not HTTP at all, second on a connection": (
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nBAD\x00 / HTTP/1.1\r\n\r\n"
    ),
    "a header without a colon": b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    "a bad Content-Length": (
        b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"
    ),
    "a bad chunk": (
        b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"X-Hub-Signature-256: sha256=00\r\n\r\nZZZ\r\nxx\r\n0\r\n\r\n"
    ),
    "a 20 kB header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 20_000 + b"\r\n\r\n",
    "a 20 kB path": b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "bytes that are not UTF-8 in the path": (
        b"GET /payments/callback?razorpay_payment_id=\xff HTTP/1.1\r\nHost: x\r\n\r\n"
    ),
    "an HTTP/2 preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "Content-Length and chunked together": (
        b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    ),
    "a Last-Event-ID int() refuses": (
        f"GET {CUSTOMER_API}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: ²\r\n\r\n"
    ).encode(),
    "unsigned webhook": (
        b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
    ),
    "badly signed webhook with a non-ASCII signature": (
        "POST /webhooks/razorpay HTTP/1.1\r\nHost: x\r\nX-Razorpay-Signature: é\r\n"
        "Content-Length: 2\r\n\r\n{}"
    ).encode("latin-1"),
}
HANGS_UP_MID_BODY = (
    b"POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nX-Hub-Signature-256: sha256=00\r\n"
    b"Content-Length: 100\r\n\r\nabc"
)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


@pytest.fixture
async def port(tmp_path: Path) -> AsyncIterator[int]:
    configure_logging("INFO")
    port = free_port()
    env = {
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        "BOT_CONFIG": str(REPO / "config.toml"),
    }
    settings = sandbox_settings(load_settings(env))
    await migrate(settings.database_url)
    runner = web.AppRunner(create_app(settings, load_shop_config(settings.bot_config)))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield port
    await runner.cleanup()


async def send_raw(port: int, raw: bytes, *, hang_up: bool = False) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        if hang_up:
            writer.close()
            return b""
        # The answer's status line is enough; a stream (the events route) never ends.
        return await asyncio.wait_for(reader.readuntil(b"\r\n"), 10)
    except (ConnectionError, asyncio.IncompleteReadError):
        return b""
    finally:
        writer.close()


def log_records(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


async def test_malformed_requests_from_strangers_write_no_error_and_no_traceback(
    port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    # The hang-up goes first: a dozen round trips later the server has long seen it.
    await send_raw(port, HANGS_UP_MID_BODY, hang_up=True)
    answers = {name: await send_raw(port, raw) for name, raw in MALFORMED.items()}

    assert answers["a header without a colon"].startswith(b"HTTP/1.")
    assert b" 400 " in answers["a bad chunk"]
    assert b" 401 " in answers["unsigned webhook"]
    records = log_records(capsys.readouterr().out)
    loud = [r for r in records if r.get("level") in ("error", "critical") or "exception" in r]
    assert loud == []
    # Still visible, one line each, for whoever looks at warnings.
    assert any("BadHttpMessage" in str(r.get("event")) for r in records)
