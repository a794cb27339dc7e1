"""Stripe Checkout Sessions, spoken as form-encoded REST over the bot's shared aiohttp session.

We do not use the stripe SDK: its HTTP client is synchronous (requests or urllib) and would
block the event loop. The signature check follows the SDK's `stripe/_webhook.py`
(`WebhookSignature.verify_header`): HMAC-SHA256 keyed with the whole `whsec_...` string over
`"{t}.{raw body}"`, any `v1` value may match, and a timestamp older than the tolerance (300 s)
is refused; several secrets are accepted while one is being rolled.

One Checkout Session per payment attempt; our order id travels as `client_reference_id` and as
metadata on both the session and its PaymentIntent (session metadata is not copied to the
PaymentIntent, and refund events carry only the PaymentIntent).
"""

import hashlib
import hmac
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal, TypeVar
from urllib.parse import quote, urlencode

import aiohttp
from pydantic import BaseModel, ConfigDict, ValidationError

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
from flows.events import (
    PaymentCaptured,
    PaymentEvent,
    PaymentFailed,
    PaymentLinkExpired,
)

__all__ = [
    "CURRENCIES",
    "DEFAULT_API_BASE",
    "SIGNATURE_HEADER",
    "StripeProvider",
    "sign_stripe",
    "verify_stripe_signature",
]

DEFAULT_API_BASE: Final = "https://api.stripe.com"
API_VERSION: Final = "2026-06-24.dahlia"  # pin the webhook endpoint to the same version
SIGNATURE_HEADER: Final = "Stripe-Signature"
TOLERANCE_SECONDS: Final = 300  # stripe-python DEFAULT_TOLERANCE
# expires_at "can be anywhere from 30 minutes to 24 hours after Checkout Session creation";
# a minute's margin each side, since Stripe measures from its own clock.
MIN_EXPIRY_SECONDS: Final = 30 * 60 + 60
MAX_EXPIRY_SECONDS: Final = 24 * 60 * 60 - 60
MAX_METADATA_VALUE: Final = 500
MAX_NAME: Final = 250

# Stripe's presentment currencies (docs.stripe.com/currencies), ISO codes in upper case as the
# shop's config writes them. Some need the merchant's account to be in a given country; Stripe
# refuses the session then, with a message saying so.
_CURRENCY_CODES: Final = """
USD AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD
BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CVE CZK DJF DKK DOP DZD EGP ETB EUR FJD FKP GBP
GEL GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR ISK JMD JOD JPY KES KGS KHR KMF KRW
KWD KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MUR MVR MWK MXN MYR MZN NAD
NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SEK
SGD SHP SLE SOS SRD STD SZL THB TJS TND TOP TRY TTD TWD TZS UAH UGX UYU UZS VND VUV WST
XAF XCD XOF XPF YER ZAR ZMW
"""
CURRENCIES: Final = frozenset(_CURRENCY_CODES.split())

# The smallest charge Stripe accepts per currency, in minor units (docs.stripe.com/currencies,
# "Minimum and maximum charge amounts"); any amount has at most eight digits.
MINIMUM_CHARGE: Final = {
    "USD": 50, "AED": 200, "AUD": 50, "BGN": 100, "BRL": 50, "CAD": 50, "CHF": 50, "CZK": 1500,
    "DKK": 250, "EUR": 50, "GBP": 30, "HKD": 400, "HUF": 17500, "INR": 50, "JPY": 50,
    "MXN": 1000, "MYR": 200, "NOK": 300, "NZD": 50, "PLN": 200, "RON": 200, "SEK": 300,
    "SGD": 50, "THB": 1000,
}  # fmt: skip
MAXIMUM_AMOUNT: Final = 99_999_999

Clock = Callable[[], float]


# --- signatures -------------------------------------------------------------------------------


def sign_stripe(raw: bytes, secret: str, timestamp: int) -> str:
    """A `Stripe-Signature` header value for `raw`, as Stripe computes it."""
    return f"t={timestamp},v1={_v1(raw, secret, timestamp)}"


