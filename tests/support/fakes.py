"""Recording fakes of the Graph API and Razorpay, served on loopback by aiohttp's TestServer.

Each records what the bot sent and can be told to fail: a queue of canned responses is used
first, then the normal answer. Razorpay's fake also keeps links by reference id, answering
"already attempted" on reuse like the real one.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

PHONE_NUMBER_ID = "500600700800900"


@dataclass
class Canned:
    status: int
    body: dict[str, Any]
    delay: float = 0.0
    then_apply: bool = False  # Razorpay: do the real work, then answer late (ambiguous timeout)


def graph_error(code: int, status: int = 400, message: str = "error") -> Canned:
    return Canned(
        status,
        {
            "error": {
                "message": message,
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": message},
                "fbtrace_id": "Atrace",
            }
        },
    )


def meta_like_wamid(recipient: str, serial: int) -> str:
    """Shaped like Meta's: base64 that carries the recipient's number (`HBgM` + `OTE5...`)."""
    packed = b"\x1c\x18\x0c" + recipient.encode() + b"\x15\x02\x00\x11\x18\x12"
    return "wamid." + base64.b64encode(packed + f"{serial:018X}".encode()).decode()


@dataclass
class FakeGraph:
    token: str
    sent: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    script: deque[Canned] = field(default_factory=deque)
    # Read receipts (`"status": "read"` bodies) are kept apart from messages, with their own
    # canned answers: they are best-effort calls beside the replies.
    reads: list[dict[str, Any]] = field(default_factory=list)
    read_script: deque[Canned] = field(default_factory=deque)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v25.0/{phone_number_id}/messages", self._messages)
        return app

    async def _messages(self, request: web.Request) -> web.Response:
        assert request.headers.get("Authorization") == f"Bearer {self.token}"
        assert request.match_info["phone_number_id"] == PHONE_NUMBER_ID
        body = await request.json()
        if body.get("status") == "read":
            return await self._read(body)
        self.attempts += 1
        if self.script:
            canned = self.script.popleft()
            await asyncio.sleep(canned.delay)
            return web.json_response(canned.body, status=canned.status)
        self.sent.append(body)
        recipient = body.get("to") or body.get("recipient")
        wamid = meta_like_wamid(str(recipient), next(self._ids))
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": recipient, "wa_id": recipient}],
                "messages": [{"id": wamid}],
            }
        )

    def to(self, recipient: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if recipient in (m.get("to"), m.get("recipient"))]

    async def _read(self, body: dict[str, Any]) -> web.Response:
        self.reads.append(body)
        if self.read_script:
            canned = self.read_script.popleft()
            await asyncio.sleep(canned.delay)
            return web.json_response(canned.body, status=canned.status)
        return web.json_response({"success": True})

    def read_ids(self) -> list[str]:
        """The wamids marked read, in the order the calls came."""
        return [str(body["message_id"]) for body in self.reads]


@dataclass
class FakeRazorpay:
    key_id: str
    key_secret: str
    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    script: deque[Canned] = field(default_factory=deque)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)  # by idempotency key
    refund_script: deque[Canned] = field(default_factory=deque)
    fetch_script: deque[Canned] = field(default_factory=deque)  # answers to GET one link
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(10_000))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/payment_links", self._create)
        app.router.add_get("/v1/payment_links", self._list)
        app.router.add_get("/v1/payment_links/{id}", self._fetch)
        app.router.add_post("/v1/payment_links/{id}/cancel", self._cancel)
        app.router.add_post("/v1/payments/{id}/refund", self._refund)
        return app

    @property
    def created(self) -> list[dict[str, Any]]:
        return list(self.links.values())

    def _by_reference(self, reference_id: str) -> dict[str, Any] | None:
        links = self.links.values()
        return next((link for link in links if link["reference_id"] == reference_id), None)

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append(("POST", "/payment_links", body))
        canned = self.script.popleft() if self.script else None
        if canned and not canned.then_apply:
            await asyncio.sleep(canned.delay)
            return web.json_response(canned.body, status=canned.status)
        if self._by_reference(body["reference_id"]) is not None:
            return web.json_response(
                {
                    "error": {
                        "code": "BAD_REQUEST_ERROR",
                        "description": "payment link creation with reference ID already attempted",
                        "source": "business",
                        "step": "payment_initiation",
                        "reason": "input_validation_failed",
                    }
                },
                status=400,
            )
        link_id = f"plink_Fake{next(self._ids):010d}"
        link = {
            "id": link_id,
            "entity": "payment_link",
            "status": "created",
            "amount": body["amount"],
            "amount_paid": 0,
            "currency": body.get("currency", "INR"),
            "reference_id": body["reference_id"],
            "description": body.get("description", ""),
            "expire_by": body.get("expire_by", 0),
            "short_url": f"https://rzp.io/rzp/{link_id[-8:]}",
            "notes": body.get("notes") or {},
            "customer": body.get("customer", {}),
            "callback_url": body.get("callback_url", ""),
            "created_at": 1760000000,
        }
        self.links[link_id] = link
        if canned:  # created, then the answer is lost: the ambiguous failure
            await asyncio.sleep(canned.delay)
            return web.json_response(canned.body, status=canned.status)
        return web.json_response(link)

    async def _list(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", "/payment_links", dict(request.query)))
        link = self._by_reference(request.query.get("reference_id", ""))
        links = [link] if link else []
        return web.json_response({"count": len(links), "payment_links": links})

    async def _fetch(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", f"/payment_links/{request.match_info['id']}", None))
        canned = self.fetch_script.popleft() if self.fetch_script else None
        if canned:
            await asyncio.sleep(canned.delay)
            return web.json_response(canned.body, status=canned.status)
        link = self.links.get(request.match_info["id"])
        if link is None:
            return web.json_response(
                {"error": {"code": "BAD_REQUEST_ERROR", "description": "not found"}}, status=400
            )
        return web.json_response(link)

    async def _cancel(self, request: web.Request) -> web.Response:
        link_id = request.match_info["id"]
        self.requests.append(("POST", f"/payment_links/{link_id}/cancel", None))
        link = self.links.get(link_id)
        if link is None or link["status"] != "created":
            return web.json_response(
                {"error": {"code": "BAD_REQUEST_ERROR", "description": "cannot cancel this link"}},
                status=400,
            )
        link["status"] = "cancelled"
        return web.json_response(link)

    async def _refund(self, request: web.Request) -> web.Response:
        """Razorpay's idempotent refunds: the same X-Refund-Idempotency key returns the first
        refund instead of making another; more than what was paid is refused."""
        payment_id = request.match_info["id"]
        body = await request.json()
        key = request.headers.get("X-Refund-Idempotency", "")
        self.requests.append(("POST", f"/payments/{payment_id}/refund", {**body, "key": key}))
        canned = self.refund_script.popleft() if self.refund_script else None
        if canned and not canned.then_apply:
            return web.json_response(canned.body, status=canned.status)
        if key not in self.refunds:
            refunded = sum(
                r["amount"] for r in self.refunds.values() if r["payment_id"] == payment_id
            )
            paid = next(
                (link["amount"] for link in self.links.values() if link["status"] == "paid"), 0
            )
            if refunded + body["amount"] > paid:
                return web.json_response(
                    {
                        "error": {
                            "code": "BAD_REQUEST_ERROR",
                            "description": "The refund amount provided is greater than amount "
                            "captured",
                        }
                    },
                    status=400,
                )
            self.refunds[key] = {
                "id": f"rfnd_Fake{next(self._ids):010d}",
                "entity": "refund",
                "amount": body["amount"],
                "currency": "INR",
                "payment_id": payment_id,
                "notes": body.get("notes") or {},
                "status": "pending",
                "speed_processed": "normal",
                "created_at": 1760001000,
            }
        if canned:  # refunded, then the answer is lost
            return web.json_response(canned.body, status=canned.status)
        return web.json_response(self.refunds[key])

    def refund_webhook(self, refund_id: str, event: str = "refund.processed") -> bytes:
        """`refund.processed` / `refund.failed` for a refund this fake made."""
        refund = next(r for r in self.refunds.values() if r["id"] == refund_id)
        refund["status"] = event.split(".")[1]
        body = {
            "entity": "event",
            "account_id": "acc_Fake",
            "event": event,
            "contains": ["refund", "payment"],
            "payload": {
                "refund": {"entity": {**refund}},
                "payment": {
                    "entity": {"id": refund["payment_id"], "amount_refunded": refund["amount"]}
                },
            },
            "created_at": 1760001100,
        }
        return json.dumps(body, separators=(",", ":")).encode()

    def paid_webhook(
        self,
        link_id: str,
        *,
        amount_paid: int | None = None,
        currency: str | None = None,
        payment_id: str = "pay_Fake000000001",
    ) -> bytes:
        """A `payment_link.paid` body for a link this fake issued, shaped like the fixture."""
        link = self.links[link_id]
        paid = link["amount"] if amount_paid is None else amount_paid
        self.pay(link_id, amount_paid=paid, currency=currency, payment_id=payment_id)
        body = {
            "entity": "event",
            "account_id": "acc_Fake",
            "event": "payment_link.paid",
            "contains": ["payment_link", "order", "payment"],
            "payload": {
                "payment_link": {
                    "entity": {
                        **link,
                        "amount_paid": paid,
                        "status": "paid",
                        "currency": currency or link["currency"],
                    }
                },
                "order": {
                    "entity": {
                        "id": "order_Fake",
                        "amount": link["amount"],
                        "amount_paid": paid,
                        "receipt": link["reference_id"],
                        "status": "paid",
                        "currency": currency or link["currency"],
                    }
                },
                "payment": {
                    "entity": {
                        "id": payment_id,
                        "amount": paid,
                        "status": "captured",
                        "currency": currency or link["currency"],
                        "order_id": "order_Fake",
                        "notes": link["notes"],
                        "contact": "+919812300001",
                    }
                },
            },
            "created_at": 1760000500,
        }
        return json.dumps(body, separators=(",", ":")).encode()

    def pay(
        self,
        link_id: str,
        *,
        amount_paid: int | None = None,
        currency: str | None = None,
        payment_id: str = "pay_Fake000000001",
    ) -> None:
        """The customer pays through the link: what GET /payment_links/{id} then answers (a
        webhook may or may not follow: see `paid_webhook`)."""
        link = self.links[link_id]
        paid = link["amount"] if amount_paid is None else amount_paid
        link["status"] = "paid"
        link["amount_paid"] = paid
        if currency:
            link["currency"] = currency
        link["payments"] = [
            {
                "amount": paid,
                "created_at": 1760000490,
                "method": "upi",
                "payment_id": payment_id,
                "status": "captured",
            }
        ]

    def failed_webhook(
        self, link_id: str, *, payment_id: str = "pay_Failed0000001", created_at: int = 1760000450
    ) -> bytes:
        """A `payment.failed` body for a link this fake issued: the order id is in the notes."""
        link = self.links[link_id]
        body = {
            "entity": "event",
            "account_id": "acc_Fake",
            "event": "payment.failed",
            "contains": ["payment"],
            "payload": {
                "payment": {
                    "entity": {
                        "id": payment_id,
                        "amount": link["amount"],
                        "currency": link["currency"],
                        "status": "failed",
                        "notes": link["notes"],
                        "error_description": "Payment was declined by the bank",
                    }
                }
            },
            "created_at": created_at,
        }
        return json.dumps(body, separators=(",", ":")).encode()

    def link_event(self, link_id: str, event: str) -> bytes:
        """`payment_link.expired` / `payment_link.cancelled` for a link."""
        link = self.links[link_id]
        link["status"] = event.split(".")[1]
        body = {
            "entity": "event",
            "account_id": "acc_Fake",
            "event": event,
            "contains": ["payment_link"],
            "payload": {"payment_link": {"entity": {**link}}},
            "created_at": 1760000600,
        }
        return json.dumps(body, separators=(",", ":")).encode()
