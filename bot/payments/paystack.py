"""Paystack transactions, spoken as JSON REST over the bot's shared aiohttp session.

Paystack differs from Razorpay and Stripe in three ways that shape this module:
- A webhook is signed with the secret API key itself (HMAC-SHA512 hex of the raw body) and has
  no event id and no timestamp: de-duplication uses what the signed body says (event,
  reference, status), and `charge.success` is confirmed only after `GET /transaction/verify`
  agrees on amount and currency (done by a job, `bot.payments.paystack_jobs`).
- A transaction cannot be cancelled or expired through the API: `cancel_link` is local (the
  order stops accepting it), and a payment that still arrives is refunded automatically.
- Refunds take no idempotency key: our key goes into `merchant_note`, and a retry first lists
  the transaction's refunds and returns the one carrying it.

References: our order id, a dash and eight random hex digits (`ORD-20261122-3F9A1C2B5D7E-1a2b3c4d`),
within Paystack's allowed characters (letters, digits, `-`, `.`, `=`). Each call makes a new
transaction: Paystack refuses a reference twice and gives no way to find the checkout URL of
an earlier one, and a transaction nobody has the URL of is never paid.
"""

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Final, Literal, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from bot.payments.base import (
    CallbackResult,
    CreatedLink,
    LinkRequest,
    MalformedPaymentWebhook,
    PaymentCheck,
    PaymentProviderError,
    ProviderRefund,
    ProviderRejected,
    ProviderUnavailable,
    ProviderWebhook,
    RefundRequest,
    RefundUpdate,
    header_value,
)
from bot.storable_json import check_storable
from flows.events import PaymentCaptured

__all__ = [
    "CURRENCIES",
    "DEFAULT_API_BASE",
    "SIGNATURE_HEADER",
    "PaystackProvider",
    "PaystackTransaction",
    "order_id_of",
    "sign_paystack",
    "verify_paystack_signature",
]

DEFAULT_API_BASE: Final = "https://api.paystack.co"
SIGNATURE_HEADER: Final = "x-paystack-signature"
CHARGE_SUCCESS: Final = "charge.success"
# The currencies Paystack's API takes (ps-openapi TransactionInitialize `currency`).
CURRENCIES: Final = frozenset({"GHS", "KES", "NGN", "USD", "ZAR"})
_REFERENCE_CHARACTERS: Final = re.compile(r"[A-Za-z0-9.=-]+")
MAX_REFERENCE: Final = 100
_NOTE_KEY: Final = "idempotency key "  # how a refund's merchant_note carries our key

Suffix = Callable[[], str]


# --- signatures -------------------------------------------------------------------------------


def sign_paystack(raw: bytes, secret_key: str) -> str:
    """The `x-paystack-signature` Paystack sends: HMAC-SHA512 hex of the raw body."""
    return hmac.new(secret_key.encode("utf-8"), raw, hashlib.sha512).hexdigest()


def verify_paystack_signature(raw: bytes, header: str | None, secret_key: str) -> bool:
    if not header or not secret_key:
        return False
    try:
        presented = header.strip().lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(presented, sign_paystack(raw, secret_key).encode("ascii"))


# --- wire models ------------------------------------------------------------------------------


def _mapping(value: object) -> dict[str, Any]:
    # Paystack sends "no metadata" as 0, "" or null, and sometimes a JSON string.
    if isinstance(value, str) and value.startswith("{"):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dict(value) if isinstance(value, Mapping) else {}


def _integer(value: object) -> object:
    # Refund amounts come as "10000" in some bodies and 10000 in others.
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