def _v1(raw: bytes, secret: str, timestamp: int | str) -> str:
    message = f"{timestamp}.".encode() + raw
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify_stripe_signature(
    raw: bytes,
    header: str | None,
    secrets: Sequence[str],
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """True when one `v1` of the header is the HMAC of `"{t}.{raw}"` under one of `secrets`
    and `t` is not older than `tolerance` seconds (a later `t` is accepted, as Stripe's SDK
    does). Other schemes (`v0`) are ignored."""
    if not header or not secrets:
        return False
    timestamp: str | None = None
    presented: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            timestamp = value
        elif key == "v1":
            presented.append(value)
    if timestamp is None or not timestamp.isdigit() or not presented:
        return False
    if int(timestamp) < now - tolerance:
        return False
    matched = False
    for secret in secrets:
        expected = _v1(raw, secret, timestamp).encode("ascii")
        for value in presented:
            try:
                candidate = value.encode("ascii")
            except UnicodeEncodeError:
                continue
            # No early exit: every pair is compared, in constant time each.
            matched |= hmac.compare_digest(candidate, expected)
    return matched


# --- wire models ------------------------------------------------------------------------------


def _metadata(value: object) -> dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items() if v is not None}
    return {}


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Session(_Wire):
    id: str
    object: str = "checkout.session"
    url: str | None = None
    status: str | None = None  # open | complete | expired
    payment_status: str = "unpaid"  # paid | unpaid | no_payment_required
    amount_total: int | None = None
    currency: str | None = None
    client_reference_id: str | None = None
    payment_intent: str | dict[str, Any] | None = None
    expires_at: int = 0
    metadata: dict[str, Any] | None = None

    @property
    def order_id(self) -> str | None:
        return self.client_reference_id or _metadata(self.metadata).get("order_id") or None

    @property
    def payment_intent_id(self) -> str:
        intent = self.payment_intent
        if isinstance(intent, Mapping):
            return str(intent.get("id") or "")
        return intent or ""


class _Refund(_Wire):
    id: str
    status: str | None = None  # pending | requires_action | succeeded | failed | canceled
    amount: int = 0
    payment_intent: str | None = None
    metadata: dict[str, Any] | None = None
    failure_reason: str | None = None


class _RefundList(_Wire):
    data: list[_Refund] = []


class _Charge(_Wire):
    id: str
    payment_intent: str | None = None
    metadata: dict[str, Any] | None = None
    refunds: _RefundList | None = None  # only in older API versions or when expanded


class _EventData(_Wire):
    object: dict[str, Any]


class _Event(_Wire):
    id: str
    type: str
    created: int = 0
    data: _EventData


class _ErrorDetail(_Wire):
    type: str | None = None
    code: str | None = None
    message: str | None = None


class _ErrorBody(_Wire):
    error: _ErrorDetail


# Refund statuses in our words: "pending" until the money moved or cannot.
_REFUND_STATUS: Final = {
    "succeeded": "processed",
    "failed": "failed",
    "canceled": "failed",
    "pending": "pending",
    "requires_action": "pending",
}


_M = TypeVar("_M", bound=_Wire)


# --- the provider -----------------------------------------------------------------------------


