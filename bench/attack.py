"""Hostile clients for the benchmark: slow bodies from strangers, and hostile signed webhooks.

`start_slow_bodies` runs in a forked process of its own (so its busy loop never delays the
probes that measure the bot): it keeps `connections` connections open, each declaring a 3 MiB
body with a made-up signature, sending all of it but the last byte (64 KiB every 40 ms), then
stalling. Whenever the bot drops one (503 at once, 408 at the deadline), that slot connects
again a second later. Before this issue, the same attack held every byte of every body.

`Probes` run in the benchmark's own process at the same time: /healthz every 20 ms, a signed
"hi" from a new customer every 100 ms, and the bot's RSS every 50 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench import payloads, procs
from bench.loadgen import _new_loop

DECLARED = 3 * 1024 * 1024
CHUNK = 64 * 1024
CHUNK_EVERY_SECONDS = 0.04  # ~1.6 MB/s a connection: the whole body in 2 s
RECONNECT_AFTER_SECONDS = 1.0


async def _one_stalled_body(host: str, port: int, tally: Counter[str], stop: float) -> None:
    head = (
        f"POST /webhooks/whatsapp HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"X-Hub-Signature-256: sha256={'0' * 64}\r\nContent-Length: {DECLARED}\r\n\r\n"
    ).encode()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        tally["connect_failed"] += 1
        await asyncio.sleep(0.05)
        return
    tally["opened"] += 1
    answered = asyncio.ensure_future(reader.readuntil(b"\r\n"))
    try:
        writer.write(head)
        sent = 0
        while sent < DECLARED - 1 and not answered.done() and time.monotonic() < stop:
            piece = min(CHUNK, DECLARED - 1 - sent)
            writer.write(b" " * piece)
            await writer.drain()
            sent += piece
            await asyncio.sleep(CHUNK_EVERY_SECONDS)  # slow, not a bandwidth flood
        tally["bytes_sent"] += sent
        # Stall: hold the connection until the bot answers or closes it, or the attack ends.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(answered), max(0.0, stop - time.monotonic()))
        if answered.done() and not answered.cancelled() and answered.exception() is None:
            status = answered.result().split(b" ")[1].decode()
            tally[f"answered_{status}"] += 1
            # The bot may keep the socket a while to discard the rest; wait for its close.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(reader.read(), max(0.0, stop - time.monotonic()))
        elif answered.done():
            tally["closed_without_answer"] += 1
        else:
            tally["still_held_at_end"] += 1
    except (ConnectionError, asyncio.IncompleteReadError, OSError):
        tally["closed_by_bot"] += 1
    finally:
        answered.cancel()
        writer.close()


async def _keep_attacking(host: str, port: int, connections: int, seconds: float) -> dict[str, int]:
    tally: Counter[str] = Counter()
    stop = time.monotonic() + seconds

    async def slot() -> None:
        while time.monotonic() < stop:
            await _one_stalled_body(host, port, tally, stop)
            # Dropped: come back a second later (slowhttptest-like pacing; at most
            # `connections` new connections a second in all).
            await asyncio.sleep(RECONNECT_AFTER_SECONDS)

    await asyncio.gather(*(slot() for _ in range(connections)))
    return dict(tally)


def _attacker(
    host: str, port: int, connections: int, seconds: float, out: multiprocessing.Queue[Any]
) -> None:
    loop = _new_loop()
    try:
        out.put(loop.run_until_complete(_keep_attacking(host, port, connections, seconds)))
    finally:
        loop.close()


def start_slow_bodies(
    host: str, port: int, connections: int, seconds: float
) -> tuple[multiprocessing.process.BaseProcess, multiprocessing.Queue[Any]]:
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue[Any] = ctx.Queue()
    proc = ctx.Process(target=_attacker, args=(host, port, connections, seconds, out), daemon=True)
    proc.start()
    return proc, out


@dataclass
class Probes:
    """What a merchant would notice while under attack: health checks, customers, memory."""

    bot_url: str
    bot_pid: int
    healthz_ms: list[float] = field(default_factory=list)
    healthz_failed: int = 0
    webhook_ms: list[float] = field(default_factory=list)
    webhook_status: Counter[int] = field(default_factory=Counter)
    phones: list[str] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)

    async def run(self, seconds: float) -> None:
        stop = time.monotonic() + seconds
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await asyncio.gather(
                self._health(session, stop), self._customers(session, stop), self._memory(stop)
            )

    async def _health(self, session: aiohttp.ClientSession, stop: float) -> None:
        while time.monotonic() < stop:
            started = time.monotonic()
            try:
                async with session.get(f"{self.bot_url}/healthz") as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if ok:
                self.healthz_ms.append((time.monotonic() - started) * 1000)
            else:
                self.healthz_failed += 1
            await asyncio.sleep(0.02)

    async def _customers(self, session: aiohttp.ClientSession, stop: float) -> None:
        n = 0
        while time.monotonic() < stop:
            phone = f"7{n:011d}"
            n += 1
            body = payloads.whatsapp_body(
                phone,
                "Under attack",
                [payloads.message(phone, f"wamid.atk.{n}", payloads.text("hi"))],
            )
            started = time.monotonic()
            try:
                async with session.post(
                    f"{self.bot_url}/webhooks/whatsapp",
                    data=body,
                    headers=payloads.whatsapp_headers(body),
                ) as response:
                    await response.read()
                    self.webhook_status[response.status] += 1
            except (aiohttp.ClientError, TimeoutError):
                self.webhook_status[0] += 1
            self.webhook_ms.append((time.monotonic() - started) * 1000)
            self.phones.append(phone)
            await asyncio.sleep(0.1)

    async def _memory(self, stop: float) -> None:
        while time.monotonic() < stop:
            self.rss_kib.append(procs.memory(self.bot_pid).get("VmRSS", 0))
            await asyncio.sleep(0.05)


# --- hostile signed webhooks ------------------------------------------------------------------

MAX_BODY = 3 * 1024 * 1024


def _fill(make: Any, low: int = 1, high: int = 2_000_000) -> Any:
    """The largest `make(n)` whose body stays within Meta's 3 MiB, by bisection."""
    while low < high:
        mid = (low + high + 1) // 2
        if len(make(mid)) <= MAX_BODY:
            low = mid
        else:
            high = mid - 1
    return make(low), low


