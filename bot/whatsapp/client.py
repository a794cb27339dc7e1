"""The Cloud API send client: one POST per call, typed errors, no retries.

Retrying belongs to the outbox worker (see bot/retry.py), which knows how long a message may
wait; a retry loop hidden in here would hold a worker and hide failures from it.
"""

from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson

from bot.whatsapp.errors import (
    UnexpectedResponse,
    WhatsAppUnavailable,
    error_from_response,
)
from bot.whatsapp.render import render_mark_read


class WhatsAppClient:
    """Sends messages from one business phone number.

    The session is the app's shared `aiohttp.ClientSession` (it carries the timeouts); this
    class never closes it. `api_base` includes the Graph version, e.g.
    `https://graph.facebook.com/v25.0`.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_base: str,
        phone_number_id: str,
        access_token: str,
        *,
        timeout: aiohttp.ClientTimeout | None = None,
    ) -> None:
        self._session = session
        self._url = f"{api_base.rstrip('/')}/{phone_number_id}/messages"
        self._headers = {
            "Authorization": f"Bearer {access_token}",
            "Content-Type": "application/json",
        }
        self._timeout = timeout

    def __repr__(self) -> str:
        # Spelled out so the token in the headers never reaches a log or a traceback.
        return f"WhatsAppClient(url={self._url!r})"

    async def send(self, payload: Mapping[str, Any]) -> str:
        """POST a rendered message; returns its wamid (accepted by Meta, not yet delivered).

        Raises a `WhatsAppError` subclass; check `is_transient` before retrying.
        """
        status, body = await self._post(payload)
        if not 200 <= status < 300:
            raise error_from_response(status, body)
        return _wamid(status, body)

    async def mark_read(self, wamid: str, *, typing: bool = False) -> None:
        """Mark an inbound message as read, and with `typing` show the typing indicator.
        Same errors as `send`."""
        status, body = await self._post(render_mark_read(wamid, typing=typing))
        if not 200 <= status < 300:
            raise error_from_response(status, body)

    async def _post(self, payload: Mapping[str, Any]) -> tuple[int, bytes]:
        kwargs: dict[str, Any] = {"data": _json_body(payload), "headers": self._headers}
        if self._timeout is not None:
            kwargs["timeout"] = self._timeout
        try:
            async with self._session.post(self._url, **kwargs) as response:
                return response.status, await response.read()
        except TimeoutError:
            raise WhatsAppUnavailable("timed out waiting for the Graph API") from None
        except aiohttp.ClientError as error:
            # Only the class and message: the request info on some errors carries our headers.
            reason = f"{type(error).__name__}: {error}"
            raise WhatsAppUnavailable(f"cannot reach the Graph API ({reason})") from None


def _json_body(payload: Mapping[str, Any]) -> bytes:
    """The body as compact UTF-8 JSON: orjson rather than aiohttp's `json=` (json.dumps), one
    body per message sent, in a tenth of the time. (orjson refuses lone surrogates; pydantic
    already refuses them in every field of an outgoing message.)"""
    return orjson.dumps(payload if isinstance(payload, dict) else dict(payload))


def _wamid(status: int, body: bytes) -> str:
    try:
        wamid = orjson.loads(body)["messages"][0]["id"]
    except (ValueError, LookupError, TypeError):
        wamid = None
    if not isinstance(wamid, str) or not wamid:
        raise UnexpectedResponse(None, "success answer without a message id", None, status)
    return wamid