class StripeProvider:
    """Checkout Sessions on Stripe. One HTTP attempt per call: the job worker owns retries."""

    name: str = "stripe"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_base: str = DEFAULT_API_BASE,
        *,
        secret_key: str,
        webhook_secrets: Sequence[str],
        clock: Clock = time.time,
        timeout: float | None = None,
    ) -> None:
        self._session = session
        self._base = api_base.rstrip("/")
        self._headers = {"Authorization": f"Bearer {secret_key}", "Stripe-Version": API_VERSION}
        self._webhook_secrets = tuple(webhook_secrets)
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout) if timeout else session.timeout
        # (order id, asked deadline) -> the expires_at sent: a deadline Stripe finds too near
        # is moved to now + 31 minutes, and a retry a few seconds later must send the same
        # value, or its idempotency key would come back with other parameters.
        self._expiries: OrderedDict[tuple[str, int], int] = OrderedDict()

    def _expiry(self, request: LinkRequest, now: int) -> int:
        key = (request.order_id, request.expire_by)
        chosen = self._expiries.get(key)
        # Reused while Stripe would still take it (30 minutes ahead, a little margin).
        if chosen is None or chosen < now + MIN_EXPIRY_SECONDS - 50:
            chosen = clamp_expiry(request.expire_by, now)
        self._expiries[key] = chosen
        self._expiries.move_to_end(key)
        while len(self._expiries) > 1024:
            self._expiries.popitem(last=False)
        return chosen

    # --- outbound -------------------------------------------------------------------------

    async def create_link(self, request: LinkRequest) -> CreatedLink:
        now = int(self._clock())
        params = session_params(request, now, self._expiry(request, now))
        data = await self._call(
            "POST",
            "/v1/checkout/sessions",
            "create checkout session",
            form=params,
            idempotency_key=_attempt_key("chk", request.order_id, params),
        )
        session = _read(_Session, data, "create checkout session")
        if not session.url:
            raise ProviderUnavailable("Stripe create checkout session: no url in the answer")
        return CreatedLink(
            link_id=session.id,
            url=session.url,
            expires_at=session.expires_at or int(dict(params)["expires_at"]),
            status=session.status or "open",
        )

    async def cancel_link(self, link_id: str) -> None:
        """Expire the session. Stripe refuses unless it is still open: a session already
        completed was paid (its webhook decides), so that refusal is a ProviderRejected."""
        path = f"/v1/checkout/sessions/{quote(link_id, safe='')}/expire"
        await self._call("POST", path, "expire checkout session", form=[])

    async def refund(self, request: RefundRequest) -> ProviderRefund:
        form: list[tuple[str, str]] = [
            ("payment_intent", request.payment_id),
            ("amount", str(request.amount)),
        ]
        form += [(f"metadata[{k}]", v[:MAX_METADATA_VALUE]) for k, v in request.notes.items()]
        data = await self._call(
            "POST",
            "/v1/refunds",
            "refund payment",
            form=form,
            idempotency_key=request.idempotency_key,
        )
        refund = _read(_Refund, data, "refund payment")
        status = _REFUND_STATUS.get(refund.status or "", "pending")
        return ProviderRefund(refund_id=refund.id, status=status, raw=json.dumps(data))

    async def check_payment(self, link_id: str, order_id: str) -> PaymentCheck:
        """Ask the provider's API what became of this order's payment."""
        path = f"/v1/checkout/sessions/{quote(link_id, safe='')}"
        data = await self._call("GET", path, "fetch checkout session")
        session = _read(_Session, data, "fetch checkout session")
        return session_check(session, order_id)

    async def _call(
        self,
        method: str,
        path: str,
        action: str,
        *,
        form: Sequence[tuple[str, str]] | None = None,
        idempotency_key: str | None = None,
    ) -> object:
        headers = dict(self._headers)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        body = None
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(list(form)).encode()
        try:
            async with self._session.request(
                method,
                f"{self._base}{path}",
                data=body,
                headers=headers,
                timeout=self._timeout,
                raise_for_status=False,
            ) as response:
                status = response.status
                should_retry = response.headers.get("Stripe-Should-Retry")
                raw = await response.read()
        except TimeoutError as exc:
            raise ProviderUnavailable(f"Stripe {action}: timed out") from exc
        except aiohttp.ClientError as exc:
            raise ProviderUnavailable(f"Stripe {action}: {exc!r}") from exc
        if not 200 <= status < 300:
            raise _error_from_response(status, raw, action, should_retry)
        try:
            return json.loads(raw)
        except ValueError as exc:
            # The same idempotency key replays the answer once Stripe has one: retry.
            raise ProviderUnavailable(f"Stripe {action}: unreadable success body") from exc

    # --- inbound --------------------------------------------------------------------------

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        header = header_value(headers, SIGNATURE_HEADER)
        return verify_stripe_signature(raw, header, self._webhook_secrets, self._clock())

    def parse_webhook(self, raw: bytes, headers: Mapping[str, str]) -> ProviderWebhook:
        return parse_stripe_event(raw)

    def verify_callback(self, query: Mapping[str, str]) -> CallbackResult | None:
        """Stripe's return URL is not signed: it only says which session to ask about. The
        answer is "pending" until the API (check_payment) or the webhook says more."""
        session_id = query.get("session_id", "")
        order_id = query.get("order_id", "")
        if order_id and query.get("cancelled") == "1":
            # Checkout's back link: the customer left without paying (this session stays
            # open until it expires, so they may still come back to it).
            return CallbackResult(order_id=order_id, link_id="", payment_id="", status="left")
        if not session_id.startswith("cs_") or not order_id:
            return None
        return CallbackResult(
            order_id=order_id, link_id=session_id, payment_id="", status="pending"
        )


