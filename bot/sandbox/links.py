"""Razorpay payment links as Razorpay keeps them: validation, state changes and event bodies.

No I/O here: `bot.sandbox.razorpay` serves these over HTTP and delivers the events. Entities are
plain dicts in Razorpay's own field names and order (fixtures/razorpay/api), because their wire
shape is the point of a stand-in.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.sandbox.signing import razorpay_id
from flows import limits

ACCOUNT_ID = "acc_SandboxShop001"
MIN_EXPIRY_SECONDS = 15 * 60
MAX_EXPIRY_SECONDS = 180 * 24 * 3600
MAX_NOTES = 15

CREATE_FIELDS = frozenset(
    {
        "amount",
        "currency",
        "accept_partial",
        "first_min_partial_amount",
        "reference_id",
        "description",
        "customer",
        "notify",
        "reminder_enable",
        "notes",
        "callback_url",
        "callback_method",
        "expire_by",
        "upi_link",
        "options",
    }
)

Entity = dict[str, Any]


class RazorpayError(Exception):
    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description

    def body(self) -> dict[str, Any]:
        error = {
            "code": self.code,
            "description": self.description,
            "source": "NA",
            "step": "NA",
            "reason": "NA",
            "metadata": {},
        }
        return {"error": error}


def bad_request(description: str) -> RazorpayError:
    return RazorpayError(400, "BAD_REQUEST_ERROR", description)


# --- create-request validation ------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_amount(body: Mapping[str, Any]) -> None:
    amount = body.get("amount")
    if amount is None:
        raise bad_request("The amount field is required.")
    if not _is_int(amount):
        raise bad_request("The amount must be an integer.")
    if amount < limits.PAYMENT_LINK_MIN_AMOUNT:
        raise bad_request("The amount must be atleast INR 1.00")
    if body.get("currency", "INR") != "INR":
        raise bad_request("The sandbox only takes INR")


def _check_strings(body: Mapping[str, Any]) -> None:
    reference = body.get("reference_id")
    if reference is not None:
        if not isinstance(reference, str):
            raise bad_request("The reference id must be a string.")
        if len(reference) > limits.PAYMENT_LINK_REFERENCE_ID_MAX:
            raise bad_request("The reference id may not be greater than 40 characters.")
    description = body.get("description")
    if description is not None and (
        not isinstance(description, str) or len(description) > limits.PAYMENT_LINK_DESCRIPTION_MAX
    ):
        raise bad_request("The description may not be greater than 2048 characters.")
    for name in ("customer", "notify"):
        if name in body and not isinstance(body[name], Mapping):
            raise bad_request(f"The {name} must be an array.")


def _check_notes(notes: object) -> None:
    if notes is None or notes == []:
        return
    if not isinstance(notes, Mapping):
        raise bad_request("The notes must be an array.")
    if len(notes) > MAX_NOTES:
        raise bad_request("Number of fields in notes should be less than or equal to 15")
    for value in notes.values():
        if len(str(value)) > limits.PAYMENT_LINK_NOTE_VALUE_MAX:
            raise bad_request("Notes value should be less than or equal to 255 characters")


def _check_callback(body: Mapping[str, Any]) -> None:
    url, method = body.get("callback_url"), body.get("callback_method")
    if url and not method:
        raise bad_request("The callback method field is required when callback url is present.")
    if method and not url:
        raise bad_request("The callback url field is required when callback method is present.")
    if method and method != "get":
        raise bad_request("The selected callback method is invalid.")
    if url and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        raise bad_request("The callback url format is invalid.")


def _check_expiry(body: Mapping[str, Any], now: int) -> None:
    expire_by = body.get("expire_by")
    if expire_by is None:
        return
    if not _is_int(expire_by):
        raise bad_request("The expire by must be an integer.")
    if expire_by < now + MIN_EXPIRY_SECONDS:
        raise bad_request("timestamp must be atleast 15 minutes in future")
    if expire_by > now + MAX_EXPIRY_SECONDS:
        raise bad_request("timestamp must be within 6 months in future")


def check_create(body: object, now: int) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise bad_request("The request body must be a JSON object.")
    extra = sorted(set(body) - CREATE_FIELDS)
    if extra:
        raise bad_request(f"{', '.join(extra)} is/are not required and should not be sent")
    _check_amount(body)
    _check_strings(body)
    _check_notes(body.get("notes"))
    _check_callback(body)
    _check_expiry(body, now)
    return body


# --- the store ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Payment:
    """What one click on the checkout page produced."""

    link: Entity
    payment: Entity
    order: Entity | None  # the Razorpay order entity, sent with payment_link.paid


class LinkStore:
    def __init__(self) -> None:
        self.links: dict[str, Entity] = {}
        self.refunds: dict[str, Entity] = {}  # by X-Refund-Idempotency key
        self._attempted: set[str] = set()  # every reference id ever used, like Razorpay
        self._order_attempts: dict[str, int] = {}

    def create(self, body: object, *, now: int, public_url: str) -> Entity:
        request = check_create(body, now)
        reference = request.get("reference_id")
        if reference:
            if reference in self._attempted:
                raise bad_request("payment link creation with reference ID already attempted")
            self._attempted.add(reference)
        link_id = razorpay_id("plink_")
        self.links[link_id] = _new_link(
            request, link_id, now, f"{public_url}/sandbox/pay/{link_id}"
        )
        return self.links[link_id]

    def get(self, link_id: str) -> Entity:
        link = self.links.get(link_id)
        if link is None:
            raise bad_request("The id provided does not exist")
        return link

    def find(self, reference_id: str | None) -> list[Entity]:
        """Newest first, as Razorpay lists."""
        found = [
            link
            for link in self.links.values()
            if reference_id is None or link["reference_id"] == reference_id
        ]
        return found[::-1]

    def due(self, now: int) -> list[str]:
        """Links past their `expire_by` that Razorpay would expire now."""
        return [
            link["id"]
            for link in self.links.values()
            if link["status"] == "created" and 0 < link["expire_by"] <= now
        ]

    def cancel(self, link_id: str, now: int) -> Entity:
        link = self._open(link_id, "cancel")
        link.update(status="cancelled", cancelled_at=now, updated_at=now)
        return link

    def expire(self, link_id: str, now: int) -> Entity:
        link = self._open(link_id, "expire")
        link.update(status="expired", expired_at=now, updated_at=now)
        return link

    def pay(self, link_id: str, now: int) -> Payment:
        link = self._open(link_id, "pay")
        order_id = self._start_attempt(link)
        payment = _payment(link, order_id, now, captured=True)
        link.update(status="paid", amount_paid=link["amount"], updated_at=now)
        link["payments"] = [
            {
                "amount": link["amount"],
                "created_at": now,
                "method": "upi",
                "payment_id": payment["id"],
                "plink_id": link_id,
                "status": "captured",
                "updated_at": now,
            }
        ]
        return Payment(link, payment, self._order(link, order_id, now))

    def fail(self, link_id: str, now: int) -> Payment:
        """A failed attempt: the link stays open, the customer may try again."""
        link = self._open(link_id, "pay")
        order_id = self._start_attempt(link)
        return Payment(link, _payment(link, order_id, now, captured=False), None)

    def refund(self, payment_id: str, body: object, key: str, now: int) -> tuple[Entity, bool]:
        """Razorpay's refund of a captured payment; returns the refund and whether it is new.
        The same idempotency key returns the first refund (a retry never refunds twice), and
        refunds never add up to more than was captured."""
        if not (10 <= len(key) <= 255) or not key.replace("-", "").replace("_", "").isalnum():
            raise bad_request("X-Refund-Idempotency must be 10+ characters of A-Z a-z 0-9 _ -")
        if key in self.refunds:
            return self.refunds[key], False
        if not isinstance(body, Mapping) or not _is_int(body.get("amount")):
            raise bad_request("The amount must be an integer in paise.")
        amount = int(body["amount"])
        if amount < 100:
            raise bad_request("The amount must be at least INR 1.00")
        captured = self._captured(payment_id)
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_id"] == payment_id)
        if refunded >= captured:
            raise bad_request("The payment has been fully refunded already")
        if refunded + amount > captured:
            raise bad_request("The refund amount provided is greater than amount captured")
        notes = body.get("notes") or {}
        _check_notes(notes)
        refund: Entity = {
            "id": razorpay_id("rfnd_"),
            "entity": "refund",
            "amount": amount,
            "currency": "INR",
            "payment_id": payment_id,
            "notes": notes,
            "receipt": None,
            "acquirer_data": {"arn": None},
            "created_at": now,
            "batch_id": None,
            "status": "pending",  # normal speed: processed later, told by webhook
            "speed_processed": "normal",
            "speed_requested": "normal",
        }
        self.refunds[key] = refund
        return refund, True

    def _captured(self, payment_id: str) -> int:
        for link in self.links.values():
            for payment in link.get("payments", []):
                if payment["payment_id"] == payment_id and payment["status"] == "captured":
                    return int(payment["amount"])
        raise bad_request("The id provided does not exist")

    def _open(self, link_id: str, action: str) -> Entity:
        link = self.get(link_id)
        status = link["status"]
        if status in {"paid", "partially_paid"} and action != "pay":
            raise bad_request("cannot cancel or expire an already paid/partially paid link")
        if status != "created":
            raise bad_request(f"cannot {action} a payment link that is {status}")
        return link

    def _start_attempt(self, link: Entity) -> str:
        # The link's order exists only once the customer starts paying.
        order_id: str = link.get("order_id") or razorpay_id("order_")
        link["order_id"] = order_id
        self._order_attempts[order_id] = self._order_attempts.get(order_id, 0) + 1
        return order_id

    def _order(self, link: Entity, order_id: str, now: int) -> Entity:
        return {
            "amount": link["amount"],
            "amount_due": 0,
            "amount_paid": link["amount"],
            "attempts": self._order_attempts.get(order_id, 1),
            "created_at": link["created_at"],
            "currency": link["currency"],
            "entity": "order",
            "id": order_id,
            "notes": link["notes"],
            "offer_id": None,
            "partial_payment": False,
            "product_id": link["id"].removeprefix("plink_"),
            "product_type": "payment_link_v2",
            "receipt": link["reference_id"] or None,
            "status": "paid",
        }


def _new_link(request: Mapping[str, Any], link_id: str, now: int, short_url: str) -> Entity:
    notify = {"email": False, "sms": False, "whatsapp": False}
    notify.update(request.get("notify") or {})
    return {
        "accept_partial": bool(request.get("accept_partial", False)),
        "amount": request["amount"],
        "amount_paid": 0,
        "callback_method": request.get("callback_method") or "",
        "callback_url": request.get("callback_url") or "",
        "cancelled_at": 0,
        "created_at": now,
        "currency": request.get("currency", "INR"),
        "customer": dict(request.get("customer") or {}),
        "description": request.get("description") or "",
        "expire_by": request.get("expire_by") or 0,
        "expired_at": 0,
        "first_min_partial_amount": request.get("first_min_partial_amount", 0),
        "id": link_id,
        "notes": request.get("notes") or None,
        "notify": notify,
        "reference_id": request.get("reference_id") or "",
        "reminder_enable": bool(request.get("reminder_enable", False)),
        "reminders": [],
        "short_url": short_url,
        "status": "created",
        "updated_at": now,
        "upi_link": bool(request.get("upi_link", False)),
        "user_id": "",
        "whatsapp_link": False,
        "payments": None,
    }


def _payment(link: Entity, order_id: str, now: int, *, captured: bool) -> Entity:
    customer = link["customer"]
    vpa = "sandbox.customer@okrazorpay"
    amount = link["amount"]
    fee = round(amount * 0.0236) if captured else None  # 2% plus 18% GST, as a real fee looks
    notes = dict(link["notes"] or {})
    if not captured:
        # A failed payment names no link of its own; these let a receiver find the order.
        notes.setdefault("order_id", link["reference_id"])
        notes.setdefault("payment_link_id", link["id"])
    failure = ("BAD_REQUEST_ERROR", "Payment failed", "issuer", "payment_authorization")
    return {
        "id": razorpay_id("pay_"),
        "entity": "payment",
        "amount": amount,
        "currency": link["currency"],
        "base_amount": amount,
        "status": "captured" if captured else "failed",
        "order_id": order_id,
        "invoice_id": None,
        "international": False,
        "method": "upi",
        "amount_refunded": 0,
        "amount_transferred": 0,
        "refund_status": None,
        "captured": captured,
        "description": "#" + link["id"].removeprefix("plink_"),
        "card_id": None,
        "bank": None,
        "wallet": None,
        "vpa": vpa,
        "email": customer.get("email") or "void@razorpay.com",
        "contact": customer.get("contact") or "+919000090000",
        "notes": notes,
        "fee": fee,
        "tax": fee - round(amount * 0.02) if fee is not None else None,
        "error_code": None if captured else failure[0],
        "error_description": None if captured else failure[1],
        "error_source": None if captured else failure[2],
        "error_step": None if captured else failure[3],
        "error_reason": None if captured else "payment_failed",
        "acquirer_data": {"rrn": str(secrets.randbelow(10**12)).zfill(12) if captured else None},
        "created_at": now,
        "upi": {"payer_account_type": "bank_account", "vpa": vpa},
    }


def webhook_event(event: str, entities: Mapping[str, Entity], now: int) -> Entity:
    """The envelope Razorpay posts; link entities go out without their `payments` list."""
    payload = {
        name: {"entity": {k: v for k, v in entity.items() if k != "payments"}}
        for name, entity in entities.items()
    }
    return {
        "entity": "event",
        "account_id": ACCOUNT_ID,
        "event": event,
        "contains": list(entities),
        "payload": payload,
        "created_at": now,
    }
