"""Recording fakes of Stripe's Checkout Sessions and Paystack's transactions, served on loopback
by aiohttp's TestServer, with the same habits as `FakeRazorpay`: they record every request, can
be told to fail (a queue of canned answers first, optionally after doing the work), and build the
webhook bodies their provider would send for what happened.

Stripe's fake keeps idempotency keys as Stripe does: the same key with the same parameters
replays the first answer, with other parameters it is an `idempotency_error`. Paystack's fake
refuses a reference twice ("Duplicate Transaction Reference") and takes no idempotency key.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from tests.support.fakes import Canned


def _stripe_error(status: int, message: str, code: str, kind: str = "invalid_request_error") -> Any:
    return web.json_response(
        {"error": {"type": kind, "code": code, "message": message}}, status=status
    )


def _unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`a[b][0][c]=v` form fields back into nested dicts (lists stay dicts keyed "0", "1")."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


@dataclass
class FakeStripe:
    secret_key: str
    webhook_secret: str = "whsec_fake_stripe_webhook_secret"
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id
    requests: list[tuple[str, str, dict[str, Any], str | None]] = field(default_factory=list)
    script: deque[Canned] = field(default_factory=deque)
    refund_status: str = "pending"
    _replays: dict[str, tuple[str, int, Any]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/checkout/sessions", self._create)
        app.router.add_get("/v1/checkout/sessions/{id}", self._fetch)
        app.router.add_post("/v1/checkout/sessions/{id}/expire", self._expire)
        app.router.add_post("/v1/refunds", self._refund)
        return app

    @property
    def created(self) -> list[dict[str, Any]]:
        return list(self.sessions.values())

    async def _form(self, request: web.Request) -> tuple[list[tuple[str, str]], str | None]:
        assert request.headers["Authorization"] == f"Bearer {self.secret_key}"
        assert request.headers.get("Stripe-Version")
        raw = (await request.read()).decode()
        pairs = parse_qsl(raw, keep_blank_values=True)
        key = request.headers.get("Idempotency-Key")
        self.requests.append((request.method, request.path, _unflatten(pairs), key))
        return pairs, key

    async def _idempotent(
        self, key: str | None, pairs: list[tuple[str, str]], make: Any
    ) -> web.Response:
        fingerprint = json.dumps(pairs)
        if key is not None and key in self._replays:
            seen, status, body = self._replays[key]
            if seen != fingerprint:
                return _stripe_error(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    "they were first used with.",
                    "idempotency_key_in_use",
                    "idempotency_error",
                )
            return web.json_response(body, status=status)
        canned = self.script.popleft() if self.script else None
        if canned and not canned.then_apply:
            await asyncio.sleep(canned.delay)
            return web.json_response(canned.body, status=canned.status)
        status, body = make()
        if key is not None and status < 500:
            self._replays[key] = (fingerprint, status, body)
        if canned:  # done, and then the answer is lost
            await asyncio.sleep(canned.delay)
            return web.json_response(canned.body, status=canned.status)
        return web.json_response(body, status=status)

    async def _create(self, request: web.Request) -> web.Response:
        pairs, key = await self._form(request)
        form = _unflatten(pairs)

        def make() -> tuple[int, Any]:
            line = form["line_items"]["0"]
            session_id = f"cs_test_Fake{next(self._ids):08d}"
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": form["mode"],
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": int(line["price_data"]["unit_amount"]) * int(line["quantity"]),
                "currency": line["price_data"]["currency"],
                "client_reference_id": form.get("client_reference_id"),
                "metadata": form.get("metadata", {}),
                "payment_intent": None,
                "expires_at": int(form["expires_at"]),
                "success_url": form["success_url"],
                "cancel_url": form.get("cancel_url"),
                "url": f"https://checkout.stripe.test/c/pay/{session_id}",
                "_intent_metadata": form["payment_intent_data"]["metadata"],
            }
            self.sessions[session_id] = session
            return 200, self._public(session)

        return await self._idempotent(key, pairs, make)

    async def _fetch(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", request.path, {}, None))
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            return _stripe_error(404, "No such checkout.session", "resource_missing")
        return web.json_response(self._public(session))

    async def _expire(self, request: web.Request) -> web.Response:
        await self._form(request)
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            return _stripe_error(404, "No such checkout.session", "resource_missing")
        if session["status"] != "open":
            return _stripe_error(
                400,
                'Only Checkout Sessions with a status in ["open"] can be expired.',
                "checkout_session_not_open",
            )
        session["status"] = "expired"
        session["url"] = None
        return web.json_response(self._public(session))

    async def _refund(self, request: web.Request) -> web.Response:
        pairs, key = await self._form(request)
        form = _unflatten(pairs)

        def make() -> tuple[int, Any]:
            intent = form["payment_intent"]
            paid = sum(
                s["amount_total"] for s in self.sessions.values() if s["payment_intent"] == intent
            )
            refunded = sum(
                r["amount"]
                for r in self.refunds.values()
                if r["payment_intent"] == intent and r["status"] != "failed"
            )
            amount = int(form.get("amount", paid - refunded))
            if refunded + amount > paid:
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "charge_already_refunded",
                        "message": f"Refund amount ({amount}) is greater than unrefunded amount",
                    }
                }
            refund = {
                "id": f"re_Fake{next(self._ids):08d}",
                "object": "refund",
                "amount": amount,
                "currency": "usd",
                "payment_intent": intent,
                "metadata": form.get("metadata", {}),
                "status": self.refund_status,
            }
            self.refunds[refund["id"]] = refund
            return 200, refund

        return await self._idempotent(key, pairs, make)

    @staticmethod
    def _public(session: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in session.items() if not k.startswith("_")}

    # --- what happened, as Stripe's webhooks say it --------------------------------------------

    def complete(self, session_id: str, *, delayed: bool = False) -> bytes:
        """The customer paid (or, `delayed`, started a bank debit): `checkout.session.completed`."""
        session = self.sessions[session_id]
        session["status"] = "complete"
        session["payment_status"] = "unpaid" if delayed else "paid"
        session["payment_intent"] = f"pi_Fake{next(self._ids):08d}"
        session["url"] = None
        return self.event("checkout.session.completed", self._public(session))

    def async_result(self, session_id: str, succeeded: bool) -> bytes:
        session = self.sessions[session_id]
        session["payment_status"] = "paid" if succeeded else "unpaid"
        kind = "succeeded" if succeeded else "failed"
        return self.event(f"checkout.session.async_payment_{kind}", self._public(session))

    def expired(self, session_id: str) -> bytes:
        session = self.sessions[session_id]
        session["status"] = "expired"
        session["url"] = None
        return self.event("checkout.session.expired", self._public(session))

    def refund_result(self, refund_id: str, status: str = "succeeded") -> bytes:
        refund = self.refunds[refund_id]
        refund["status"] = status
        return self.event("refund.updated", dict(refund))

    def event(self, event_type: str, obj: dict[str, Any]) -> bytes:
        body = {
            "id": f"evt_Fake{next(self._ids):08d}",
            "object": "event",
            "api_version": "2026-06-24.dahlia",
            "created": int(time.time()),
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "type": event_type,
        }
        return json.dumps(body, separators=(",", ":")).encode()


@dataclass
class FakePaystack:
    secret_key: str
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)  # by reference
    refunds: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, Any] | None]] = field(default_factory=list)
    script: deque[Canned] = field(default_factory=deque)
    verify_script: deque[Canned] = field(default_factory=deque)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(4_000_000))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/transaction/initialize", self._initialize)
        app.router.add_get("/transaction/verify/{reference}", self._verify)
        app.router.add_post("/refund", self._refund)
        app.router.add_get("/refund", self._list_refunds)
        return app

    @property
    def created(self) -> list[dict[str, Any]]:
        return list(self.transactions.values())

    def _auth(self, request: web.Request) -> None:
        assert request.headers["Authorization"] == f"Bearer {self.secret_key}"

    async def _initialize(self, request: web.Request) -> web.Response:
        self._auth(request)
        body = await request.json()
        self.requests.append(("POST", "/transaction/initialize", body))
        canned = self.script.popleft() if self.script else None
        if canned and not canned.then_apply:
            await asyncio.sleep(canned.delay)
            return web.json_response(canned.body, status=canned.status)
        reference = body["reference"]
        if reference in self.transactions:
            return web.json_response(
                {"status": False, "message": "Duplicate Transaction Reference"}, status=400
            )
        access_code = f"fake{next(self._ids)}"
        self.transactions[reference] = {
            "id": next(self._ids),
            "domain": "test",
            "status": "abandoned",
            "reference": reference,
            "amount": body["amount"],
            "currency": body.get("currency", "NGN"),
            "metadata": body.get("metadata") or 0,
            "customer": {"email": body["email"]},
            "callback_url": body.get("callback_url"),
            "authorization_url": f"https://checkout.paystack.test/{access_code}",
        }
        answer = {
            "status": True,
            "message": "Authorization URL created",
            "data": {
                "authorization_url": f"https://checkout.paystack.test/{access_code}",
                "access_code": access_code,
                "reference": reference,
            },
        }
        if canned:
            await asyncio.sleep(canned.delay)
            return web.json_response(canned.body, status=canned.status)
        return web.json_response(answer)

    async def _verify(self, request: web.Request) -> web.Response:
        self._auth(request)
        reference = request.match_info["reference"]
        self.requests.append(("GET", f"/transaction/verify/{reference}", None))
        if self.verify_script:
            canned = self.verify_script.popleft()
            return web.json_response(canned.body, status=canned.status)
        transaction = self.transactions.get(reference)
        if transaction is None:
            return web.json_response(
                {"status": False, "message": "Transaction reference not found"}, status=404
            )
        return web.json_response(
            {"status": True, "message": "Verification successful", "data": transaction}
        )

    async def _refund(self, request: web.Request) -> web.Response:
        self._auth(request)
        body = await request.json()
        self.requests.append(("POST", "/refund", body))
        transaction = self.transactions.get(body["transaction"])
        if transaction is None or transaction["status"] != "success":
            return web.json_response(
                {"status": False, "message": "Transaction has not been paid"}, status=400
            )
        refunded = sum(r["amount"] for r in self.refunds if r["reference"] == body["transaction"])
        amount = int(body.get("amount") or transaction["amount"] - refunded)
        if refunded + amount > transaction["amount"]:
            return web.json_response(
                {
                    "status": False,
                    "message": "Refund amount cannot be more than the transaction amount",
                },
                status=400,
            )
        refund = {
            "id": next(self._ids),
            "reference": body["transaction"],
            "transaction": {"reference": body["transaction"]},
            "amount": amount,
            "currency": transaction["currency"],
            "merchant_note": body.get("merchant_note"),
            "status": "pending",
        }
        self.refunds.append(refund)
        return web.json_response(
            {"status": True, "message": "Refund has been queued for processing", "data": refund}
        )

    async def _list_refunds(self, request: web.Request) -> web.Response:
        self._auth(request)
        reference = request.query.get("transaction", "")
        self.requests.append(("GET", "/refund", dict(request.query)))
        found = [r for r in self.refunds if r["reference"] == reference]
        return web.json_response({"status": True, "message": "Refunds retrieved", "data": found})

    # --- what happened, as Paystack's webhooks say it --------------------------------------------

    def pay(self, reference: str, amount: int | None = None, currency: str | None = None) -> bytes:
        """The customer paid: `charge.success` (and verify says success from now on)."""
        transaction = self.transactions[reference]
        transaction["status"] = "success"
        if amount is not None:
            transaction["amount"] = amount
        if currency is not None:
            transaction["currency"] = currency
        data = {**transaction, "paid_at": "2026-12-01T10:15:00.000Z", "channel": "card"}
        data.pop("authorization_url", None)
        data.pop("callback_url", None)
        return self.event("charge.success", data)

    def refund_result(self, reference: str, status: str = "processed") -> bytes:
        refund = next(r for r in self.refunds if r["reference"] == reference)
        refund["status"] = status
        data = {
            "status": status,
            "transaction_reference": reference,
            "refund_reference": "TRF_fake" if status != "pending" else None,
            "amount": str(refund["amount"]),
            "currency": refund["currency"],
            "domain": "test",
        }
        return self.event(f"refund.{status}", data)

    @staticmethod
    def event(name: str, data: dict[str, Any]) -> bytes:
        return json.dumps({"event": name, "data": data}, separators=(",", ":")).encode()
