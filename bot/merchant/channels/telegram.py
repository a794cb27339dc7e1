"""A Telegram message to the merchant's chat through the Bot API's sendMessage: the channel
many small Indian merchants already watch, with no 24-hour window."""

import aiohttp

from bot.merchant.channels.base import ChannelError, Delivered, Outcome, alert_data
from bot.merchant.text import dashboard_link, order_summary
from storage.repository import MerchantAlert

TOO_MANY_REQUESTS = 429


class TelegramChannel:
    name = "telegram"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_base: str,
        token: str,
        chat_id: str,
        public_base_url: str | None,
    ) -> None:
        self._session = session
        self._url = f"{api_base}/bot{token}/sendMessage"
        self._chat_id = chat_id
        self._public_base_url = public_base_url

    def __repr__(self) -> str:  # the token is in the URL: never print it
        return f"TelegramChannel(chat_id={self._chat_id!r})"

    async def close(self) -> None:
        """Nothing of its own to close."""

    async def deliver(self, alert: MerchantAlert) -> Outcome:
        data = alert_data(alert)
        link = dashboard_link(self._public_base_url, alert.order_id)
        payload = {
            "chat_id": self._chat_id,
            "text": order_summary(alert.event_type, data, link),
            "link_preview_options": {"is_disabled": True},
        }
        try:
            async with self._session.post(self._url, json=payload) as response:
                status = response.status
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            # Only the class: aiohttp's error text can carry the URL, and the URL the token.
            raise ChannelError(
                f"Telegram unreachable: {type(error).__name__}", transient=True
            ) from None
        if status == 200 and isinstance(answer, dict) and answer.get("ok") is True:
            message_id = (answer.get("result") or {}).get("message_id")
            return Delivered(f"message {message_id}")
        description = answer.get("description") if isinstance(answer, dict) else None
        # A wrong token or chat (400, 401, 403) stays wrong until the merchant fixes it.
        transient = status == TOO_MANY_REQUESTS or status >= 500
        raise ChannelError(f"Telegram answered {status}: {description}", transient=transient)
