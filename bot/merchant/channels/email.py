"""An email to the merchant through their SMTP server, with aiosmtplib (asyncio-native).

SMTP_URL is `smtp://user:pass@host:587` (STARTTLS, required except to a relay on this
machine) or `smtps://user:pass@host:465` (TLS from the first byte).
"""

from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib

from bot.merchant.channels.base import ChannelError, Delivered, Outcome, alert_data
from bot.merchant.text import dashboard_link, order_summary, subject
from storage.repository import MerchantAlert

SMTP_TIMEOUT_SECONDS = 30
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool

    @classmethod
    def from_url(cls, url: str) -> "SmtpServer":
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL looks like smtp://user:pass@host:587 or smtps://…:465")
        implicit = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit,
        )

    @property
    def starttls(self) -> bool | None:
        """True: insist on STARTTLS (a password never crosses the network in clear); None:
        use it when offered, for a relay on this machine that may not."""
        if self.implicit_tls:
            return False
        return None if self.host in LOCAL_HOSTS else True


def message_id(alert: MerchantAlert, resends: int) -> str:
    """The first send's id, and `.rN` added for the Nth resend."""
    again = f".r{resends}" if resends else ""
    return f"<{alert.webhook_id}.{alert.channel}{again}@whatsapp-shop-bot>"


class EmailChannel:
    name = "email"

    def __init__(
        self, *, server: SmtpServer, to: str, sender: str, public_base_url: str | None
    ) -> None:
        self._server = server
        self._to = to
        self._sender = sender
        self._public_base_url = public_base_url

    def __repr__(self) -> str:
        return f"EmailChannel(host={self._server.host!r}, to={self._to!r})"

    def message(self, alert: MerchantAlert) -> EmailMessage:
        data = alert_data(alert)
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = self._to
        message["Subject"] = subject(alert.event_type, data)
        # Mail clients thread replies and spot duplicates by this id: the same on a retry, so a
        # retry after a lost answer is one email. A resend the merchant asked for is a new
        # email (some servers drop a Message-ID they have seen), threaded under the first.
        first = message_id(alert, 0)
        message["Message-ID"] = message_id(alert, alert.resends)
        if alert.resends:
            message["In-Reply-To"] = first
            message["References"] = first
        link = dashboard_link(self._public_base_url, alert.order_id)
        message.set_content(order_summary(alert.event_type, data, link))
        return message

    async def close(self) -> None:
        """Nothing of its own to close."""

    async def deliver(self, alert: MerchantAlert) -> Outcome:
        server = self._server
        try:
            errors, answer = await aiosmtplib.send(
                self.message(alert),
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.implicit_tls,
                start_tls=server.starttls,
                timeout=SMTP_TIMEOUT_SECONDS,
            )
        except aiosmtplib.SMTPAuthenticationError as error:
            raise ChannelError(f"SMTP login refused: {error.code}", transient=False) from None
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise ChannelError(f"recipient refused: {error}", transient=False) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise ChannelError(f"SMTP: {type(error).__name__}: {error}", transient=True) from None
        if errors:
            raise ChannelError(f"recipient refused: {errors}", transient=False)
        return Delivered(answer[:200])
