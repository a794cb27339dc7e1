"""Razorpay webhook bodies → our events. No network: parse_webhook is pure."""

import hashlib
import json
from typing import Any

import pytest
from multidict import CIMultiDict
from razorpay_corpus import WEBHOOKS, make_provider, webhook_bytes

from bot.payments import MalformedPaymentWebhook, ProviderWebhook
from bot.payments.base import RefundUpdate
from flows.events import (
    PaymentCaptured,
    PaymentEvent,
    PaymentFailed,
    PaymentLinkCancelled,
    PaymentLinkExpired,
)

ORDER_42 = "wa-ord-2025-000042"
LINK_42 = "plink_Qx7Rm2KpL9vTzA"
PAID_42 = PaymentCaptured(
    order_id=ORDER_42,
    link_id=LINK_42,
    payment_id="pay_Qx7Ro5JtF3gNsU",
    currency="INR",
    amount=149900,
    amount_paid=149900,
)
EVENT_HEADERS = {"X-Razorpay-Event-Id": "evt_test_1"}

# (fixture file, event type, our order id, event)
CORPUS: list[tuple[str, str, str | None, PaymentEvent | None]] = [
    ("payment_link.paid.json", "payment_link.paid", ORDER_42, PAID_42),
    (
        "variants/payment_link.paid.utf8_escaped_slashes.json",
        "payment_link.paid",
        ORDER_42,
        PAID_42,
    ),
    # parse does not judge amounts: the machine compares them with the order and flags this.
    (
        "variants/payment_link.paid.tampered.json",
        "payment_link.paid",
        ORDER_42,
        PAID_42.model_copy(update={"amount_paid": 100}),
    ),
    (
        "payment_link.expired.json",
        "payment_link.expired",
        "wa-ord-2025-000044",
        PaymentLinkExpired(order_id="wa-ord-2025-000044", link_id="plink_Sd4Vw1YrB6mJxQ"),
    ),
    (
        "payment_link.cancelled.json",  # its notes are null
        "payment_link.cancelled",
        "wa-ord-2025-000045",
        PaymentLinkCancelled(order_id="wa-ord-2025-000045", link_id="plink_Tf6Xy3ZsC8nKaR"),
    ),
    # The corpus payment's notes carry no order_id (our create_link adds one): log only.
    ("payment.failed.json", "payment.failed", None, None),
    ("payment_link.partially_paid.json", "payment_link.partially_paid", "wa-ord-2025-000043", None),
    ("payment.captured.json", "payment.captured", None, None),
    ("order.paid.json", "order.paid", ORDER_42, None),
    ("refund.processed.json", "refund.processed", None, None),
]


def parse(raw: bytes, headers: dict[str, str] | None = None) -> ProviderWebhook:
    return make_provider().parse_webhook(raw, EVENT_HEADERS if headers is None else headers)


def edited(name: str, change: Any) -> bytes:
    """A corpus body changed in place by `change(body)`; parse does not check signatures."""
    body = json.loads(webhook_bytes(name))
    change(body)
    return json.dumps(body).encode()


def link_of(body: dict[str, Any]) -> dict[str, Any]:
    entity: dict[str, Any] = body["payload"]["payment_link"]["entity"]
    return entity


def payment_of(body: dict[str, Any]) -> dict[str, Any]:
    entity: dict[str, Any] = body["payload"]["payment"]["entity"]
    return entity


@pytest.mark.parametrize(("name", "event_type", "order_id", "event"), CORPUS)
def test_corpus_bodies_translate(
    name: str, event_type: str, order_id: str | None, event: PaymentEvent | None
) -> None:
    parsed = parse(webhook_bytes(name))

    assert parsed == ProviderWebhook(
        event_id="evt_test_1",
        dedupe_id=parsed.dedupe_id,  # checked below
        event_type=event_type,
        order_id=order_id,
        event=event,
        refund=REFUND_UPDATES.get(name),
    )
    assert parsed.dedupe_id.startswith(f"{event_type}:")


