"""Reading a webhook body from a stranger: a size limit per route, a deadline, and a cap on the
bytes of bodies being read at once.

Until its whole body is here and its signature checked, a request is anyone's, so until then it
must cost little. The routes answer 401 before reading when the signature header is missing;
then `read_body` takes the body only if it fits the route's limit (else 413), only while the
route's budget of bytes being read has room (else 503 with Retry-After, at once, rather than
buffering), and only as fast as its deadline allows (else 408 and the connection is closed).
150 connections that declared 3 MiB and stalled used to take the process from 87 to 854 MiB.

Each body in flight reserves its declared Content-Length (the route's limit when it declares
none, i.e. chunked), and at least `MIN_RESERVATION`, which stands for what a connection costs
besides its body. Bodies over `SMALL_BODY` may use only three quarters of the budget, so a flood
of large declarations never leaves the everyday webhook of a few kilobytes without room.
"""

import asyncio
import math
from dataclasses import dataclass

from aiohttp import web

from bot.logging import get_logger

log = get_logger(__name__)

KIB = 1024
MIB = 1024 * KIB
MIN_RESERVATION = 16 * KIB
SMALL_BODY = 64 * KIB
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True, slots=True)
class BodyLimit:
    max_bytes: int  # larger bodies answer 413
    deadline_seconds: float  # the whole body must arrive within this, else 408
    budget_bytes: int  # bytes of bodies this route reads at once, else 503

    @property
    def large_budget_bytes(self) -> int:
        """What bodies over SMALL_BODY may use: a quarter stays for small ones."""
        return self.budget_bytes * 3 // 4


# Meta batches up to 1,000 updates in one POST, up to 3 MB; it sends from its data centres, so a
# 3 MiB body takes well under a second. Two of those at once, and 2 MiB for the everyday ones
# (a few KiB each, read in a millisecond: 128 at once at the 16 KiB minimum).
WHATSAPP_BODIES = BodyLimit(max_bytes=3 * MIB, deadline_seconds=10.0, budget_bytes=8 * MIB)
# A Razorpay event carries one payment, link, order or refund: a few kilobytes (the fixtures are
# 1-4 KiB), so 256 KiB leaves ample room for notes and new fields. Razorpay counts a delivery as
# failed without a 2xx within 5 s, so a body still arriving after that is of no use.
RAZORPAY_BODIES = BodyLimit(max_bytes=256 * KIB, deadline_seconds=5.0, budget_bytes=2 * MIB)


@dataclass(slots=True)
class BodyBudget:
    """Bytes of bodies being read at once on one route. Used from the event loop only."""

    limit: BodyLimit
    reserved: int = 0

    def reserve(self, declared: int | None) -> int | None:
        """The bytes reserved for a body of `declared` length, or None when there is no room."""
        size = max(self.limit.max_bytes if declared is None else declared, MIN_RESERVATION)
        ceiling = self.limit.budget_bytes if size <= SMALL_BODY else self.limit.large_budget_bytes
        if self.reserved + size > ceiling:
            return None
        self.reserved += size
        return size

    def release(self, size: int) -> None:
        self.reserved -= size


@dataclass(slots=True)
class WebhookBodies:
    """One budget per webhook route: a flood on one never blocks the other."""

    whatsapp: BodyBudget
    razorpay: BodyBudget

    @classmethod
    def standard(cls) -> "WebhookBodies":
        return cls(whatsapp=BodyBudget(WHATSAPP_BODIES), razorpay=BodyBudget(RAZORPAY_BODIES))


class BodyRefused(Exception):
    """The body was not read; `response` says why. The route returns it as it is."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__(response.status)
        self.response = response


def _closing(status: int, message: str, **headers: str) -> web.Response:
    """An answer after which the connection is not reused: its body was never read."""
    response = web.json_response({"error": message}, status=status, headers=headers)
    response.force_close()
    return response


async def _refuse(request: web.Request, response: web.Response) -> web.StreamResponse:
    """Send `response` now and close the connection without reading the rest of the body.

    Left open, aiohttp would linger for up to 10 s reading and discarding it, and every
    refused connection would pass its body through our memory on the way to the bin: 150
    strangers sending 3 MiB each cost 85 MiB that way, although nothing was kept. Closed,
    whatever they still send stays in the kernel and is dropped there."""
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()
    return response


async def missing_signature(request: web.Request, header: str) -> web.StreamResponse:
    """401 before a byte of the body is read."""
    return await _refuse(request, _closing(401, f"missing {header}"))


async def read_body(request: web.Request, budget: BodyBudget) -> bytes:
    """The whole body within the route's limits. Raises `BodyRefused` with a 413, 503 or 408."""
    limit = budget.limit
    declared = request.content_length
    if declared is not None and declared > limit.max_bytes:
        log.warning("webhook body too large", path=request.path, declared=declared)
        raise BodyRefused(await _refuse(request, _too_large(limit)))
    reserved = budget.reserve(declared)
    if reserved is None:
        log.info("webhook body refused: too many bodies being read", path=request.path)
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        raise BodyRefused(await _refuse(request, _closing(503, "busy, try again", **retry)))
    try:
        async with asyncio.timeout(limit.deadline_seconds):
            body = await _read_within(request, limit)
    except TimeoutError:
        log.warning("webhook body too slow; connection closed", path=request.path)
        body = None
    finally:
        budget.release(reserved)
    if body is None:
        raise BodyRefused(await _refuse(request, _closing(408, "body not received in time")))
    if len(body) > limit.max_bytes:  # chunked, so nothing was declared
        log.warning("webhook body too large", path=request.path, received=len(body))
        raise BodyRefused(await _refuse(request, _too_large(limit)))
    return body


async def _read_within(request: web.Request, limit: BodyLimit) -> bytes:
    """The body, or as soon as it passes the limit, what arrived until then (one byte over)."""
    chunks: list[bytes] = []
    received = 0
    while chunk := await request.content.readany():
        received += len(chunk)
        chunks.append(chunk)
        if received > limit.max_bytes:
            break
    return b"".join(chunks)


def _too_large(limit: BodyLimit) -> web.Response:
    return _closing(413, f"body larger than {math.ceil(limit.max_bytes / KIB)} KiB")
