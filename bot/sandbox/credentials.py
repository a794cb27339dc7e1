"""Fixed fake credentials: the bot and its stand-ins agree on them, and they open nothing real."""

from dataclasses import dataclass
from types import MappingProxyType

from pydantic import SecretStr

from bot.settings import Settings

SANDBOX_CREDENTIALS = MappingProxyType(
    {
        "WHATSAPP_ACCESS_TOKEN": "sandbox-whatsapp-access-token",
        "WHATSAPP_PHONE_NUMBER_ID": "100000000000001",
        "WHATSAPP_APP_SECRET": "sandbox-whatsapp-app-secret",
        "WHATSAPP_VERIFY_TOKEN": "sandbox-whatsapp-verify-token",
        "RAZORPAY_KEY_ID": "rzp_test_SandboxKey0001",
        "RAZORPAY_KEY_SECRET": "sandbox-razorpay-key-secret",
        "RAZORPAY_WEBHOOK_SECRET": "sandbox-razorpay-webhook-secret",
    }
)

# What Meta would put in `metadata` and `entry[].id`; invented, shaped like the real ones.
DISPLAY_PHONE_NUMBER = "919900000000"
WABA_ID = "100000000000000"


@dataclass(frozen=True, slots=True)
class Credentials:
    """The secrets both sides of the sandbox use, as plain strings."""

    access_token: str
    phone_number_id: str
    app_secret: str
    key_id: str
    key_secret: str
    webhook_secret: str

    @classmethod
    def defaults(cls) -> "Credentials":
        creds = SANDBOX_CREDENTIALS
        return cls(
            access_token=creds["WHATSAPP_ACCESS_TOKEN"],
            phone_number_id=creds["WHATSAPP_PHONE_NUMBER_ID"],
            app_secret=creds["WHATSAPP_APP_SECRET"],
            key_id=creds["RAZORPAY_KEY_ID"],
            key_secret=creds["RAZORPAY_KEY_SECRET"],
            webhook_secret=creds["RAZORPAY_WEBHOOK_SECRET"],
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> "Credentials":
        """The values the bot will use; anything unset falls back to the sandbox default, so the
        stand-ins accept the bot whether or not the caller ran `sandbox_settings` first."""
        fallback = cls.defaults()
        webhook = settings.razorpay_webhook_secret
        return cls(
            access_token=_reveal(settings.whatsapp_access_token) or fallback.access_token,
            phone_number_id=settings.whatsapp_phone_number_id or fallback.phone_number_id,
            app_secret=_reveal(settings.whatsapp_app_secret) or fallback.app_secret,
            key_id=settings.razorpay_key_id or fallback.key_id,
            key_secret=_reveal(settings.razorpay_key_secret) or fallback.key_secret,
            # The first listed secret is the current one; the rest are kept for rotation only.
            webhook_secret=webhook[0].get_secret_value() if webhook else fallback.webhook_secret,
        )


def _reveal(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None
