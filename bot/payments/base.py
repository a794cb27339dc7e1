"""What every payment provider offers the bot, in our own terms.

The runner and the webhook route speak only these types. A provider module (Razorpay today,
Stripe and Paystack later) turns its wire format into them, so adding a provider is a new
module, not a change to the callers.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol

from flows.events import PaymentEvent

__all__ = [
    "CallbackResult",
    "CreatedLink",
    "LinkRequest",
    "MalformedPaymentWebhook",
    "PaymentCheck",
    "PaymentProvider",
    "PaymentProviderError",
    "ProviderRefund",
    "ProviderRejected",
    "ProviderUnavailable",
    "ProviderWebhook",
    "RefundRequest",
    "RefundUpdate",
    "header_value",
]


@dataclass(frozen=True, slots=True)
class LinkRequest:
    """A payment link to create for one of our orders. Money is integer minor units (paise)."""

    order_id: str  # becomes the provider's reference id: the only guard against duplicates
    amount: int
    currency: str
    description: str
    customer_name: str | None
    customer_phone: str | None  # E.164 digits without '+', as WhatsApp gives them
    expire_by: int  # Unix seconds
    callback_url: str | None = None
    notes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CreatedLink:
    link_id: str
    url: str
    expires_at: int  # Unix seconds
    status: str  # the provider's link status, e.g. "created" or, for a link found again, "paid"


@dataclass(frozen=True, slots=True)
class RefundRequest:
    """Give back `amount` (minor units) of a captured payment."""

    payment_id: str
    amount: int
    currency: str
    # The same on every attempt of one refund (the provider's idempotency key): a retry after
    # a timeout can never refund twice.
    idempotency_key: str
    notes: Mapping[str, str] = field(default_factory=dict)  # our refund and order ids


@dataclass(frozen=True, slots=True)
class ProviderRefund:
    """The provider's answer to a refund request."""

    refund_id: str
    status: str  # "pending" | "processed" | "failed"
    raw: str  # the answer as sent, kept with the refund


@dataclass(frozen=True, slots=True)
class RefundUpdate:
    """A refund webhook, translated: the refund reached its final state."""

    provider_refund_id: str
    status: str  # "processed" | "failed"
    refund_id: int | None  # ours, from the notes we sent with the request
    failure: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderWebhook:
    """One signed delivery, translated. `event` is None for types we only log."""

    event_id: str  # the provider's event id as sent (for logs): often outside the signature
    # The de-duplication key, built only from what the signature covers: a captured body
    # replayed under a new (unsigned) event id must be a duplicate, not a second event.
    dedupe_id: str
    event_type: str
    order_id: str | None
    event: PaymentEvent | None
    refund: RefundUpdate | None = None  # refund.processed / refund.failed


@dataclass(frozen=True, slots=True)
class CallbackResult:
    """The customer's browser came back from the payment page with a valid signature.

    A courtesy for the thank-you page only: fulfilment always waits for the webhook.
    """

    order_id: str  # our order id (the reference id); "" for a link made without one
    link_id: str
    payment_id: str
    status: str


@dataclass(frozen=True, slots=True)
class PaymentCheck:
    """What the provider's API says now about one order's link, session or transaction.

    Asked when the customer's browser comes back and by the reconciliation sweep, so a payment
    is confirmed even when its webhook never arrives. Never built from anything the browser
    sent: only from the provider's own answer.
    """

    order_id: str
    link_id: str
    state: Literal["pending", "paid", "failed", "expired", "cancelled"]
    payment_id: str | None = None
    amount_paid: int = 0  # minor units, what the provider says was captured
    currency: str = ""


class PaymentProviderError(Exception):
    """A call to the provider failed. `is_transient` tells the job worker whether to retry."""

    is_transient: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status  # HTTP status, None when no response arrived
        self.code = code
        self.description = description


class ProviderUnavailable(PaymentProviderError):
    """Timeouts, connection errors, 5xx, 429: retry later with back-off and the same request."""

    is_transient = True


class ProviderRejected(PaymentProviderError):
    """The provider refused the request as it is (4xx): retrying it unchanged cannot help."""

    is_transient = False


class MalformedPaymentWebhook(ValueError):
    """A correctly signed webhook body we cannot read. The message says what is wrong."""


class PaymentProvider(Protocol):
    """The surface the bot needs from a payment provider."""

    @property
    def name(self) -> str: ...

    async def create_link(self, request: LinkRequest) -> CreatedLink:
        """Create a link, or return the one already created for this order id.

        One attempt: raises ProviderUnavailable or ProviderRejected; the caller retries.
        """
        ...

    async def cancel_link(self, link_id: str) -> None:
        """Cancel an unpaid link. A link already paid, expired or cancelled: ProviderRejected."""
        ...

    async def refund(self, request: RefundRequest) -> ProviderRefund:
        """Refund part or all of a payment; the same idempotency key refunds once however
        often it is sent. One attempt: raises ProviderUnavailable or ProviderRejected."""
        ...

    async def check_payment(self, link_id: str, order_id: str) -> PaymentCheck:
        """Ask the provider's API what became of this order's payment."""
        ...

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        """True when the raw body carries a valid signature for one of our webhook secrets."""
        ...

    def parse_webhook(self, raw: bytes, headers: Mapping[str, str]) -> ProviderWebhook:
        """Translate a verified body. Raises MalformedPaymentWebhook when it cannot be read."""
        ...

    def verify_callback(self, query: Mapping[str, str]) -> CallbackResult | None:
        """Check the browser redirect after paying. None when missing or not authentic."""
        ...


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """Look a header up ignoring case: aiohttp's headers do, but a plain dict in tests or a
    different framework does not."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None