# --- request building -------------------------------------------------------------------------


def session_params(
    request: LinkRequest, now: int, expires_at: int | None = None
) -> list[tuple[str, str]]:
    """The form for POST /v1/checkout/sessions: one line with the order's total, so what the
    customer pays is exactly our total whatever Stripe does with line items. `expires_at`:
    an expiry chosen for an earlier try of this attempt (see `StripeProvider._expiry`)."""
    if not request.callback_url:
        raise ProviderRejected(
            "Stripe Checkout needs a return page: set PUBLIC_BASE_URL", code="NO_RETURN_URL"
        )
    if not request.order_id:
        raise ProviderRejected("an order id is needed for Stripe", code="NO_ORDER_ID")
    if expires_at is None:
        expires_at = clamp_expiry(request.expire_by, now)
    back = _with_query(request.callback_url, {"provider": "stripe", "order_id": request.order_id})
    order_id = request.order_id[:MAX_METADATA_VALUE]
    params: list[tuple[str, str]] = [
        ("mode", "payment"),
        ("line_items[0][price_data][currency]", request.currency.lower()),
        ("line_items[0][price_data][unit_amount]", str(request.amount)),
        (
            "line_items[0][price_data][product_data][name]",
            (request.description.strip() or f"Order {order_id}")[:MAX_NAME],
        ),
        ("line_items[0][quantity]", "1"),
        ("client_reference_id", order_id),
        ("metadata[order_id]", order_id),
        ("payment_intent_data[metadata][order_id]", order_id),
        ("expires_at", str(expires_at)),
        # Stripe replaces {CHECKOUT_SESSION_ID} itself; the braces must reach it as they are.
        ("success_url", back + "&session_id={CHECKOUT_SESSION_ID}"),
        ("cancel_url", back + "&cancelled=1"),
    ]
    for key, value in request.notes.items():
        if key != "order_id" and len(params) < 60:
            params.append((f"metadata[{key[:40]}]", value[:MAX_METADATA_VALUE]))
    return params


def clamp_expiry(expire_by: int, now: int) -> int:
    """Our deadline within what Stripe allows a session: 30 minutes to 24 hours from now."""
    return min(max(expire_by, now + MIN_EXPIRY_SECONDS), now + MAX_EXPIRY_SECONDS)


def _with_query(url: str, params: Mapping[str, str]) -> str:
    joiner = "&" if "?" in url else "?"
    return url + joiner + urlencode(params)


def _attempt_key(prefix: str, order_id: str, params: Sequence[tuple[str, str]]) -> str:
    """The same on every retry of one attempt (same order, same parameters), different for a
    new attempt: Stripe errors when a key comes back with other parameters."""
    digest = hashlib.sha256(json.dumps(list(params)).encode()).hexdigest()[:24]
    return f"{prefix}:{order_id}:{digest}"[:255]


# --- responses --------------------------------------------------------------------------------


def _read(model: type[_M], data: object, action: str) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProviderUnavailable(
            f"Stripe {action}: unexpected success body ({_first_error(exc)})"
        ) from exc


def _error_from_response(
    status: int, raw: bytes, action: str, should_retry: str | None
) -> PaymentProviderError:
    """Stripe-Should-Retry decides when present; else 409 (a concurrent request with the same
    idempotency key), 429 and 5xx are worth retrying, other 4xx not."""
    try:
        detail = _ErrorBody.model_validate_json(raw).error
        code, text = detail.code or detail.type, detail.message or "(no message)"
    except ValidationError:
        code, text = None, raw.decode("utf-8", errors="replace").strip()[:300] or "(empty body)"
    message = f"Stripe {action}: HTTP {status} {code or 'no code'}: {text}"
    if should_retry in ("true", "false"):
        transient = should_retry == "true"
    else:
        transient = status in (409, 429) or status >= 500 or status < 400
    kind = ProviderUnavailable if transient else ProviderRejected
    return kind(message, status=status, code=code, description=text)


_SessionState = Literal["pending", "paid", "failed", "expired", "cancelled"]


