"""Settings from the environment, read once at the entry point (never at import time)."""

import base64
import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.hosting import HostingPlatform, detect_platform
from storage.database_url import DatabaseUrlError, is_postgres_url, parse_database_url
from storage.postgres_connection import PostgresOptions

WHATSAPP_SECRETS = (
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
)
RAZORPAY_SECRETS = ("RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET")
STRIPE_SECRETS = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")
PAYSTACK_SECRETS = ("PAYSTACK_SECRET_KEY",)
REQUIRED_IN_LIVE_MODE = WHATSAPP_SECRETS + RAZORPAY_SECRETS  # with the default provider


class PaymentProviderName(StrEnum):
    """PAYMENT_PROVIDER: which payment provider the shop uses."""

    RAZORPAY = "razorpay"
    STRIPE = "stripe"
    PAYSTACK = "paystack"


PROVIDER_SECRETS: Mapping[PaymentProviderName, tuple[str, ...]] = {
    PaymentProviderName.RAZORPAY: RAZORPAY_SECRETS,
    PaymentProviderName.STRIPE: STRIPE_SECRETS,
    PaymentProviderName.PAYSTACK: PAYSTACK_SECRETS,
}
ALL_PAYMENT_SECRETS = RAZORPAY_SECRETS + STRIPE_SECRETS + PAYSTACK_SECRETS

SHOPIFY_STORE = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")

LOOPBACK = "127.0.0.1"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - a web dyno must listen where the router reaches it
# After SIGTERM aiohttp waits this long for open requests; the workers' grace period follows.
HTTP_DRAIN_SECONDS = 3.0


class Mode(StrEnum):
    LIVE = "live"
    SANDBOX = "sandbox"


class DatabaseSsl(StrEnum):
    """DATABASE_SSL: libpq's sslmode, for Postgres."""

    DISABLE = "disable"
    PREFER = "prefer"
    REQUIRE = "require"  # encrypted, certificate not checked: what Heroku's small plans need
    VERIFY_FULL = "verify-full"


