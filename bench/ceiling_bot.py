"""The smallest possible WhatsApp bot, as the ceiling of what this machine can do with aiohttp.

    python -m bench.ceiling_bot --port 8090 --graph http://127.0.0.1:9100/v25.0

It verifies the signature, parses the body, answers 200, then sends one text reply per message
to the Graph stand-in. Nothing is stored, nothing is retried: the real bot does far more per
message, and its rate as a share of this one's is what the benchmark reports.

With `--read-receipt` it also marks each message read with the typing indicator, the one extra
Graph call per message the bot makes by default (READ_RECEIPTS, bot/whatsapp/receipts.py): the
same body as the bot's `mark_read(wamid, typing=True)`, started as its own task beside the
reply, as the bot does. The efficiency phase compares the bot with receipts on against this.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import sys
from collections.abc import AsyncIterator, Coroutine, Sequence
from typing import Any

import aiohttp
from aiohttp import web

from bench.standins import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, new_loop

SESSION: web.AppKey[aiohttp.ClientSession] = web.AppKey("session", aiohttp.ClientSession)
URL: web.AppKey[str] = web.AppKey("url", str)
TASKS: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("tasks", set)
READ_RECEIPT: web.AppKey[bool] = web.AppKey("read_receipt", bool)


async def receive(request: web.Request) -> web.Response:
    raw = await request.read()
    header = request.headers.get("X-Hub-Signature-256", "")
    expected = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(header.encode(), expected.encode()):
        return web.json_response({"error": "invalid signature"}, status=403)
    try:
        body = json.loads(raw)
        messages = [
            (message["from"], message["id"])
            for entry in body["entry"]
            for change in entry["changes"]
            for message in change["value"].get("messages", [])
        ]
    except (ValueError, LookupError, TypeError):
        return web.json_response({"error": "malformed"}, status=400)
    app = request.app
    for sender, wamid in messages:
        if app[READ_RECEIPT]:
            _start(app, _post(app, read_receipt(wamid)))
        _start(app, _post(app, reply(sender)))
    return web.json_response({"status": "ok"})


def reply(to: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": "Hello from the ceiling bot"},
    }


def read_receipt(wamid: str) -> dict[str, Any]:
    """What the bot's `mark_read(wamid, typing=True)` sends (bot/whatsapp/render.py)."""
    return {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": wamid,
        "typing_indicator": {"type": "text"},
    }


def _start(app: web.Application, call: Coroutine[Any, Any, None]) -> None:
    tasks = app[TASKS]
    task = asyncio.get_running_loop().create_task(call)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


async def _post(app: web.Application, payload: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {ACCESS_TOKEN}"}
    try:
        async with app[SESSION].post(app[URL], json=payload, headers=headers) as response:
            await response.read()
    except (aiohttp.ClientError, TimeoutError):
        pass


def build_app(graph_base: str, *, read_receipt: bool = False) -> web.Application:
    app = web.Application(client_max_size=3 * 1024 * 1024)
    app[URL] = f"{graph_base.rstrip('/')}/{PHONE_NUMBER_ID}/messages"
    app[TASKS] = set()
    app[READ_RECEIPT] = read_receipt

    async def session(app: web.Application) -> AsyncIterator[None]:
        connector = aiohttp.TCPConnector(limit=256, limit_per_host=128)
        async with aiohttp.ClientSession(connector=connector) as client:
            app[SESSION] = client
            yield

    app.cleanup_ctx.append(session)
    app.router.add_post("/webhooks/whatsapp", receive)
    app.router.add_get("/healthz", _ok)
    return app


async def _ok(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling_bot", description=__doc__)
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--graph", required=True, help="Graph base URL, version included")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    parser.add_argument(
        "--read-receipt",
        action="store_true",
        help="mark each message read with the typing indicator, as the bot does by default",
    )
    args = parser.parse_args(argv)
    loop = new_loop() if args.uvloop else asyncio.new_event_loop()
    web.run_app(
        build_app(args.graph, read_receipt=args.read_receipt),
        host="127.0.0.1",
        port=args.port,
        print=None,
        access_log=None,
        loop=loop,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