# A refund made outside the bot (the dashboard): no refund id of ours in its notes.
REFUND_UPDATES = {
    "refund.processed.json": RefundUpdate(
        provider_refund_id="rfnd_Ug8Za5BtD0pLcS", status="processed", refund_id=None
    )
}


def test_a_refund_the_bot_asked_for_names_it_and_its_order() -> None:
    def ours(body: dict[str, Any]) -> None:
        body["event"] = "refund.failed"
        body["payload"]["refund"]["entity"]["notes"] = {"refund_id": "7", "order_id": "ord_9"}

    parsed = parse(edited("refund.processed.json", ours))

    assert parsed.order_id == "ord_9"
    assert parsed.event is None
    assert parsed.refund == RefundUpdate(
        provider_refund_id="rfnd_Ug8Za5BtD0pLcS",
        status="failed",
        refund_id=7,
        failure="the provider could not refund",
    )


def test_the_dedupe_id_comes_from_the_signed_body_not_the_event_id_header() -> None:
    raw = webhook_bytes("payment_link.paid.json")

    first = parse(raw, {"X-Razorpay-Event-Id": "evt_Original00001"})
    replayed = parse(raw, {"X-Razorpay-Event-Id": "evt_Replayed00002"})
    without = parse(raw, {})

    assert first.dedupe_id == replayed.dedupe_id == without.dedupe_id
    assert first.dedupe_id == "payment_link.paid:plink_Qx7Rm2KpL9vTzA:1760000475"
    failed = parse(webhook_bytes("payment.failed.json"))
    assert failed.dedupe_id.startswith("payment.failed:pay_")


def test_the_dedupe_id_differs_for_another_payment_of_the_same_order() -> None:
    raw = webhook_bytes("payment.failed.json")
    other = edited("payment.failed.json", lambda b: payment_of(b).update(id="pay_Another000001"))

    assert parse(raw).dedupe_id != parse(other).dedupe_id


def test_a_body_without_an_entity_id_or_creation_time_is_keyed_by_its_bytes() -> None:
    raw = edited("payment_link.paid.json", lambda b: b.pop("created_at"))

    assert parse(raw).dedupe_id == f"sha256:{hashlib.sha256(raw).hexdigest()}"


def test_every_corpus_body_is_in_the_table() -> None:
    on_disk = {path.relative_to(WEBHOOKS).as_posix() for path in WEBHOOKS.rglob("*.json")}

    assert on_disk == {name for name, *_ in CORPUS}


def test_payment_failed_names_the_order_from_the_notes_we_set() -> None:
    raw = edited("payment.failed.json", lambda b: payment_of(b)["notes"].update(order_id="o-7"))

    parsed = parse(raw)

    assert parsed.order_id == "o-7"
    assert parsed.event == PaymentFailed(
        order_id="o-7", payment_id="pay_Qx7RnZ1aB2cD3e", reason="Payment failed"
    )


def test_payment_failed_without_description_falls_back_to_reason_code() -> None:
    def change(body: dict[str, Any]) -> None:
        payment_of(body).update(notes={"order_id": "o-7"}, error_description=None)

    event = parse(edited("payment.failed.json", change)).event

    assert isinstance(event, PaymentFailed)
    assert event.reason == "payment_failed"


@pytest.mark.parametrize("notes", [None, {}, []], ids=["null", "empty-object", "empty-array"])
def test_empty_notes_in_any_form_are_accepted(notes: object) -> None:
    def change(body: dict[str, Any]) -> None:
        for entity in body["payload"].values():
            entity["entity"]["notes"] = notes

    assert parse(edited("payment_link.paid.json", change)).event == PAID_42
    assert parse(edited("payment.failed.json", change)).event is None
    assert parse(edited("order.paid.json", change)).order_id == ORDER_42


def test_order_id_falls_back_to_receipt_then_notes() -> None:
    def no_reference(body: dict[str, Any]) -> None:
        link_of(body)["reference_id"] = ""

    def nothing_but_notes(body: dict[str, Any]) -> None:
        no_reference(body)
        body["payload"]["order"]["entity"]["receipt"] = None
        link_of(body)["notes"] = {"order_id": "from-notes"}

    assert parse(edited("payment_link.paid.json", no_reference)).order_id == ORDER_42
    from_notes = parse(edited("payment_link.paid.json", nothing_but_notes))
    assert from_notes.order_id == "from-notes"
    assert isinstance(from_notes.event, PaymentCaptured)
    assert from_notes.event.order_id == "from-notes"


