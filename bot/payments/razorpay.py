"""Razorpay Payment Links, spoken as REST over the bot's shared aiohttp session.

We do not call the razorpay SDK for HTTP: its client is synchronous (requests), has no default
timeout and would block the event loop. Webhook and callback signatures go through the shared
HMAC helpers in `bot.signatures`, which agree with the SDK's `razorpay.Utility`
(`verify_webhook_signature`, `verify_payment_link_signature`) on every test vector.
"""

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Final, Generic, Literal, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

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
from bot.signatures import verify_razorpay_callback, verify_razorpay_signature
from bot.storable_json import check_storable
from flows.events import (
    PaymentCaptured,
    PaymentEvent,
    PaymentFailed,
    PaymentLinkCancelled,
    PaymentLinkExpired,
)

__all__ = ["DEFAULT_API_BASE", "RazorpayProvider"]

DEFAULT_API_BASE: Final = "https://api.razorpay.com/v1"

# Request limits from Razorpay's Payment Links API.
MAX_REFERENCE_ID: Final = 40
MAX_DESCRIPTION: Final = 2048
MAX_NOTES: Final = 15
MAX_NOTE_VALUE: Final = 255

SIGNATURE_HEADER: Final = "X-Razorpay-Signature"
EVENT_ID_HEADER: Final = "X-Razorpay-Event-Id"
CALLBACK_FIELDS: Final = (
    "razorpay_payment_id",
    "razorpay_payment_link_id",
    "razorpay_payment_link_reference_id",
    "razorpay_payment_link_status",
    "razorpay_signature",
)

# Razorpay's answer when a reference id was used before, e.g. by our own earlier attempt whose
# response was lost to a timeout: "payment link creation with reference ID already attempted".
_ALREADY_ATTEMPTED: Final = "already attempted"
_DEAD_LINK_STATUSES: Final = frozenset({"cancelled", "expired"})
# E.164 allows at most 15 digits; anything else would make Razorpay reject the whole link
# over a cosmetic field, so an odd contact is left out instead.
_PHONE: Final = re.compile(r"\+?\d{8,15}")


# --- wire models: lenient, because Razorpay adds fields and we read only a few -------------


def _as_notes(value: object) -> dict[str, str]:
    # Razorpay sends "no notes" as null, {} or [] (a PHP empty array); all mean nothing.
    if isinstance(value, Mapping):
        return {str(key): str(item) for key, item in value.items() if item is not None}
    return {}


