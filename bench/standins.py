"""Minimal Graph API and Razorpay stand-ins that record *when* things arrive, for the benchmark.

    python -m bench.standins --port 9100 [--graph-error-rate 0.3 --graph-429-rate 0.1
        --graph-latency 2 --razorpay-error-rate 0.2 --razorpay-timeout-after-create 0.2]

The sandbox stand-ins (bot/sandbox/standins.py) validate every Cloud API limit and feed a chat
page; this one does as little as possible per request, so that on a 2-core machine it costs the
bot little CPU, and it keeps a time stamp (`time.monotonic()`, CLOCK_MONOTONIC, comparable
across processes) for every accepted message, which the benchmark needs for reply latency.

Graph:     POST /v25.0/{phone_number_id}/messages
Razorpay:  POST /v1/payment_links, GET /v1/payment_links?reference_id=, GET /v1/payment_links/{id},
           POST /v1/payment_links/{id}/cancel
Benchmark: GET /bench/arrivals?since=N[&bodies=1], GET /bench/links, GET /bench/stats,
           POST /bench/reset, POST /bench/faults (JSON with any of the fault knobs)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

try:  # orjson is optional: it only makes the stand-in cheaper
    import orjson

    def _loads(raw: bytes) -> Any:
        return orjson.loads(raw)

    def _dumps(value: Any) -> bytes:
        return orjson.dumps(value)

except ImportError:  # pragma: no cover - the bench extra installs it

    def _loads(raw: bytes) -> Any:
        return json.loads(raw)

    def _dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()


ACCESS_TOKEN = "EAAG-bench-token"  # noqa: S105 - loopback stand-in
PHONE_NUMBER_ID = "100200300400500"
APP_SECRET = "bench-app-secret"  # noqa: S105 - loopback stand-in
VERIFY_TOKEN = "bench-verify"  # noqa: S105 - loopback stand-in
KEY_ID = "rzp_test_bench"
KEY_SECRET = "bench-key-secret"  # noqa: S105 - loopback stand-in
WEBHOOK_SECRET = "bench-webhook-secret"  # noqa: S105 - loopback stand-in


@dataclass
class Faults:
    graph_error_rate: float = 0.0  # HTTP 500, code 131000
    graph_429_rate: float = 0.0  # HTTP 429, code 130429
    graph_latency: float = 0.0  # seconds before every Graph answer
    razorpay_error_rate: float = 0.0  # HTTP 500 on create, nothing created
    razorpay_timeout_after_create: float = 0.0  # create, then answer after `razorpay_hang`
    razorpay_hang: float = 30.0


@dataclass
class State:
    faults: Faults
    rng: random.Random
    # (monotonic time, recipient, raw body) per accepted Graph message, in arrival order
    arrivals: list[tuple[float, str, bytes]] = field(default_factory=list)
    graph_attempts: int = 0
    graph_reads: int = 0  # read receipts (with the typing indicator): answered, not arrivals
    graph_faults: dict[str, int] = field(default_factory=lambda: {"500": 0, "429": 0})
    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_reference: dict[str, str] = field(default_factory=dict)
    razorpay_creates: int = 0
    razorpay_faults: dict[str, int] = field(default_factory=lambda: {"500": 0, "timeout": 0})
    ids: itertools.count[int] = field(default_factory=itertools.count)


STATE: web.AppKey[State] = web.AppKey("state", State)


def _graph_error(code: int, status: int) -> web.Response:
    body = {"error": {"message": "bench fault", "type": "OAuthException", "code": code}}
    return web.Response(body=_dumps(body), status=status, content_type="application/json")


async def graph_messages(request: web.Request) -> web.Response:
    state = request.app[STATE]
    raw = await request.read()
    faults = state.faults
    if faults.graph_latency:
        await asyncio.sleep(faults.graph_latency)
    if b'"read"' in raw and _loads(raw).get("status") == "read":
        # A read receipt (with the typing indicator): best-effort, not a reply to measure.
        state.graph_reads += 1
        return web.Response(body=b'{"success":true}', content_type="application/json")
    state.graph_attempts += 1
    if faults.graph_error_rate or faults.graph_429_rate:
        draw = state.rng.random()
        if draw < faults.graph_error_rate:
            state.graph_faults["500"] += 1
            return _graph_error(131000, 500)
        if draw < faults.graph_error_rate + faults.graph_429_rate:
            state.graph_faults["429"] += 1
            return _graph_error(130429, 429)
    body = _loads(raw)
    recipient = body.get("to") or body.get("recipient") or ""
    state.arrivals.append((time.monotonic(), recipient, raw))
    wamid = f"wamid.bench{next(state.ids)}"
    answer = b'{"messaging_product":"whatsapp","messages":[{"id":"' + wamid.encode() + b'"}]}'
    return web.Response(body=answer, content_type="application/json")


def _rzp_error(status: int, description: str, code: str = "BAD_REQUEST_ERROR") -> web.Response:
    body = {"error": {"code": code, "description": description}}
    return web.Response(body=_dumps(body), status=status, content_type="application/json")


async def create_link(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.razorpay_creates += 1
    body = _loads(await request.read())
    faults = state.faults
    draw = state.rng.random()
    if draw < faults.razorpay_error_rate:
        state.razorpay_faults["500"] += 1
        return _rzp_error(500, "bench fault", "SERVER_ERROR")
    reference = str(body.get("reference_id", ""))
    if reference in state.by_reference:
        return _rzp_error(400, "payment link creation with reference ID already attempted")
    link_id = f"plink_B{next(state.ids):013d}"[:20]
    link = {
        "id": link_id,
        "entity": "payment_link",
        "status": "created",
        "amount": body["amount"],
        "amount_paid": 0,
        "currency": body.get("currency", "INR"),
        "reference_id": reference,
        "description": body.get("description", ""),
        "expire_by": body.get("expire_by", 0),
        "expired_at": 0,
        "cancelled_at": 0,
        "short_url": f"https://rzp.io/rzp/{link_id[-10:]}",
        "notes": body.get("notes") or {},
        "customer": body.get("customer", {}),
        "callback_url": body.get("callback_url", ""),
        "callback_method": body.get("callback_method", ""),
        "created_at": int(time.time()),
        "updated_at": int(time.time()),
    }
    state.links[link_id] = link
    state.by_reference[reference] = link_id
    if draw < faults.razorpay_error_rate + faults.razorpay_timeout_after_create:
        state.razorpay_faults["timeout"] += 1
        await asyncio.sleep(faults.razorpay_hang)  # the bot's client gives up first
    return web.Response(body=_dumps(link), content_type="application/json")


async def list_links(request: web.Request) -> web.Response:
    state = request.app[STATE]
    link_id = state.by_reference.get(request.query.get("reference_id", ""))
    links = [state.links[link_id]] if link_id else []
    return web.Response(
        body=_dumps({"entity": "collection", "count": len(links), "payment_links": links}),
        content_type="application/json",
    )


async def fetch_link(request: web.Request) -> web.Response:
    link = request.app[STATE].links.get(request.match_info["id"])
    if link is None:
        return _rzp_error(400, "The id provided does not exist")
    return web.Response(body=_dumps(link), content_type="application/json")


async def cancel_link(request: web.Request) -> web.Response:
    link = request.app[STATE].links.get(request.match_info["id"])
    if link is None or link["status"] != "created":
        return _rzp_error(400, "cannot cancel this payment link")
    link["status"] = "cancelled"
    return web.Response(body=_dumps(link), content_type="application/json")


async def arrivals(request: web.Request) -> web.Response:
    state = request.app[STATE]
    since = int(request.query.get("since", "0"))
    bodies = request.query.get("bodies") == "1"
    rows = state.arrivals[since:]
    if bodies:
        out = [[t, to, _loads(raw)] for t, to, raw in rows]
    else:
        out = [[t, to] for t, to, _ in rows]
    return web.Response(
        body=_dumps({"next": since + len(rows), "arrivals": out}), content_type="application/json"
    )


async def links(request: web.Request) -> web.Response:
    return web.Response(
        body=_dumps(list(request.app[STATE].links.values())), content_type="application/json"
    )


async def stats(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response(
        {
            "graph_accepted": len(state.arrivals),
            "graph_attempts": state.graph_attempts,
            "graph_reads": state.graph_reads,
            "graph_faults": state.graph_faults,
            "razorpay_creates": state.razorpay_creates,
            "razorpay_links": len(state.links),
            "razorpay_faults": state.razorpay_faults,
        }
    )


async def reset(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.arrivals = []
    state.graph_attempts = 0
    state.graph_reads = 0
    state.graph_faults = {"500": 0, "429": 0}
    return web.json_response({"ok": True})


async def set_faults(request: web.Request) -> web.Response:
    state = request.app[STATE]
    for key, value in (await request.json()).items():
        if not hasattr(state.faults, key):
            return web.json_response({"error": f"unknown fault {key}"}, status=400)
        setattr(state.faults, key, float(value))
    return web.json_response(state.faults.__dict__)


def build_app(faults: Faults, seed: int = 1) -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[STATE] = State(faults=faults, rng=random.Random(seed))
    app.router.add_post("/v25.0/{phone_number_id}/messages", graph_messages)
    app.router.add_post("/v1/payment_links", create_link)
    app.router.add_get("/v1/payment_links", list_links)
    app.router.add_get("/v1/payment_links/{id}", fetch_link)
    app.router.add_post("/v1/payment_links/{id}/cancel", cancel_link)
    app.router.add_get("/bench/arrivals", arrivals)
    app.router.add_get("/bench/links", links)
    app.router.add_get("/bench/stats", stats)
    app.router.add_post("/bench/reset", reset)
    app.router.add_post("/bench/faults", set_faults)
    return app


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (the bench extra has it): the stand-in should cost little."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.standins", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--seed", type=int, default=1)
    for name in Faults.__dataclass_fields__:
        default = getattr(Faults(), name)
        parser.add_argument(f"--{name.replace('_', '-')}", type=float, default=default)
    args = parser.parse_args(argv)
    faults = Faults(**{name: getattr(args, name) for name in Faults.__dataclass_fields__})
    web.run_app(
        build_app(faults, args.seed),
        loop=new_loop(),
        host=args.host,
        port=args.port,
        print=None,
        access_log=None,
        shutdown_timeout=1,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