Loose = Annotated[dict[str, Any], BeforeValidator(_mapping)]
Amount = Annotated[int, BeforeValidator(_integer)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


_M = TypeVar("_M", bound=_Wire)


class _Initialized(_Wire):
    authorization_url: str
    access_code: str = ""
    reference: str


class PaystackTransaction(_Wire):
    """A transaction as `GET /transaction/verify/{reference}` and `charge.success` show it."""

    id: int | str | None = None
    reference: str
    status: str = ""  # success | failed | abandoned | reversed | ongoing | pending ...
    amount: Amount = 0
    currency: str = ""
    metadata: Loose = {}
    gateway_response: str | None = None

    @property
    def order_id(self) -> str | None:
        return str(self.metadata.get("order_id") or "") or order_id_of(self.reference)


class _Refund(_Wire):
    id: int | str | None = None
    status: str = ""
    amount: Amount = 0
    merchant_note: str | None = None
    transaction_reference: str | None = None
    transaction: Loose = {}


class _RefundEvent(_Wire):
    status: str = ""
    transaction_reference: str
    amount: Amount = 0


class _Envelope(_Wire):
    status: bool = True
    message: str = ""
    data: Any = None


class _Event(_Wire):
    event: str
    data: Loose = {}


# --- the provider -----------------------------------------------------------------------------


class PaystackProvider:
    """Transactions on Paystack. One HTTP attempt per call: the job worker owns retries."""

    name: str = "paystack"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_base: str = DEFAULT_API_BASE,
        *,
        secret_key: str,
        email_domain: str,
        new_suffix: Suffix = lambda: secrets.token_hex(4),
        timeout: float | None = None,
    ) -> None:
        self._session = session
        self._base = api_base.rstrip("/")
        self._secret_key = secret_key
        self._headers = {"Authorization": f"Bearer {secret_key}"}
        self._email_domain = email_domain
        self._new_suffix = new_suffix
        self._timeout = aiohttp.ClientTimeout(total=timeout) if timeout else session.timeout

    # --- outbound -------------------------------------------------------------------------

    async def create_link(self, request: LinkRequest) -> CreatedLink:
        body = initialize_body(request, self._reference(request.order_id), self._email_domain)
        data = await self._call("POST", "/transaction/initialize", "initialize", body=body)
        created = _read(_Initialized, data, "initialize")
        return CreatedLink(
            link_id=created.reference,
            url=created.authorization_url,
            # Paystack has no expiry: the order's own deadline is the link's.
            expires_at=request.expire_by,
            status="created",
        )

    async def cancel_link(self, link_id: str) -> None:
        """Paystack has no call to cancel or expire a transaction. The order stops accepting
        this reference where it is kept (our database); a payment that still arrives for it
        is refunded automatically when its webhook is verified."""

    async def refund(self, request: RefundRequest) -> ProviderRefund:
        earlier = await self._refund_with_key(request)
        if earlier is not None:
            return _provider_refund(earlier, request)
        body: dict[str, object] = {
            "transaction": request.payment_id,
            "amount": request.amount,
            "merchant_note": f"{_NOTE_KEY}{request.idempotency_key}",
        }
        data = await self._call("POST", "/refund", "refund", body=body)
        return _provider_refund(_read(_Refund, data, "refund"), request)

    async def verify(self, reference: str) -> PaystackTransaction:
        """Paystack's own record of a transaction (never the webhook's or the browser's)."""
        path = f"/transaction/verify/{quote(reference, safe='')}"
        data = await self._call("GET", path, "verify transaction")
        return _read(PaystackTransaction, data, "verify transaction")

    async def check_payment(self, link_id: str, order_id: str) -> PaymentCheck:
        """Ask the provider's API what became of this order's payment."""
        return transaction_check(await self.verify(link_id), order_id)

    def _reference(self, order_id: str) -> str:
        reference = f"{order_id}-{self._new_suffix()}"
        if not _REFERENCE_CHARACTERS.fullmatch(reference) or len(reference) > MAX_REFERENCE:
            raise ProviderRejected(
                f"order id {order_id!r} cannot be a Paystack reference (letters, digits, "
                f"'-', '.', '=' only, at most {MAX_REFERENCE} characters with its suffix)",
                code="INVALID_REFERENCE",
            )
        return reference

    async def _refund_with_key(self, request: RefundRequest) -> _Refund | None:
        """A refund this key already asked for: an earlier attempt whose answer was lost.
        (The `transaction` filter is in Paystack's SDKs, not its OpenAPI file: if Paystack
        refuses the listing, the refund is asked for; Paystack itself refuses refunding more
        than was paid, which bounds what a lost answer could cost.)"""
        query = urlencode({"transaction": request.payment_id})
        try:
            data = await self._call("GET", f"/refund?{query}", "list refunds")
        except ProviderRejected:
            return None
        if not isinstance(data, list):
            raise ProviderUnavailable("Paystack list refunds: data is not a list")
        note = f"{_NOTE_KEY}{request.idempotency_key}"
        for item in data:
            refund = _read(_Refund, item, "list refunds")
            if refund.merchant_note == note and refund.status != "failed":
                return refund
        return None

    async def _call(
        self, method: str, path: str, action: str, *, body: Mapping[str, object] | None = None
    ) -> object:
        """One request; returns `data` of a 2xx answer whose `status` is true."""
        try:
            async with self._session.request(
                method,
                f"{self._base}{path}",
                json=body,
                headers=self._headers,
                timeout=self._timeout,
                raise_for_status=False,
            ) as response:
                status = response.status
                raw = await response.read()
        except TimeoutError as exc:
            raise ProviderUnavailable(f"Paystack {action}: timed out") from exc
        except aiohttp.ClientError as exc:
            raise ProviderUnavailable(f"Paystack {action}: {exc!r}") from exc
        try:
            envelope: _Envelope | None = _Envelope.model_validate_json(raw)
        except ValidationError:
            envelope = None
        if not 200 <= status < 300 or envelope is None or not envelope.status:
            raise _error(status, raw, envelope, action)
        return envelope.data

    # --- inbound --------------------------------------------------------------------------

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        header = header_value(headers, SIGNATURE_HEADER)
        return verify_paystack_signature(raw, header, self._secret_key)

    def parse_webhook(self, raw: bytes, headers: Mapping[str, str]) -> ProviderWebhook:
        return parse_paystack_event(raw)

    def verify_callback(self, query: Mapping[str, str]) -> CallbackResult | None:
        """Paystack's redirect (`?trxref=&reference=`) is not signed: it names a transaction
        to ask about and nothing more, so it always says "pending"."""
        reference = query.get("reference") or query.get("trxref") or ""
        order_id = order_id_of(reference)
        if order_id is None:
            return None
        return CallbackResult(order_id=order_id, link_id=reference, payment_id="", status="pending")


