"""An open-loop HTTP/1.1 load generator on raw asyncio, cheap enough not to be the bottleneck.

Open loop: request `i` is due at `start + i / rate` whatever happened to the ones before; the
generator never waits for an answer before sending the next. Requests are rendered and signed
up front (whole HTTP messages as bytes), so sending one costs a `transport.write` and reading
its answer a few bytes of parsing. Each keep-alive connection carries one request at a time;
new connections open when all are busy (up to `max_conns`), beyond that requests wait in a
backlog (which shows up as generator lag).

Latencies are measured from the *scheduled* time, so a slow server cannot hide its queueing
behind a generator that fell behind (coordinated omission). The generator's own lag
(actual write time − scheduled time) is reported next to them.

Several bot processes: each request goes to one of their ports drawn at random, the way
Heroku's router picks a dyno for every request independently (`spread`). Each port has its
own keep-alive connections, so a process that dies only stalls the requests sent to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing
import random
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

NAN = math.nan


def render_request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def spread(n: int, ports: Sequence[int], seed: int = 0) -> list[int]:
    """The port each of `n` requests goes to: drawn at random for every request, like
    Heroku's router (no stickiness: one customer's messages land on any process)."""
    if not ports:
        raise ValueError("no port to send to")
    rng = random.Random(seed)
    return [rng.choice(ports) for _ in range(n)]


@dataclass
class Timings:
    """Per request, in `time.monotonic()` seconds (NaN when it never happened)."""

    scheduled: list[float]
    sent: list[float]
    acked: list[float]
    status: list[int]  # 0: no answer (connection lost, or still open at the deadline)
    port: list[int]  # where the request was sent
    started: float = 0.0
    finished: float = 0.0
    errors: int = 0

    @classmethod
    def empty(cls, n: int) -> Timings:
        return cls([NAN] * n, [NAN] * n, [NAN] * n, [0] * n, [0] * n)

    def merge(self, index: Sequence[int], part: Timings) -> None:
        for j, i in enumerate(index):
            self.scheduled[i] = part.scheduled[j]
            self.sent[i] = part.sent[j]
            self.acked[i] = part.acked[j]
            self.status[i] = part.status[j]
            self.port[i] = part.port[j]
        self.errors += part.errors
        self.started = min(self.started or part.started, part.started)
        self.finished = max(self.finished, part.finished)


class _Conn(asyncio.Protocol):
    def __init__(self, gen: _Generator, pool: _Pool) -> None:
        self.gen = gen
        self.pool = pool
        self.transport: Any = None  # uvloop's transports are not asyncio.Transport subclasses
        self.current = -1
        self.buf = bytearray()
        self.need = -1  # total bytes of the response once its head is parsed
        self.status = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def send(self, index: int, raw: bytes) -> None:
        self.current = index
        self.buf.clear()
        self.need = -1
        self.transport.write(raw)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.need < 0:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(self.buf[:head_end]).lower()
            self.status = int(head[9:12])
            at = head.find(b"\r\ncontent-length:")
            length = 0
            if at >= 0:
                end = head.find(b"\r\n", at + 2)
                length = int(head[at + 17 : end if end >= 0 else None])
            self.need = head_end + 4 + length
        if len(self.buf) >= self.need:
            index, self.current = self.current, -1
            self.gen.answered(self, index, self.status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.gen.lost(self)


@dataclass
class _Pool:
    """Keep-alive connections to one port, and the requests waiting for one of them."""

    port: int
    max_conns: int
    idle: list[_Conn] = field(default_factory=list)
    conns: set[_Conn] = field(default_factory=set)
    backlog: deque[int] = field(default_factory=deque)
    opening: int = 0


@dataclass
class _Generator:
    host: str
    requests: Sequence[bytes]
    timings: Timings
    pools: dict[int, _Pool]
    outstanding: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)
    all_scheduled: bool = False
    openers: set[asyncio.Task[None]] = field(default_factory=set)

    async def open(self, pool: _Pool) -> None:
        pool.opening += 1
        try:
            loop = asyncio.get_running_loop()
            _, conn = await loop.create_connection(lambda: _Conn(self, pool), self.host, pool.port)
        except OSError:
            self.timings.errors += 1
            return
        finally:
            pool.opening -= 1
        pool.conns.add(conn)
        self.release(conn)

    def release(self, conn: _Conn) -> None:
        pool = conn.pool
        if pool.backlog:
            self.write(conn, pool.backlog.popleft())
        else:
            pool.idle.append(conn)

    def write(self, conn: _Conn, index: int) -> None:
        self.timings.sent[index] = time.monotonic()
        conn.send(index, self.requests[index])

    def submit(self, index: int) -> None:
        self.outstanding += 1
        pool = self.pools[self.timings.port[index]]
        if pool.idle:
            self.write(pool.idle.pop(), index)
            return
        pool.backlog.append(index)
        # A few connects at a time: a storm of SYNs overflows the server's listen backlog
        # (aiohttp's default is 128) and the kernel then retries them after 1 s, 3 s, …
        if pool.opening < 4 and len(pool.conns) + pool.opening < pool.max_conns:
            task = asyncio.get_running_loop().create_task(self.open(pool))
            self.openers.add(task)
            task.add_done_callback(self.openers.discard)

    def answered(self, conn: _Conn, index: int, status: int) -> None:
        self.timings.acked[index] = time.monotonic()
        self.timings.status[index] = status
        self.outstanding -= 1
        self.release(conn)
        self._check_done()

    def lost(self, conn: _Conn) -> None:
        pool = conn.pool
        pool.conns.discard(conn)
        if conn in pool.idle:
            pool.idle.remove(conn)
        if conn.current >= 0:
            self.outstanding -= 1
            self.timings.errors += 1
            conn.current = -1
            self._check_done()

    def _check_done(self) -> None:
        if self.all_scheduled and self.outstanding == 0:
            self.done.set()


async def run_open_loop(
    host: str,
    ports: Sequence[int],
    requests: Sequence[bytes],
    rate: float,
    *,
    seed: int = 0,
    start_at: float | None = None,
    warm_conns: int = 256,
    max_conns: int = 2000,
    drain_seconds: float = 30.0,
) -> Timings:
    """Send `requests` at `rate` per second from `start_at` (monotonic), each to one of
    `ports` at random (`spread` with `seed`); wait for the answers for at most
    `drain_seconds` after the last one is due. Connections are shared out among the ports."""
    timings = Timings.empty(len(requests))
    timings.port = spread(len(requests), ports, seed)
    per_port = max(1, max_conns // len(set(ports)))
    pools = {port: _Pool(port, per_port) for port in ports}
    gen = _Generator(host, requests, timings, pools)
    warm = min(warm_conns, max_conns) // len(pools)
    for _ in range(0, warm, 16):
        await asyncio.gather(*(gen.open(pool) for pool in pools.values() for _ in range(16)))
    t0 = start_at if start_at is not None else time.monotonic() + 0.05
    timings.started = t0
    for i in range(len(requests)):
        timings.scheduled[i] = t0 + i / rate
    i = 0
    n = len(requests)
    while i < n:
        now = time.monotonic()
        while i < n and timings.scheduled[i] <= now:
            gen.submit(i)
            i += 1
        if i < n:
            await asyncio.sleep(max(0.0, timings.scheduled[i] - time.monotonic()))
    gen.all_scheduled = True
    gen._check_done()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(gen.done.wait(), timeout=drain_seconds)
    timings.finished = time.monotonic()
    for task in list(gen.openers):
        task.cancel()
    await asyncio.gather(*gen.openers, return_exceptions=True)
    for pool in pools.values():
        for conn in list(pool.conns):
            if conn.transport is not None:
                conn.transport.close()
    return timings


def _child(
    host: str,
    ports: Sequence[int],
    requests: Sequence[bytes],
    rate: float,
    seed: int,
    start_at: float,
    max_conns: int,
    drain: float,
    out: multiprocessing.Queue[Timings],
) -> None:
    loop = _new_loop()
    try:
        timings = loop.run_until_complete(
            run_open_loop(
                host,
                ports,
                requests,
                rate,
                seed=seed,
                start_at=start_at,
                max_conns=max_conns,
                drain_seconds=drain,
            )
        )
    finally:
        loop.close()
    out.put(timings)


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run_processes(
    host: str,
    ports: Sequence[int],
    requests: Sequence[bytes],
    rate: float,
    *,
    generators: int = 1,
    seed: int = 0,
    max_conns: int = 2000,
    drain_seconds: float = 30.0,
) -> Timings:
    """Split the schedule round-robin over `generators` forked generator processes, each at
    `rate / generators`, all starting at the same instant; each request goes to one of
    `ports` at random. Call from synchronous code."""
    ctx = multiprocessing.get_context("fork")
    out: multiprocessing.Queue[Timings] = ctx.Queue()
    start_at = time.monotonic() + 0.5 + 0.1 * generators
    parts = [list(range(k, len(requests), generators)) for k in range(generators)]
    procs = []
    for k, index in enumerate(parts):
        mine = [requests[i] for i in index]
        proc = ctx.Process(
            target=_child,
            args=(
                host,
                ports,
                mine,
                rate / generators,
                seed * 1000 + k,
                start_at + k / rate,
                max_conns // generators,
                drain_seconds,
                out,
            ),
            daemon=True,
        )
        proc.start()
        procs.append((proc, index))
    results = [out.get(timeout=len(requests) / rate + drain_seconds + 60) for _ in procs]
    for proc, _ in procs:
        proc.join(timeout=10)
    # Each child's answer says which part it was by its length and start time.
    ordered = sorted(results, key=lambda t: t.started)
    merged = Timings.empty(len(requests))
    for (_, index), part in zip(procs, ordered, strict=True):
        merged.merge(index, part)
    return merged