def session_check(session: _Session, order_id: str) -> PaymentCheck:
    state: _SessionState = "pending"
    if session.status == "expired":
        state = "expired"
    elif session.status == "complete" and session.payment_status == "paid":
        state = "paid"
    paid = state == "paid"
    return PaymentCheck(
        order_id=session.order_id or order_id,
        link_id=session.id,
        state=state,
        payment_id=session.payment_intent_id or None if paid else None,
        amount_paid=session.amount_total or 0 if paid else 0,
        currency=(session.currency or "").upper(),
    )


# --- webhooks ---------------------------------------------------------------------------------

_SESSION_EVENTS: Final = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
    }
)


def parse_stripe_event(raw: bytes) -> ProviderWebhook:
    """Translate a verified Stripe event body. The event id is inside the signed body, so it
    is the de-duplication key: a redelivery repeats it, a forgery cannot change it."""
    try:
        event = _Event.model_validate_json(raw)
        check_storable(raw)
    except (ValidationError, ValueError) as exc:
        detail = _first_error(exc) if isinstance(exc, ValidationError) else str(exc)
        raise MalformedPaymentWebhook(f"Stripe webhook body is not an event: {detail}") from None
    order_id: str | None
    outcome: PaymentEvent | None = None
    refund: RefundUpdate | None = None
    if event.type in _SESSION_EVENTS:
        session = _object(_Session, event)
        order_id = session.order_id
        if order_id is not None:
            outcome = _session_outcome(event.type, session, order_id)
    elif event.type.startswith("refund."):
        order_id, refund = _refund_update(_object(_Refund, event))
    elif event.type in ("charge.refunded", "charge.refund.updated"):
        order_id, refund = _charge_refund(event)
    else:
        order_id = _metadata(event.data.object.get("metadata")).get("order_id")
    return ProviderWebhook(
        event_id=event.id,
        dedupe_id=event.id,
        event_type=event.type,
        order_id=order_id,
        event=outcome,
        refund=refund,
    )


def _session_outcome(event_type: str, session: _Session, order_id: str) -> PaymentEvent | None:
    amount = session.amount_total or 0
    currency = (session.currency or "").upper()
    if event_type == "checkout.session.expired":
        return PaymentLinkExpired(order_id=order_id, link_id=session.id)
    if event_type == "checkout.session.async_payment_failed":
        return PaymentFailed(
            order_id=order_id,
            payment_id=session.payment_intent_id or session.id,
            reason="the bank did not confirm the payment",
        )
    if session.payment_status != "paid":
        return None  # completed with a delayed method: async_payment_succeeded follows
    return PaymentCaptured(
        order_id=order_id,
        link_id=session.id,
        payment_id=session.payment_intent_id,
        currency=currency,
        amount=amount,
        amount_paid=amount,
    )


def _refund_update(refund: _Refund) -> tuple[str | None, RefundUpdate | None]:
    notes = _metadata(refund.metadata)
    order_id = notes.get("order_id") or None
    status = _REFUND_STATUS.get(refund.status or "", "pending")
    if status == "pending":
        return order_id, None  # not final yet: only logged
    ours = notes.get("refund_id", "")
    update = RefundUpdate(
        provider_refund_id=refund.id,
        status=status,
        refund_id=int(ours) if ours.isdigit() else None,
        failure=(refund.failure_reason or "the provider could not refund")
        if status == "failed"
        else None,
    )
    return order_id, update


def _charge_refund(event: _Event) -> tuple[str | None, RefundUpdate | None]:
    """charge.refunded carries the charge; its refunds are listed only on older API versions.
    The newest refund listed is the one the event is about; without a list, refund.updated
    says the same and this event is only logged."""
    if event.type == "charge.refund.updated":
        return _refund_update(_object(_Refund, event))
    charge = _object(_Charge, event)
    order_id = _metadata(charge.metadata).get("order_id")
    refunds = charge.refunds.data if charge.refunds else []
    if not refunds:
        return order_id, None
    found_order, update = _refund_update(refunds[0])
    return order_id or found_order, update


def _object(model: type[_M], event: _Event) -> _M:
    try:
        return model.model_validate(event.data.object)
    except ValidationError as exc:
        raise MalformedPaymentWebhook(
            f"Stripe {event.type} webhook object: {_first_error(exc)}"
        ) from exc


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {error['msg']}{more}"