def test_paid_link_that_is_not_ours_is_only_logged() -> None:
    def foreign(body: dict[str, Any]) -> None:
        link_of(body)["reference_id"] = None
        del body["payload"]["order"]

    parsed = parse(edited("payment_link.paid.json", foreign))

    assert (parsed.order_id, parsed.event) == (None, None)


def test_unknown_event_types_are_only_logged_whatever_their_shape() -> None:
    raw = json.dumps({"event": "dispute.created", "payload": {"payment": {"entity": 7}}}).encode()

    parsed = parse(raw)

    assert (parsed.event_type, parsed.order_id, parsed.event) == ("dispute.created", None, None)


def test_unknown_event_type_still_names_the_order_when_it_can() -> None:
    raw = edited("order.paid.json", lambda b: b.update(event="order.notified"))

    assert parse(raw).order_id == ORDER_42


# --- event ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", ["X-Razorpay-Event-Id", "x-razorpay-event-id", "X-RAZORPAY-EVENT-ID"]
)
def test_event_id_header_is_found_in_any_case(header: str) -> None:
    parsed = parse(webhook_bytes("payment_link.paid.json"), {header: "evt_Abc123"})

    assert parsed.event_id == "evt_Abc123"


def test_event_id_from_aiohttp_headers() -> None:
    headers = CIMultiDict({"x-razorpay-event-id": "evt_Abc123"})

    parsed = make_provider().parse_webhook(webhook_bytes("payment_link.paid.json"), headers)

    assert parsed.event_id == "evt_Abc123"


@pytest.mark.parametrize("headers", [{}, {"X-Razorpay-Event-Id": "  "}], ids=["absent", "blank"])
def test_event_id_without_header_is_a_stable_hash_of_the_body(headers: dict[str, str]) -> None:
    raw = webhook_bytes("payment_link.paid.json")

    first, again = parse(raw, headers), parse(raw, headers)
    other = parse(webhook_bytes("payment_link.expired.json"), headers)

    assert first.event_id == again.event_id == f"sha256:{hashlib.sha256(raw).hexdigest()}"
    assert other.event_id != first.event_id


# --- signed but unreadable ----------------------------------------------------------------------


def _drop_payment(body: dict[str, Any]) -> None:
    del body["payload"]["payment"]


def _drop_link(body: dict[str, Any]) -> None:
    del body["payload"]["payment_link"]


def _amount_as_words(body: dict[str, Any]) -> None:
    link_of(body)["amount"] = "fifteen hundred"


def _link_without_id(body: dict[str, Any]) -> None:
    del link_of(body)["id"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not an event envelope"),
        (b"<html>oops</html>", "not an event envelope"),
        (b"\xff\xfe not utf-8", "not an event envelope"),
        (b'["payment_link.paid"]', "not an event envelope"),
        (b'{"payload": {}}', "event"),
        (b'{"event": "payment_link.paid", "payload": null}', "payload"),
        (edited("payment_link.paid.json", _drop_payment), "without a payment entity"),
        (edited("payment_link.expired.json", _drop_link), "without a payment_link entity"),
        (edited("payment_link.paid.json", _amount_as_words), "payment_link.entity.amount"),
        (edited("payment_link.cancelled.json", _link_without_id), "payment_link.entity.id"),
    ],
    ids=[
        "empty",
        "html",
        "not-utf8",
        "array",
        "no-event",
        "null-payload",
        "paid-without-payment",
        "expired-without-link",
        "amount-not-int",
        "link-without-id",
    ],
)
def test_signed_but_malformed_bodies_raise_with_a_clear_message(raw: bytes, message: str) -> None:
    with pytest.raises(MalformedPaymentWebhook, match=message):
        parse(raw)