def hostile_bodies(phone_prefix: str) -> dict[str, tuple[str, bytes]]:
    """Signed webhooks at Meta's 3 MiB limit, each from its own customer: name -> (phone, body)."""

    def one(n: int, kind: str) -> bytes:
        phone = f"{phone_prefix}{kind}"
        if kind == "0":
            items = [(f"no-such-product-{i}", 1) for i in range(n)]
            content = payloads.catalog_order(items)
        elif kind == "1":
            content = payloads.catalog_order([("masala-chai-250", 1)] * n)
        elif kind == "2":
            content = payloads.text("ab " * n)
        else:
            content = {
                "type": "location",
                "location": {"latitude": 12.97, "longitude": 77.59, "name": "ab " * n},
            }
        message = payloads.message(phone, f"wamid.hostile.{kind}", content)
        return payloads.whatsapp_body(phone, "Hostile", [message])

    shapes = {
        "catalog order of unknown ids": "0",
        "catalog order of one known id, repeated": "1",
        "text of a million words": "2",
        "location named with a million words": "3",
    }
    found = {}
    for name, kind in shapes.items():
        body, n = _fill(lambda n, kind=kind: one(n, kind))
        found[f"{name} ({n:,})"] = (f"{phone_prefix}{kind}", body)
    return found


async def send_while_probing(
    bot_url: str, body: bytes, probe_every: float = 0.01
) -> tuple[int, float, list[float]]:
    """POST one signed body; poll /healthz until the answer. Returns status, ack ms, probes ms."""
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        health: list[float] = []
        done = asyncio.Event()

        async def probe() -> None:
            while not done.is_set():
                started = time.monotonic()
                async with session.get(f"{bot_url}/healthz") as response:
                    await response.read()
                health.append((time.monotonic() - started) * 1000)
                await asyncio.sleep(probe_every)

        prober = asyncio.ensure_future(probe())
        started = time.monotonic()
        async with session.post(
            f"{bot_url}/webhooks/whatsapp", data=body, headers=payloads.whatsapp_headers(body)
        ) as response:
            await response.read()
            status = response.status
        ack_ms = (time.monotonic() - started) * 1000
        await asyncio.sleep(1.0)  # the step runs after the 200: keep probing through it
        done.set()
        await prober
        return status, ack_ms, health
