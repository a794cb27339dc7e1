"""Posting signed webhooks to the bot over loopback HTTP, retrying briefly like the providers."""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

ATTEMPTS = 3
BACKOFF_SECONDS = (0.25, 1.0)  # before the 2nd and 3rd attempt
TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass(frozen=True, slots=True)
class Delivery:
    ok: bool
    status: int | None  # the bot's last HTTP status; None when it could not be reached
    attempts: int
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "status": self.status,
            "attempts": self.attempts,
            "error": self.error,
        }


def compact_json(payload: object) -> bytes:
    """Compact and ASCII-escaped, the way Meta sends bodies; signatures are over these bytes."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True).encode()


async def post_signed(
    session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
) -> Delivery:
    """POST until a 2xx or `ATTEMPTS` tries. Both providers retry for hours; a short retry is
    enough here to ride out a bot that is still starting."""
    status: int | None = None
    error = ""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json", **headers},
                timeout=TIMEOUT,
            ) as response:
                status = response.status
                if 200 <= status < 300:
                    return Delivery(True, status, attempt)
                error = f"the bot answered HTTP {status}: {(await response.text())[:200]}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            status, error = None, f"could not reach the bot at {url}: {exc!r}"
        if attempt < ATTEMPTS:
            await asyncio.sleep(BACKOFF_SECONDS[attempt - 1])
    return Delivery(False, status, ATTEMPTS, error)
