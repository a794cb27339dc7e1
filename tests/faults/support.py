"""Shared pieces of the fault suite: a Graph fake that fails at random (seeded), customer
scripts that drive the in-process shop, and a look at the database from outside the app."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.support.fakes import FakeGraph, graph_error
from tests.support.harness import Shop, button_ids, text_of

ADDRESS = "12 MG Road, Indiranagar, Bengaluru 560038"
PAY_PREFIX = "redirect_to_payment:"
TABLES = ("customers", "events", "orders", "order_status_history", "outbox", "jobs")


@dataclass
class FlakyGraph(FakeGraph):
    """Answers 500 (code 131000) with probability `error_rate`, 429 (code 130429) with
    `rate_limit_rate`, and waits `latency` seconds before every answer. Only accepted messages
    are recorded in `sent`, in the order they were accepted; read receipts in `reads`."""

    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    latency: float = 0.0
    seed: int = 7
    failures: dict[str, int] = field(default_factory=lambda: {"500": 0, "429": 0})
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)  # noqa: S311 - fault injection, not secrets

    async def _messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.latency:
            await asyncio.sleep(self.latency)
        if body.get("status") == "read":
            # Read receipts are slow here too, but draw no faults: the faults stay where they
            # were for the replies (their failures are tests/whatsapp/test_read_receipts.py's).
            self.reads.append(body)
            return web.json_response({"success": True})
        self.attempts += 1
        draw = self._rng.random()
        if draw < self.error_rate:
            self.failures["500"] += 1
            canned = graph_error(131000, status=500, message="unknown error")
            return web.json_response(canned.body, status=canned.status)
        if draw < self.error_rate + self.rate_limit_rate:
            self.failures["429"] += 1
            canned = graph_error(130429, status=429, message="rate limit hit")
            return web.json_response(canned.body, status=canned.status)
        self.sent.append(body)
        recipient = body.get("to") or body.get("recipient")
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": recipient, "wa_id": recipient}],
                "messages": [{"id": f"wamid.out{len(self.sent)}"}],
            }
        )


def pay_now_order_id(message: dict[str, Any]) -> str | None:
    if message.get("type") != "interactive":
        return None
    ids = [b for b in button_ids_or_empty(message) if b.startswith(PAY_PREFIX)]
    return ids[0][len(PAY_PREFIX) :] if ids else None


def button_ids_or_empty(message: dict[str, Any]) -> list[str]:
    try:
        return list(button_ids(message).values())
    except (KeyError, TypeError):
        return []


def summaries(shop: Shop, phone: str) -> list[str]:
    """Order ids of every order summary (Pay now) the customer received, in order."""
    found = [pay_now_order_id(m) for m in shop.replies(phone)]
    return [order_id for order_id in found if order_id]


def confirmations(shop: Shop, phone: str) -> int:
    return sum(1 for m in shop.replies(phone) if text_of(m).startswith("✅"))


async def each(phones: list[str], step: Any) -> None:
    """Run `step(phone)` for every customer at once, then wait for the shop to settle."""
    responses = await asyncio.gather(*(step(phone) for phone in phones))
    assert all(r.status == 200 for r in responses), [r.status for r in responses]


def row_counts(database: Path) -> dict[str, int]:
    """Rows per table, read from outside the app (WAL: sees every committed write)."""
    with sqlite3.connect(database) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608 - fixed names