Notes = Annotated[dict[str, str], BeforeValidator(_as_notes)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Link(_Wire):
    id: str
    amount: int
    amount_paid: int = 0
    currency: str = ""
    status: str = ""
    reference_id: str | None = None
    short_url: str = ""
    expire_by: int = 0  # 0 when unset, never null
    notes: Notes = {}


class _Payment(_Wire):
    id: str
    notes: Notes = {}
    error_description: str | None = None
    error_reason: str | None = None


class _Order(_Wire):
    id: str
    receipt: str | None = None  # equals the link's reference_id for link payments
    notes: Notes = {}


_E = TypeVar("_E", bound=_Wire)
_M = TypeVar("_M", bound=_Wire)


class _Box(_Wire, Generic[_E]):
    """Razorpay wraps every entity of a webhook payload as {"entity": {...}}."""

    entity: _E


class _Payload(_Wire):
    payment_link: _Box[_Link] | None = None
    payment: _Box[_Payment] | None = None
    order: _Box[_Order] | None = None


class _Refund(_Wire):
    id: str
    payment_id: str = ""
    amount: int = 0
    status: str = ""
    notes: Notes = {}
    error_description: str | None = None  # absent on most failures: Razorpay says little


class _RefundPayload(_Wire):
    refund: _Box[_Refund]


class _Envelope(_Wire):
    event: str
    payload: dict[str, Any] = {}
    created_at: Any = None  # Unix seconds; read only as part of the de-duplication key


class _ApiLink(_Link):
    """A link as the REST API returns it: without a URL there is nothing to send."""

    short_url: Annotated[str, Field(min_length=1)]


class _LinkPayment(_Wire):
    """One entry of a fetched link's `payments`: a payment made through it."""

    payment_id: str
    amount: int = 0
    status: str = ""
    created_at: int = 0


def _as_list(value: object) -> object:
    return [] if value is None else value  # `payments` is null until someone pays


class _FetchedLink(_Link):
    """A link as GET /payment_links/{id} returns it, with the payments made through it."""

    payments: Annotated[list[_LinkPayment], BeforeValidator(_as_list)] = []


class _LinkList(_Wire):
    payment_links: list[_ApiLink] = []


class _ErrorDetail(_Wire):
    code: str | None = None
    description: str | None = None


class _ErrorBody(_Wire):
    error: _ErrorDetail


# --- the provider ---------------------------------------------------------------------------


class RazorpayProvider:
    """Payment Links on Razorpay. One HTTP attempt per call: the job worker owns retries."""

    name: str = "razorpay"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_base: str = DEFAULT_API_BASE,
        *,
        key_id: str,
        key_secret: str,
        webhook_secrets: Sequence[str],
        timeout: float | None = None,
    ) -> None:
        """`timeout` (seconds) overrides the shared session's timeout for Razorpay calls only."""
        self._session = session
        self._base = api_base.rstrip("/")
        # aiohttp 3.14 deprecates BasicAuth objects in favour of a ready-made header.
        self._headers = {"Authorization": aiohttp.encode_basic_auth(key_id, key_secret)}
        self._key_secret = key_secret
        # Several secrets during a rotation: Razorpay retries older events with the old one.
        self._webhook_secrets = tuple(webhook_secrets)
        self._timeout = aiohttp.ClientTimeout(total=timeout) if timeout else session.timeout

    # --- outbound -------------------------------------------------------------------------

    async def create_link(self, request: LinkRequest) -> CreatedLink:
        body = _link_request_body(request)
        try:
            data = await self._call("POST", "/payment_links", "create payment link", body=body)
        except ProviderRejected as exc:
            if _ALREADY_ATTEMPTED not in (exc.description or "").lower():
                raise
            # Reference ids cannot be reused, so the earlier attempt's link is the only one
            # this order can ever have: return it rather than fail.
            return await self._existing_link(request)
        link = _read(_ApiLink, data, "create payment link")
        return _created(link, request)

    async def cancel_link(self, link_id: str) -> None:
        path = f"/payment_links/{quote(link_id, safe='')}/cancel"
        await self._call("POST", path, "cancel payment link")

    async def refund(self, request: RefundRequest) -> ProviderRefund:
        path = f"/payments/{quote(request.payment_id, safe='')}/refund"
        body = {"amount": request.amount, "notes": dict(request.notes)}
        data = await self._call(
            "POST",
            path,
            "refund payment",
            body=body,
            # Razorpay: the same key and body never refund twice; 409 while the first is in
            # flight (a ProviderUnavailable: retried later with the same key).
            headers={"X-Refund-Idempotency": request.idempotency_key},
        )
        refund = _read(_Refund, data, "refund payment")
        return ProviderRefund(
            refund_id=refund.id, status=refund.status or "pending", raw=json.dumps(data)
        )

    async def check_payment(self, link_id: str, order_id: str) -> PaymentCheck:
        path = f"/payment_links/{quote(link_id, safe='')}"
        data = await self._call("GET", path, "fetch payment link")
        link = _read(_FetchedLink, data, "fetch payment link")
        if link.id != link_id or (link.reference_id and link.reference_id != order_id):
            raise ProviderRejected(
                f"Razorpay link {link_id} belongs to {link.reference_id!r}, not order {order_id!r}",
                code="LINK_MISMATCH",
            )
        return _check_of(link, order_id)

    async def _existing_link(self, request: LinkRequest) -> CreatedLink:
        data = await self._call(
            "GET",
            "/payment_links",
            "fetch payment link by reference id",
            params={"reference_id": request.order_id},
        )
        found = [
            link
            for link in _read(_LinkList, data, "list payment links").payment_links
            if link.reference_id == request.order_id
        ]
        if not found:
            # Razorpay just said the id was used; its list may lag behind. Worth a retry.
            raise ProviderUnavailable(
                f"Razorpay says reference id {request.order_id!r} was already used "
                "but lists no link for it"
            )
        return _created(_check_reusable(found[0], request), request)

    async def _call(
        self,
        method: str,
        path: str,
        action: str,
        *,
        body: Mapping[str, object] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> object:
        """One request; returns the decoded JSON of a 2xx answer, raises our errors otherwise."""
        try:
            async with self._session.request(
                method,
                f"{self._base}{path}",
                json=body,
                params=params,
                headers={**self._headers, **(headers or {})},
                timeout=self._timeout,
                # The shared session may raise on 4xx itself; we need the body to classify.
                raise_for_status=False,
            ) as response:
                status = response.status
                raw = await response.read()
        except TimeoutError as exc:
            raise ProviderUnavailable(f"Razorpay {action}: timed out") from exc
        except aiohttp.ClientError as exc:
            raise ProviderUnavailable(f"Razorpay {action}: {exc!r}") from exc
        if not 200 <= status < 300:
            raise _error_from_response(status, raw, action)
        return _decode(raw, action)

    # --- inbound --------------------------------------------------------------------------

    def verify_webhook(self, raw: bytes, headers: Mapping[str, str]) -> bool:
        signature = header_value(headers, SIGNATURE_HEADER)
        return verify_razorpay_signature(raw, signature, self._webhook_secrets)

    def parse_webhook(self, raw: bytes, headers: Mapping[str, str]) -> ProviderWebhook:
        envelope = _read_envelope(raw)
        refund = None
        if envelope.event in _REFUND_OUTCOMES:
            order_id, refund = _refund_update(envelope.event, envelope.payload)
            event = None
        else:
            order_id, event = _translate(envelope.event, envelope.payload)
        return ProviderWebhook(
            event_id=_webhook_event_id(raw, headers),
            dedupe_id=_signed_event_key(envelope, raw),
            event_type=envelope.event,
            order_id=order_id,
            event=event,
            refund=refund,
        )

    def verify_callback(self, query: Mapping[str, str]) -> CallbackResult | None:
        params = {field: query.get(field) for field in CALLBACK_FIELDS}
        present = {field: value for field, value in params.items() if value is not None}
        if len(present) != len(CALLBACK_FIELDS):
            return None
        link_id = present["razorpay_payment_link_id"]
        payment_id = present["razorpay_payment_id"]
        status = present["razorpay_payment_link_status"]
        # The reference id may be empty (a link made without one), the others may not.
        if not (link_id and payment_id and status and present["razorpay_signature"]):
            return None
        if not verify_razorpay_callback(present, self._key_secret):
            return None
        return CallbackResult(
            order_id=present["razorpay_payment_link_reference_id"],
            link_id=link_id,
            payment_id=payment_id,
            status=status,
        )


# --- request building -------------------------------------------------------------------------


def _link_request_body(request: LinkRequest) -> dict[str, object]:
    """The JSON for POST /payment_links. Raises ProviderRejected for an unusable order id."""
    if not 0 < len(request.order_id) <= MAX_REFERENCE_ID:
        # Truncating would make two orders collide on one reference id; refuse instead.
        raise ProviderRejected(
            f"order id {request.order_id!r} cannot be a Razorpay reference id "
            f"(1 to {MAX_REFERENCE_ID} characters)",
            code="INVALID_REFERENCE_ID",
        )
    body: dict[str, object] = {
        "amount": request.amount,
        "currency": request.currency,
        "accept_partial": False,  # partial payments would need a flow we do not have
        "reference_id": request.order_id,
        "description": request.description.strip()[:MAX_DESCRIPTION],
        "notify": {"sms": False, "email": False},  # we send the link on WhatsApp ourselves
        "reminder_enable": False,
        "expire_by": request.expire_by,
        "notes": _notes(request),
    }
    customer = _customer(request)
    if customer:
        body["customer"] = customer
    if request.callback_url:
        # Razorpay requires the two together; "get" puts the signed result in the query.
        body["callback_url"] = request.callback_url
        body["callback_method"] = "get"
    return body


def _customer(request: LinkRequest) -> dict[str, str]:
    customer: dict[str, str] = {}
    name = (request.customer_name or "").strip()
    if name:
        customer["name"] = name
    phone = (request.customer_phone or "").strip()
    if _PHONE.fullmatch(phone):
        customer["contact"] = phone if phone.startswith("+") else f"+{phone}"
    return customer


def _notes(request: LinkRequest) -> dict[str, str]:
    """Our order id first (payment.failed carries only notes back to us), then the caller's
    pairs up to Razorpay's limits. Notes are for people reading the dashboard, so pairs past
    the limit are dropped and long values cut rather than failing the link."""
    notes = {"order_id": request.order_id}
    for key, value in request.notes.items():
        if len(notes) >= MAX_NOTES:
            break
        notes.setdefault(key, value[:MAX_NOTE_VALUE])
    return notes


# --- response reading -------------------------------------------------------------------------


def _decode(raw: bytes, action: str) -> object:
    try:
        return json.loads(raw)
    except ValueError as exc:
        # A 2xx we cannot read (a proxy page?) may still have created the link; a retry with
        # the same reference id finds it, so this is transient.
        raise ProviderUnavailable(f"Razorpay {action}: unreadable success body") from exc


def _read(model: type[_M], data: object, action: str) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProviderUnavailable(
            f"Razorpay {action}: unexpected success body ({_first_error(exc)})"
        ) from exc


def _created(link: _Link, request: LinkRequest) -> CreatedLink:
    return CreatedLink(
        link_id=link.id,
        url=link.short_url,
        expires_at=link.expire_by or request.expire_by,
        status=link.status,
    )


_CHECK_STATES: Final[Mapping[str, Literal["pending", "paid", "expired", "cancelled"]]] = {
    "created": "pending",
    # Never for our links (accept_partial is false); not paid in full is not paid.
    "partially_paid": "pending",
    "paid": "paid",
    "expired": "expired",
    "cancelled": "cancelled",
}


def _check_of(link: _FetchedLink, order_id: str) -> PaymentCheck:
    state = _CHECK_STATES.get(link.status)
    if state is None:
        raise ProviderUnavailable(f"Razorpay link {link.id} has an unknown status {link.status!r}")
    captured = [payment for payment in link.payments if payment.status == "captured"]
    latest = max(captured, key=lambda payment: payment.created_at) if captured else None
    return PaymentCheck(
        order_id=order_id,
        link_id=link.id,
        state=state,
        payment_id=latest.payment_id if latest else None,
        amount_paid=link.amount_paid,
        currency=link.currency,
    )


def _check_reusable(link: _Link, request: LinkRequest) -> _Link:
    """An earlier link for this order is returned only if it can still take this payment."""
    if link.status in _DEAD_LINK_STATUSES:
        raise ProviderRejected(
            f"order {request.order_id!r} already has a {link.status} Razorpay link {link.id}; "
            "reference ids cannot be reused, so this order needs a new id",
            code="REFERENCE_ID_USED",
            description=f"existing link {link.id} is {link.status}",
        )
    if (link.amount, link.currency) != (request.amount, request.currency):
        raise ProviderRejected(
            f"order {request.order_id!r} already has Razorpay link {link.id} for "
            f"{link.amount} {link.currency}, not {request.amount} {request.currency}",
            code="REFERENCE_ID_USED",
            description=f"existing link {link.id} has a different amount",
        )
    return link


def _error_from_response(status: int, raw: bytes, action: str) -> PaymentProviderError:
    """Map a non-2xx answer: 429, 5xx and SERVER_ERROR are worth retrying, other 4xx not."""
    code, description = _error_fields(raw)
    message = f"Razorpay {action}: HTTP {status} {code or 'no code'}: {description}"
    transient = status == 429 or status >= 500 or status < 400 or code == "SERVER_ERROR"
    kind = ProviderUnavailable if transient else ProviderRejected
    return kind(message, status=status, code=code, description=description)


def _error_fields(raw: bytes) -> tuple[str | None, str]:
    try:
        detail = _ErrorBody.model_validate_json(raw).error
    except ValidationError:
        # Not Razorpay's error JSON: a gateway's HTML page, plain text or nothing.
        text = raw.decode("utf-8", errors="replace").strip()
        return None, text[:300] or "(empty body)"
    return detail.code, detail.description or "(no description)"


# --- webhooks -------------------------------------------------------------------------------

_Translation = tuple[str | None, PaymentEvent | None]


def _webhook_event_id(raw: bytes, headers: Mapping[str, str]) -> str:
    """Razorpay's event id (the same on every redelivery), else a hash of the exact body."""
    event_id = (header_value(headers, EVENT_ID_HEADER) or "").strip()
    return event_id or f"sha256:{hashlib.sha256(raw).hexdigest()}"


def _signed_event_key(envelope: _Envelope, raw: bytes) -> str:
    """The event's identity from the signed body: its type, the id of the entity it is about
    (`payment.failed` -> the payment, `payment_link.paid` -> the link, ...) and when Razorpay
    created it. Redeliveries repeat all three, and so does a captured body replayed with a new
    `X-Razorpay-Event-Id`, which the signature does not cover. A body without them is keyed by
    its exact bytes."""
    entity = envelope.payload.get(envelope.event.partition(".")[0])
    inner = entity.get("entity") if isinstance(entity, Mapping) else None
    entity_id = inner.get("id") if isinstance(inner, Mapping) else None
    created_at = envelope.created_at
    if isinstance(entity_id, str) and entity_id and isinstance(created_at, int | str):
        return f"{envelope.event}:{entity_id}:{created_at}"
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def _translate(event_type: str, payload: Mapping[str, Any]) -> _Translation:
    """Our order id and event for one webhook. Types we only log give event None."""
    handler = _HANDLERS.get(event_type)
    if handler is None:
        try:
            entities = _Payload.model_validate(payload)
        except ValidationError:
            return None, None  # an unknown type we only log: its shape is not our business
        return _order_id(entities), None
    return handler(_validate_payload(event_type, payload))


def _on_link_paid(entities: _Payload) -> _Translation:
    link = _need(entities.payment_link, "payment_link.paid", "payment_link")
    payment = _need(entities.payment, "payment_link.paid", "payment")
    order_id = _order_id(entities)
    if order_id is None:
        return None, None  # a link we did not create (no reference id): log only
    captured = PaymentCaptured(
        order_id=order_id,
        link_id=link.id,
        payment_id=payment.id,
        currency=link.currency,
        amount=link.amount,
        amount_paid=link.amount_paid,
    )
    return order_id, captured


def _on_link_expired(entities: _Payload) -> _Translation:
    link = _need(entities.payment_link, "payment_link.expired", "payment_link")
    order_id = _order_id(entities)
    if order_id is None:
        return None, None
    return order_id, PaymentLinkExpired(order_id=order_id, link_id=link.id)


def _on_link_cancelled(entities: _Payload) -> _Translation:
    link = _need(entities.payment_link, "payment_link.cancelled", "payment_link")
    order_id = _order_id(entities)
    if order_id is None:
        return None, None
    return order_id, PaymentLinkCancelled(order_id=order_id, link_id=link.id)


def _on_payment_failed(entities: _Payload) -> _Translation:
    payment = _need(entities.payment, "payment.failed", "payment")
    # The payment carries no reference id, only the notes copied from the link, where
    # create_link put our order id.
    order_id = payment.notes.get("order_id") or None
    if order_id is None:
        return None, None
    reason = payment.error_description or payment.error_reason or ""
    return order_id, PaymentFailed(order_id=order_id, payment_id=payment.id, reason=reason)


def _log_only(entities: _Payload) -> _Translation:
    # partially_paid never happens to our links (accept_partial is false); payment.captured,
    # order.paid and refund.processed repeat what payment_link.paid says or need a human.
    return _order_id(entities), None


_HANDLERS: Final[Mapping[str, Callable[[_Payload], _Translation]]] = {
    "payment_link.paid": _on_link_paid,
    "payment_link.expired": _on_link_expired,
    "payment_link.cancelled": _on_link_cancelled,
    "payment.failed": _on_payment_failed,
    "payment_link.partially_paid": _log_only,
    "payment.captured": _log_only,
    "order.paid": _log_only,
}

_REFUND_OUTCOMES: Final = {"refund.processed": "processed", "refund.failed": "failed"}


def _refund_update(event_type: str, payload: Mapping[str, Any]) -> tuple[str | None, RefundUpdate]:
    """A refund's final state; our refund and order ids come back in the notes we sent."""
    try:
        refund = _RefundPayload.model_validate(payload).refund.entity
    except ValidationError as exc:
        raise MalformedPaymentWebhook(
            f"Razorpay {event_type} webhook payload: {_first_error(exc)}"
        ) from exc
    ours = refund.notes.get("refund_id", "")
    update = RefundUpdate(
        provider_refund_id=refund.id,
        status=_REFUND_OUTCOMES[event_type],
        refund_id=int(ours) if ours.isdigit() else None,
        failure=refund.error_description
        or ("the provider could not refund" if event_type == "refund.failed" else None),
    )
    return refund.notes.get("order_id") or None, update


def _order_id(entities: _Payload) -> str | None:
    """Our order id: the link's reference id, else the order's receipt, else a note."""
    link = entities.payment_link.entity if entities.payment_link else None
    order = entities.order.entity if entities.order else None
    payment = entities.payment.entity if entities.payment else None
    candidates = [
        link.reference_id if link else None,
        order.receipt if order else None,
        *(entity.notes.get("order_id") for entity in (link, order, payment) if entity),
    ]
    return next((candidate for candidate in candidates if candidate), None)


def _need(box: _Box[_E] | None, event_type: str, name: str) -> _E:
    if box is None:
        raise MalformedPaymentWebhook(f"Razorpay {event_type} webhook without a {name} entity")
    return box.entity


def _read_envelope(raw: bytes) -> _Envelope:
    try:
        envelope = _Envelope.model_validate_json(raw)
    except ValidationError as exc:
        raise MalformedPaymentWebhook(
            f"Razorpay webhook body is not an event envelope: {_first_error(exc)}"
        ) from exc
    try:
        check_storable(raw)
    except ValueError as exc:
        raise MalformedPaymentWebhook(f"Razorpay webhook body: {exc}") from None
    return envelope


def _validate_payload(event_type: str, payload: Mapping[str, Any]) -> _Payload:
    try:
        return _Payload.model_validate(payload)
    except ValidationError as exc:
        raise MalformedPaymentWebhook(
            f"Razorpay {event_type} webhook payload: {_first_error(exc)}"
        ) from exc


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {error['msg']}{more}"
