"""Signed webhook bodies shaped like Meta's and Razorpay's, built up front."""

from __future__ import annotations

import json
import time
from typing import Any

from bench.standins import APP_SECRET, PHONE_NUMBER_ID, WEBHOOK_SECRET
from bot.signatures import sign_meta, sign_razorpay


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def whatsapp_body(phone: str, name: str, messages: list[dict[str, Any]]) -> bytes:
    return _dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "300100200300400",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "919900011122",
                                    "phone_number_id": PHONE_NUMBER_ID,
                                },
                                "contacts": [{"profile": {"name": name}, "wa_id": phone}],
                                "messages": messages,
                            },
                        }
                    ],
                }
            ],
        }
    )


def message(phone: str, wamid: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"from": phone, "id": wamid, "timestamp": str(int(time.time())), **content}


def text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body}}


def button(button_id: str, title: str = "x") -> dict[str, Any]:
    reply = {"type": "button_reply", "button_reply": {"id": button_id, "title": title}}
    return {"type": "interactive", "interactive": reply}


def catalog_order(items: list[tuple[str, int]]) -> dict[str, Any]:
    return {
        "type": "order",
        "order": {
            "catalog_id": "700800900",
            "text": "",
            "product_items": [
                {
                    "product_retailer_id": product,
                    "quantity": quantity,
                    "item_price": 1,  # never trusted: prices come from config.toml
                    "currency": "INR",
                }
                for product, quantity in items
            ],
        },
    }


def whatsapp_headers(body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature-256": sign_meta(body, APP_SECRET)}


def paid_webhook(link: dict[str, Any], payment_id: str) -> bytes:
    """`payment_link.paid` for a link the stand-in issued."""
    paid = {**link, "status": "paid", "amount_paid": link["amount"]}
    order = {
        "id": "order_" + payment_id[4:],
        "entity": "order",
        "amount": link["amount"],
        "amount_paid": link["amount"],
        "amount_due": 0,
        "currency": link["currency"],
        "receipt": link["reference_id"],
        "status": "paid",
        "notes": link["notes"],
    }
    payment = {
        "id": payment_id,
        "entity": "payment",
        "amount": link["amount"],
        "currency": link["currency"],
        "status": "captured",
        "order_id": order["id"],
        "method": "upi",
        "notes": link["notes"],
        "contact": "+919812300001",
    }
    return _dumps(
        {
            "entity": "event",
            "account_id": "acc_Bench",
            "event": "payment_link.paid",
            "contains": ["payment_link", "order", "payment"],
            "payload": {
                "payment_link": {"entity": paid},
                "order": {"entity": order},
                "payment": {"entity": payment},
            },
            "created_at": int(time.time()),
        }
    )


def razorpay_headers(body: bytes, event_id: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": sign_razorpay(body, WEBHOOK_SECRET),
        "X-Razorpay-Event-Id": event_id,
    }
