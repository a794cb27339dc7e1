"""A signed webhook to the merchant's own tools (Google Sheets, Zapier, n8n, their server),
following Standard Webhooks: `webhook-id` (the same on every attempt), `webhook-timestamp`
and `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`. The spec's
reference package signs, so a receiver verifying with it (or any port of it) agrees.

Never to a private, loopback or link-local address in live mode unless the merchant allows it
(MERCHANT_WEBHOOK_ALLOW_PRIVATE=1): a URL pointing inside the host's network would otherwise
let whoever sets it probe that network. The host is checked before each attempt (with a clear
reason), and the connection itself goes through a resolver that refuses private addresses, so
a name that resolves to a public address for the check and a private one for the connection
(DNS rebinding) still cannot reach inside.
"""

import asyncio
import ipaddress
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from standardwebhooks.webhooks import Webhook

from bot.merchant.channels.base import ChannelError, Delivered, Outcome
from storage.repository import MerchantAlert

WEBHOOK_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)  # the spec's 15–30 s
GONE = 410  # the spec: the endpoint asks not to be called again
# Google Apps Script runs doPost on the first hop and answers 302 to a GET-only echo URL:
# re-posting would fail and retrying would add the row twice (merchant notes §4).
APPS_SCRIPT_HOSTS = ("script.google.com", "script.googleusercontent.com")


class PrivateAddressError(OSError):
    """The webhook's host resolved to an address a live shop must not post to."""


class PublicAddressesOnly(AbstractResolver):
    """aiohttp's resolver, refusing any answer with a private address: the connection uses
    exactly the addresses this checked."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        for answer in answers:
            address = ipaddress.ip_address(answer["host"])
            if not _public(address):
                raise PrivateAddressError(f"{host} resolves to {address}, a private address")
        return answers

    async def close(self) -> None:
        await self._inner.close()


class WebhookChannel:
    name = "webhook"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        url: str,
        secret: str,
        allow_private: bool,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """`session` serves a webhook allowed to private addresses; otherwise the channel
        opens its own, whose connections go only to public addresses (see `close`)."""
        self._own_session: aiohttp.ClientSession | None = None
        if not allow_private:
            connector = aiohttp.TCPConnector(resolver=PublicAddressesOnly(), limit_per_host=8)
            session = self._own_session = aiohttp.ClientSession(connector=connector)
        self._session = session
        self._url = url
        self._signer = Webhook(secret)
        self._allow_private = allow_private
        # The receiver checks the timestamp against its own clock: sign with the real time.
        self._wall_clock = wall_clock

    async def deliver(self, alert: MerchantAlert) -> Outcome:
        if not self._allow_private:
            await refuse_private(self._url)
        headers = self.headers(alert.webhook_id, alert.body)
        try:
            async with self._session.post(
                self._url,
                data=alert.body.encode(),
                headers=headers,
                allow_redirects=False,
                timeout=WEBHOOK_TIMEOUT,
            ) as response:
                status = response.status
                location = response.headers.get("Location", "")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ChannelError(
                f"webhook unreachable: {type(error).__name__}", transient=True
            ) from None
        if 200 <= status < 300:
            return Delivered(f"HTTP {status}")
        if status in (302, 303) and _from_apps_script(self._url, location):
            return Delivered(f"HTTP {status} from Google Apps Script")
        raise ChannelError(f"webhook answered HTTP {status}", transient=status != GONE)

    async def close(self) -> None:
        if self._own_session is not None:
            await self._own_session.close()

    def headers(self, webhook_id: str, body: str) -> dict[str, str]:
        at = datetime.fromtimestamp(int(self._wall_clock()), UTC)
        return {
            "content-type": "application/json",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": self._signer.sign(webhook_id, at, body),
        }


def _from_apps_script(url: str, location: str) -> bool:
    hosts = (urlsplit(url).hostname or "", urlsplit(location).hostname or "")
    return any(host in APPS_SCRIPT_HOSTS for host in hosts)


async def refuse_private(url: str) -> None:
    """Raise a permanent `ChannelError` unless every address the URL's host resolves to is
    public."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        raise ChannelError(f"not an http(s) URL: {url!r}", transient=False)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except OSError as error:
        raise ChannelError(f"cannot resolve {host}: {error}", transient=True) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not _public(address):
            raise ChannelError(
                _refusal(f"{host} resolves to {address}, a private address"), transient=False
            )


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_global and not address.is_multicast


def _refusal(problem: str) -> str:
    return f"{problem}; set MERCHANT_WEBHOOK_ALLOW_PRIVATE=1 to deliver inside your own network"
