"""A WhatsApp text to one of the shop's owners (OWNER_WHATSAPP). Free text reaches a number
only within 24 hours of its last message to the shop; outside that window the delivery is
skipped with the reason recorded (templates for owners are not part of this)."""

from bot.clock import Clock
from bot.merchant.channels.base import ChannelError, Delivered, Outcome, Skipped, alert_data
from bot.merchant.text import dashboard_link, order_summary
from bot.whatsapp.client import WhatsAppClient
from bot.whatsapp.errors import WhatsAppError
from bot.whatsapp.render import render_message
from flows.messages import SendText
from storage.repository import MerchantAlert, Store

WINDOW_SECONDS = 24 * 3600
CHANNEL_PREFIX = "whatsapp:"


def owner_channel_name(phone: str) -> str:
    """Each owner is a channel of its own: delivered, retried and logged apart."""
    return f"{CHANNEL_PREFIX}{phone}"


class OwnerWhatsAppChannel:
    def __init__(
        self,
        *,
        phone: str,
        store: Store,
        client: WhatsAppClient,
        clock: Clock,
        public_base_url: str | None,
    ) -> None:
        self._phone = phone
        self._store = store
        self._client = client
        self._clock = clock
        self._public_base_url = public_base_url

    @property
    def name(self) -> str:
        return owner_channel_name(self._phone)

    async def close(self) -> None:
        """Nothing of its own to close."""

    async def deliver(self, alert: MerchantAlert) -> Outcome:
        last = await self._store.last_message_from(self._phone)
        now = int(self._clock())
        if last is None or now - last >= WINDOW_SECONDS:
            return Skipped(
                f"+{self._phone} has not written to the shop in the last 24 hours, so "
                "WhatsApp allows no free text to them"
            )
        text = order_summary(
            alert.event_type,
            alert_data(alert),
            dashboard_link(self._public_base_url, alert.order_id),
        )
        payload = render_message(SendText(body=text), phone=self._phone, user_id=None)
        try:
            wamid = await self._client.send(payload)
        except WhatsAppError as error:
            raise ChannelError(str(error), transient=error.is_transient) from None
        return Delivered(wamid)
