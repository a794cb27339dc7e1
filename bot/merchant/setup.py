"""Which merchant channels this shop has, from the settings: each one optional."""

import aiohttp

from bot.clock import Clock
from bot.merchant.channels.base import Channel
from bot.merchant.channels.email import EmailChannel, SmtpServer
from bot.merchant.channels.telegram import TelegramChannel
from bot.merchant.channels.webhook import WebhookChannel
from bot.merchant.channels.whatsapp import OwnerWhatsAppChannel, owner_channel_name
from bot.settings import Mode, Settings
from bot.whatsapp.client import WhatsAppClient
from storage.repository import Store


def merchant_channels(
    settings: Settings,
    session: aiohttp.ClientSession,
    store: Store,
    whatsapp: WhatsAppClient,
    clock: Clock,
) -> list[Channel]:
    channels: list[Channel] = []
    base = settings.public_base_url
    if settings.merchant_webhook_url and settings.merchant_webhook_secret:
        channels.append(
            WebhookChannel(
                session,
                url=settings.merchant_webhook_url,
                secret=settings.merchant_webhook_secret.get_secret_value(),
                # The sandbox's receiver runs on this machine; a live shop's must be public.
                allow_private=settings.merchant_webhook_allow_private
                or settings.mode is Mode.SANDBOX,
            )
        )
    if settings.merchant_email and settings.smtp_url:
        channels.append(
            EmailChannel(
                server=SmtpServer.from_url(settings.smtp_url.get_secret_value()),
                to=settings.merchant_email,
                sender=settings.smtp_from or settings.merchant_email,
                public_base_url=base,
            )
        )
    if settings.telegram_bot_token and settings.telegram_chat_id:
        channels.append(
            TelegramChannel(
                session,
                api_base=settings.telegram_api_base,
                token=settings.telegram_bot_token.get_secret_value(),
                chat_id=settings.telegram_chat_id,
                public_base_url=base,
            )
        )
    channels.extend(
        OwnerWhatsAppChannel(
            phone=phone, store=store, client=whatsapp, clock=clock, public_base_url=base
        )
        for phone in settings.owner_whatsapp
    )
    return channels


def alert_channel_names(settings: Settings) -> tuple[str, ...]:
    """The names `merchant_channels` gives its channels, without opening any: what a command
    that acts on orders queues deliveries on, for the bot's alert worker to send."""
    names: list[str] = []
    if settings.merchant_webhook_url and settings.merchant_webhook_secret:
        names.append(WebhookChannel.name)
    if settings.merchant_email and settings.smtp_url:
        names.append(EmailChannel.name)
    if settings.telegram_bot_token and settings.telegram_chat_id:
        names.append(TelegramChannel.name)
    names.extend(owner_channel_name(phone) for phone in settings.owner_whatsapp)
    return tuple(names)