# --- requests ---------------------------------------------------------------------------------


def initialize_body(request: LinkRequest, reference: str, email_domain: str) -> dict[str, object]:
    """The JSON for POST /transaction/initialize. WhatsApp customers have no email address,
    which Paystack requires: one per phone number at the shop's own domain (the notes'
    recipe), with `label` showing the customer's name instead on the checkout page."""
    digits = "".join(ch for ch in request.customer_phone or "" if ch.isdigit())
    local = f"wa{digits}" if digits else f"order-{reference}".lower()
    body: dict[str, object] = {
        "email": f"{local}@{email_domain}",
        "amount": request.amount,
        "currency": request.currency,
        "reference": reference,
        "metadata": {"order_id": request.order_id, **dict(request.notes)},
    }
    label = (request.customer_name or "").strip() or (f"+{digits}" if digits else "")
    if label:
        body["label"] = label
    if request.callback_url:
        joiner = "&" if "?" in request.callback_url else "?"
        body["callback_url"] = f"{request.callback_url}{joiner}provider=paystack"
    return body


def email_domain_of(public_base_url: str | None) -> str:
    """The host of the shop's public address: the domain of the derived customer emails."""
    host = urlsplit(public_base_url or "").hostname or ""
    return host or "localhost"


def order_id_of(reference: str) -> str | None:
    """Our order id inside a reference we made (`<order id>-<8 hex>`); None for others."""
    order_id, dash, suffix = reference.rpartition("-")
    if not dash or not order_id or not re.fullmatch(r"[0-9a-f]{8}", suffix):
        return None
    return order_id


# --- answers ----------------------------------------------------------------------------------


def _read(model: type[_M], data: object, action: str) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProviderUnavailable(
            f"Paystack {action}: unexpected success body ({_first_error(exc)})"
        ) from exc


def _error(
    status: int, raw: bytes, envelope: _Envelope | None, action: str
) -> PaymentProviderError:
    text = envelope.message if envelope else raw.decode("utf-8", "replace").strip()[:300]
    text = text or "(empty body)"
    message = f"Paystack {action}: HTTP {status}: {text}"
    # 2xx with status false, 429 and 5xx may pass; other 4xx will not.
    transient = status == 429 or status >= 500 or status < 400
    kind = ProviderUnavailable if transient else ProviderRejected
    return kind(message, status=status, description=text)