class SettingsError(Exception):
    """The environment cannot start the bot. Each problem names the variables at fault."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    bot_mode: Mode | None = None  # None: load_settings decides (see there)
    # Unset, load_settings picks every interface for a live shop (a dyno's router must reach
    # it) and loopback for the sandbox, which shows its orders and signing secrets to anyone.
    host: str = LOOPBACK
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    database_url: str = "sqlite:///bot.sqlite3"
    # None: the URL's sslmode if it has one, else none to this machine and `require` to any
    # other host (storage/postgres_connection.py decides).
    database_ssl: DatabaseSsl | None = None
    # Connections one process may hold. Heroku's smallest Postgres plans allow 20 in all,
    # shared by every dyno, the release phase and old and new dynos overlapping on restarts.
    database_pool_size: Annotated[int, Field(ge=1)] = 5
    # Heroku's name for this process (web.1, release.4): Postgres shows it beside each
    # connection (pg_stat_activity's application_name), so a busy dyno is easy to find.
    dyno: str | None = None
    bot_config: Path = Path("config.toml")
    log_level: str = "INFO"
    public_base_url: str | None = None

    whatsapp_access_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_api_base: str = "https://graph.facebook.com/v25.0"
    # The shop's WhatsApp number as customers dial it (digits), for "back to WhatsApp" links.
    whatsapp_display_phone_number: str | None = None

    razorpay_key_id: str | None = None
    razorpay_key_secret: SecretStr | None = None
    # Comma-separated: during a secret rotation Razorpay still retries older events signed
    # with the previous secret, so every listed secret is accepted.
    razorpay_webhook_secret: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    razorpay_api_base: str = "https://api.razorpay.com/v1"

    # None: load_settings picks the provider whose credentials are set, else Razorpay.
    payment_provider: PaymentProviderName | None = None
    stripe_secret_key: SecretStr | None = None
    # Comma-separated: while a secret is rolled Stripe signs with both, and retries older
    # events with the old one.
    stripe_webhook_secret: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    stripe_api_base: str = "https://api.stripe.com"
    # Paystack signs its webhooks with this same key; there is no separate webhook secret.
    paystack_secret_key: SecretStr | None = None
    paystack_api_base: str = "https://api.paystack.co"

    # The merchant hears about every paid order on each channel set here (README "Knowing
    # about every order").
    merchant_webhook_url: str | None = None
    merchant_webhook_secret: SecretStr | None = None  # whsec_<base64>, Standard Webhooks
    # A live shop never posts to private, loopback or link-local addresses unless told to.
    merchant_webhook_allow_private: bool = False
    merchant_email: str | None = None
    smtp_url: SecretStr | None = None  # smtp://user:pass@host:587 (STARTTLS) or smtps://…:465
    smtp_from: str | None = None  # the sender address; MERCHANT_EMAIL when unset
    telegram_bot_token: SecretStr | None = None
    telegram_chat_id: str | None = None
    telegram_api_base: str = "https://api.telegram.org"
    # The shop owners' WhatsApp numbers (digits, comma-separated): their messages are owner
    # commands (bot/merchant/owner.py), and each is a merchant alert channel.
    owner_whatsapp: Annotated[tuple[str, ...], NoDecode] = ()
    # Optional Shopify hand-off: each paid order becomes a paid Shopify order (orderCreate).
    shopify_store: str | None = None  # name.myshopify.com
    shopify_access_token: SecretStr | None = None  # shpat_…, with the write_orders scope
    # Where the Admin API answers; https://<SHOPIFY_STORE> when unset (tests and the sandbox
    # point it at a stand-in).
    shopify_api_base: str | None = None

    # The orders dashboard at /admin (README "Dashboard"): off in a live shop without it.
    admin_password: SecretStr | None = None

    # Tunables with sensible defaults; documented in the README.
    http_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    send_retry_seconds: Annotated[float, Field(gt=0)] = 300.0  # give up on a message after this
    retry_base_seconds: Annotated[float, Field(gt=0, le=30)] = 0.5  # first back-off ceiling
    worker_concurrency: Annotated[int, Field(ge=1, le=1000)] = 64
    shutdown_grace_seconds: Annotated[float, Field(gt=0)] = 25.0
    # Mark each customer message read (blue ticks) and show "typing…" while the reply is made.
    read_receipts: bool = True

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, *args, **kwargs):  # type: ignore[no-untyped-def]
        # load_settings passes the environment explicitly; never read os.environ behind its back.
        return (init_settings,)

    @field_validator("razorpay_webhook_secret", "stripe_webhook_secret", mode="before")
    @classmethod
    def _split_secrets(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(SecretStr(part.strip()) for part in value.split(",") if part.strip())
        return value

    @field_validator("owner_whatsapp", mode="before")
    @classmethod
    def _split_numbers(cls, value: object) -> object:
        if isinstance(value, str):
            numbers = tuple(part.strip().lstrip("+") for part in value.split(",") if part.strip())
            if not all(number.isdigit() for number in numbers):
                raise ValueError("list phone numbers with country code, digits only: 9198…,9199…")
            return numbers
        return value

    @field_validator("merchant_webhook_secret")
    @classmethod
    def _standard_webhooks_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except ValueError:
            key = b""
        if not secret.startswith("whsec_") or not 24 <= len(key) <= 64:
            raise ValueError(
                "use the Standard Webhooks form whsec_<base64 of 24 to 64 random bytes>, "
                "e.g. python -c \"import base64,os; print('whsec_' + "
                'base64.b64encode(os.urandom(32)).decode())"'
            )
        return value

    @model_validator(mode="after")
    def _merchant_channels_complete(self) -> "Settings":
        pairs = [
            (
                "MERCHANT_WEBHOOK_URL",
                self.merchant_webhook_url,
                "MERCHANT_WEBHOOK_SECRET",
                self.merchant_webhook_secret,
            ),
            ("MERCHANT_EMAIL", self.merchant_email, "SMTP_URL", self.smtp_url),
            (
                "SHOPIFY_STORE",
                self.shopify_store,
                "SHOPIFY_ACCESS_TOKEN",
                self.shopify_access_token,
            ),
            (
                "TELEGRAM_BOT_TOKEN",
                self.telegram_bot_token,
                "TELEGRAM_CHAT_ID",
                self.telegram_chat_id,
            ),
        ]
        for first, first_value, second, second_value in pairs:
            if (first_value is None) != (second_value is None):
                raise ValueError(f"{first} and {second} go together: set both or neither")
        return self

    @field_validator(
        "public_base_url",
        "whatsapp_api_base",
        "razorpay_api_base",
        "stripe_api_base",
        "paystack_api_base",
        "merchant_webhook_url",
        "telegram_api_base",
        "shopify_api_base",
    )
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @field_validator("shopify_store")
    @classmethod
    def _myshopify_domain(cls, value: str | None) -> str | None:
        if value is None:
            return None
        store = value.strip().lower().removeprefix("https://").rstrip("/")
        if not SHOPIFY_STORE.fullmatch(store):
            raise ValueError("use the store's myshopify.com name, e.g. asha-teas.myshopify.com")
        return store

    @property
    def shopify_admin_base(self) -> str | None:
        """Where the Admin API answers, or None when the hand-off is off."""
        if self.shopify_store is None or self.shopify_access_token is None:
            return None
        return self.shopify_api_base or f"https://{self.shopify_store}"

    @field_validator("admin_password")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        # The login is rate-limited, but a short password falls to a patient guesser anyway.
        if value is not None and len(value.get_secret_value()) < 12:
            raise ValueError("use at least 12 characters (a passphrase of a few words is best)")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("smtp://", "smtps://")):
            raise ValueError("use smtp://user:password@host:587 or smtps://user:password@host:465")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        value = value.strip()
        try:
            parse_database_url(value)  # the parser storage opens it with, so no second opinion
        except DatabaseUrlError as error:
            raise ValueError(str(error)) from None
        return value

    @field_validator("payment_provider", mode="before")
    @classmethod
    def _lower_case_provider(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("database_ssl", mode="before")
    @classmethod
    def _lower_case_ssl(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("use DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @property
    def provider(self) -> PaymentProviderName:
        assert self.payment_provider is not None, "load_settings resolves it"  # noqa: S101
        return self.payment_provider

    @property
    def mode(self) -> Mode:
        assert self.bot_mode is not None, "load_settings resolves the mode"  # noqa: S101
        return self.bot_mode

    def postgres_options(self) -> PostgresOptions:
        """What the Postgres backend takes from the environment."""
        return PostgresOptions(
            ssl_mode=self.database_ssl.value if self.database_ssl else None,
            pool_size=self.database_pool_size,
            application_name=f"whatsapp-shop-bot {self.dyno or ''}".strip()[:63],
        )


def _present(env: Mapping[str, str], name: str) -> bool:
    return bool(env.get(name, "").strip())


def load_settings(env: Mapping[str, str]) -> Settings:
    """Validate the environment. Raises `SettingsError` naming every missing or bad variable.

    With no WhatsApp or Razorpay variable set the bot runs as a sandbox, except on a hosting
    platform, where only BOT_MODE=sandbox starts it; with some but not all it refuses to start,
    since a half-configured live shop would take orders it cannot charge.
    """
    settings = _validated(env)
    platform = detect_platform(env)
    provider, problems = chosen_provider(env, settings.payment_provider)
    mode = settings.bot_mode or _automatic_mode(env, platform)
    problems += _missing_credentials(env, mode, settings.bot_mode, platform, provider)
    redirected = provider is not PaymentProviderName.RAZORPAY
    if mode is Mode.LIVE and redirected and not settings.public_base_url:
        problems.append(
            f"PUBLIC_BASE_URL is missing: {provider.value.capitalize()} sends customers "
            "back to the shop's /payments/callback page after paying, so it needs the "
            "shop's public https address."
        )
    if platform is not None:
        problems += _unfit_for_platform(settings, mode, platform)
    if problems:
        raise SettingsError(*problems)
    host = settings.host if "host" in settings.model_fields_set else _default_host(mode)
    return settings.model_copy(
        update={"bot_mode": mode, "host": host, "payment_provider": provider}
    )


def chosen_provider(
    env: Mapping[str, str], chosen: PaymentProviderName | None
) -> tuple[PaymentProviderName, list[str]]:
    """PAYMENT_PROVIDER when set; else the one provider whose credentials are set; else
    Razorpay. Two providers' credentials without PAYMENT_PROVIDER is an error naming them:
    guessing would send customers to the wrong account."""
    if chosen is not None:
        return chosen, []
    configured = [
        name
        for name, variables in PROVIDER_SECRETS.items()
        if any(_present(env, variable) for variable in variables)
    ]
    if len(configured) > 1:
        names = " and ".join(name.value for name in configured)
        found = ", ".join(
            variable
            for name in configured
            for variable in PROVIDER_SECRETS[name]
            if _present(env, variable)
        )
        return configured[0], [
            f"credentials of more than one payment provider are set ({names}: {found}). "
            "Set PAYMENT_PROVIDER to the one the shop uses, or remove the others."
        ]
    return (configured[0] if configured else PaymentProviderName.RAZORPAY), []


def _validated(env: Mapping[str, str]) -> Settings:
    lowered = {key.lower(): value for key, value in env.items() if value != ""}
    try:
        return Settings(**lowered)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = [
            f"{'_'.join(str(part) for part in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        ]
        raise SettingsError("invalid environment: " + "; ".join(problems)) from None


def _automatic_mode(env: Mapping[str, str], platform: HostingPlatform | None) -> Mode:
    # On a public host a sandbox would show every order, with phone numbers and addresses, to
    # anyone: a merchant who deployed before setting the credentials gets an error instead.
    credentials = WHATSAPP_SECRETS + ALL_PAYMENT_SECRETS
    if platform is not None or any(_present(env, name) for name in credentials):
        return Mode.LIVE
    return Mode.SANDBOX


def _missing_credentials(
    env: Mapping[str, str],
    mode: Mode,
    chosen: Mode | None,
    platform: HostingPlatform | None,
    provider: PaymentProviderName,
) -> list[str]:
    required = WHATSAPP_SECRETS + PROVIDER_SECRETS[provider]
    missing = [name for name in required if not _present(env, name)]
    if mode is not Mode.LIVE or not missing:
        return []
    problem = "missing required environment variables: " + ", ".join(missing) + ". "
    if chosen is Mode.LIVE:
        return [problem + "BOT_MODE=live needs them all."]
    if platform is not None:
        return [
            problem + f"On {platform.name} ({platform.told_by}) the sandbox never starts by "
            "itself, since it would show every order to anyone: set them all for the live "
            "shop, or BOT_MODE=sandbox to try the sandbox there."
        ]
    return [problem + "Set them all for a live shop, or none of them to try the sandbox."]


def _unfit_for_platform(settings: Settings, mode: Mode, platform: HostingPlatform) -> list[str]:
    problems = []
    sqlite = not is_postgres_url(settings.database_url)
    # A sandbox's orders are made up; a live shop's are not.
    if sqlite and mode is Mode.LIVE and not platform.persistent_disk:
        problems.append(
            f"DATABASE_URL is a SQLite file ({settings.database_url}), but {platform.name} "
            f"({platform.told_by}) wipes the filesystem on every restart, and every order with "
            f"it. Use Postgres: {platform.how_to_add_postgres}."
        )
    window = platform.stop_window_seconds
    grace = settings.shutdown_grace_seconds
    if window is not None and HTTP_DRAIN_SECONDS + grace >= window:
        problems.append(
            f"SHUTDOWN_GRACE_SECONDS={grace:g} does not fit: {platform.name} kills a process "
            f"{window:g} s after SIGTERM, and open requests get {HTTP_DRAIN_SECONDS:g} s "
            f"before the grace period starts. Use less than {window - HTTP_DRAIN_SECONDS:g}."
        )
    return problems


def _default_host(mode: Mode) -> str:
    return ALL_INTERFACES if mode is Mode.LIVE else LOOPBACK