def _provider_refund(refund: _Refund, request: RefundRequest) -> ProviderRefund:
    return ProviderRefund(
        refund_id=refund_key(request.payment_id, request.amount),
        status={"processed": "processed", "failed": "failed"}.get(refund.status, "pending"),
        raw=refund.model_dump_json(),
    )


def refund_key(reference: str, amount: int) -> str:
    """How we name a Paystack refund: its events carry only the transaction reference and
    the amount, never the refund's id."""
    return f"{reference}/{amount}"


_CheckState = Literal["pending", "paid", "failed", "expired", "cancelled"]


def transaction_check(transaction: PaystackTransaction, order_id: str) -> PaymentCheck:
    state: _CheckState = "pending"
    if transaction.status == "success":
        state = "paid"
    elif transaction.status in ("failed", "reversed"):
        state = "failed"
    paid = state == "paid"
    return PaymentCheck(
        order_id=transaction.order_id or order_id,
        link_id=transaction.reference,
        state=state,
        payment_id=transaction.reference if paid else None,
        amount_paid=transaction.amount if paid else 0,
        currency=transaction.currency.upper(),
    )


def captured(transaction: PaystackTransaction, order_id: str, link_amount: int) -> PaymentCaptured:
    """The verified transaction as the payment event the state machine checks."""
    return PaymentCaptured(
        order_id=order_id,
        link_id=transaction.reference,
        payment_id=transaction.reference,
        currency=transaction.currency.upper(),
        amount=link_amount,
        amount_paid=transaction.amount,
    )


# --- webhooks ---------------------------------------------------------------------------------

_REFUND_FINAL: Final = {"refund.processed": "processed", "refund.failed": "failed"}


def parse_paystack_event(raw: bytes) -> ProviderWebhook:
    """Translate a verified body. `charge.success` carries no event: it is only a reason to
    ask `verify`, which the webhook route queues as a job."""
    try:
        event = _Event.model_validate_json(raw)
        check_storable(raw)
    except (ValidationError, ValueError) as exc:
        detail = _first_error(exc) if isinstance(exc, ValidationError) else str(exc)
        raise MalformedPaymentWebhook(f"Paystack webhook body is not an event: {detail}") from None
    data = event.data
    reference = str(data.get("reference") or data.get("transaction_reference") or "")
    refund = None
    order_id = order_id_of(reference)
    if event.event == CHARGE_SUCCESS:
        try:
            transaction = PaystackTransaction.model_validate(data)
        except ValidationError as exc:
            raise MalformedPaymentWebhook(
                f"Paystack charge.success data: {_first_error(exc)}"
            ) from exc
        order_id = transaction.order_id
    elif event.event in _REFUND_FINAL:
        try:
            refunded = _RefundEvent.model_validate(data)
        except ValidationError as exc:
            raise MalformedPaymentWebhook(
                f"Paystack {event.event} data: {_first_error(exc)}"
            ) from exc
        status = _REFUND_FINAL[event.event]
        refund = RefundUpdate(
            provider_refund_id=refund_key(refunded.transaction_reference, refunded.amount),
            status=status,
            refund_id=None,
            failure="Paystack could not refund" if status == "failed" else None,
        )
    return ProviderWebhook(
        event_id=_dedupe_id(event, reference, raw),
        dedupe_id=_dedupe_id(event, reference, raw),
        event_type=event.event,
        order_id=order_id,
        event=None,
        refund=refund,
    )


def charge_reference(raw: str) -> str:
    """The transaction reference of a `charge.success` body `parse_paystack_event` accepted."""
    return str(_Event.model_validate_json(raw).data.get("reference") or "")


def _dedupe_id(event: _Event, reference: str, raw: bytes) -> str:
    """No event id: the event, the transaction and its status say which event this is (a
    redelivery repeats them), else the hash of the exact signed body."""
    status = str(event.data.get("status") or "")
    if reference:
        amount = event.data.get("amount")
        return f"{event.event}:{reference}:{status}:{amount}"
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {error['msg']}{more}"
