"""Parsing webhook bodies and translating them into flows events, customers and statuses."""

import json
from typing import Any

import pytest

from bot.whatsapp import (
    ErrorInfo,
    InboundBatch,
    MalformedWebhook,
    parse_webhook,
    read_webhook,
    render_message,
)
from flows.cart import MAX_CATALOG_ORDER_ITEMS
from flows.events import (
    ButtonPressed,
    CatalogOrderReceived,
    ListRowPicked,
    LocationReceived,
    MediaReceived,
    OrderedItem,
    ReactionReceived,
    TextReceived,
    UnsupportedReceived,
)
from flows.messages import SendText
from flows.state import Customer
from tests.whatsapp.support import FIXTURE_NAMES, first_message, fixture, value_of, variant

ASHA = Customer(key="919812300001", phone="919812300001", name="Asha Verma")
ROHAN = Customer(key="919812300002", phone="919812300002", name="Rohan Mehta")
PRIYA = Customer(key="919812300003", phone="919812300003", name="Priya Nair")
PHONE_NUMBER_ID = "500600700800900"


def only_message(raw: bytes) -> Any:
    batch = read_webhook(raw)
    assert len(batch.messages) == 1
    return batch.messages[0]


# --- every fixture -------------------------------------------------------------------------------

EXPECTED_COUNTS = {  # file -> (messages, statuses, value-level errors, ignored)
    "batch_two_messages.json": (2, 0, 0, 0),
    "status_delivered.json": (0, 1, 0, 0),
    "status_failed_reengagement.json": (0, 1, 0, 0),
    "status_payment_captured.json": (0, 0, 0, 1),
    "webhook_errors_array.json": (0, 0, 1, 0),
}


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_fixture_parses_and_translates(name: str) -> None:
    batch = read_webhook(fixture(name))

    counts = (len(batch.messages), len(batch.statuses), len(batch.errors), batch.ignored)
    assert counts == EXPECTED_COUNTS.get(name, (1, 0, 0, 0))


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_raw_is_each_messages_own_json_compact(name: str) -> None:
    body = json.loads(fixture(name))
    originals = [
        message
        for entry in body["entry"]
        for change in entry["changes"]
        for message in change["value"].get("messages", [])
    ]
    batch = read_webhook(fixture(name))

    assert [json.loads(m.raw) for m in batch.messages] == originals
    for message in batch.messages:
        compact = json.dumps(json.loads(message.raw), separators=(",", ":"), ensure_ascii=False)
        assert message.raw == compact


def test_timestamp_and_number_id_are_carried() -> None:
    message = only_message(fixture("inbound_text.json"))

    assert message.timestamp == 1772361000
    assert message.phone_number_id == PHONE_NUMBER_ID
    assert message.wamid == message.event.message_id


# --- one per message type ------------------------------------------------------------------------


def test_values_for_another_business_number_are_left_out_and_named() -> None:
    def to_another_number(body: dict[str, Any]) -> None:
        value_of(body)["metadata"]["phone_number_id"] = "111222333"

    raw = variant("inbound_text.json", to_another_number)

    mine = read_webhook(raw, PHONE_NUMBER_ID)
    assert (mine.messages, mine.statuses, mine.other_numbers) == ([], [], ["111222333"])
    assert len(read_webhook(raw, "111222333").messages) == 1
    assert len(read_webhook(raw).messages) == 1  # no number given: nothing is filtered


def test_batch_with_two_changes_yields_both_customers_messages() -> None:
    batch = read_webhook(fixture("batch_two_messages.json"))

    asha, rohan = batch.messages
    assert asha.customer == ASHA
    assert asha.event == TextReceived(message_id=asha.wamid, text="Add 2 more of the blue ones")
    assert rohan.customer == ROHAN
    assert rohan.event == ButtonPressed(
        message_id=rohan.wamid, button_id="cart:view", title="View cart"
    )


def test_text() -> None:
    message = only_message(fixture("inbound_text.json"))

    assert message.customer == ASHA
    assert message.event == TextReceived(
        message_id="wamid.HBgMOTE5ODEyMzAwMDAxFQIAEhgURUE2NEYzQ0M2QkNDRDAwNTE2RDAA",
        text="Hi! Do you have running shoes in size 9?",
    )


def test_text_reply_with_context_keys_the_customer_on_the_business_scoped_id() -> None:
    message = only_message(fixture("inbound_text_reply_with_context.json"))

    assert message.customer == Customer(
        key="IN.3381029384756102938",
        phone="919812300003",
        user_id="IN.3381029384756102938",
        name="Priya Nair",
    )
    assert message.event == TextReceived(message_id=message.wamid, text="Size 9 please, in black")


def test_interactive_button_reply() -> None:
    message = only_message(fixture("inbound_interactive_button_reply.json"))

    assert message.customer == ROHAN
    assert message.event == ButtonPressed(
        message_id=message.wamid, button_id="checkout:cart_8841", title="Checkout"
    )


def test_interactive_list_reply() -> None:
    message = only_message(fixture("inbound_interactive_list_reply.json"))

    assert message.customer == ASHA
    assert message.event == ListRowPicked(
        message_id=message.wamid, row_id="cat:footwear", title="Footwear"
    )


def test_template_quick_reply_button_is_a_button_press_with_its_payload() -> None:
    message = only_message(fixture("inbound_template_quick_reply_button.json"))

    assert message.customer.key == "IN.7702938475610293847"
    assert message.customer.phone == "919812300001"
    assert message.event == ButtonPressed(
        message_id=message.wamid, button_id="reorder:ORD-20260214-0019", title="Reorder"
    )


def test_template_button_without_context() -> None:
    def drop_context(body: dict[str, Any]) -> None:
        del first_message(body)["context"]

    message = only_message(variant("inbound_template_quick_reply_button.json", drop_context))

    assert isinstance(message.event, ButtonPressed)
    assert message.event.button_id == "reorder:ORD-20260214-0019"


def test_order_keeps_products_and_quantities_and_ignores_prices() -> None:
    message = only_message(fixture("inbound_order.json"))

    assert message.customer == ROHAN
    assert message.event == CatalogOrderReceived(
        message_id=message.wamid,
        catalog_id="880011223344556",
        items=(
            OrderedItem(product_id="SKU-TSHIRT-BLU-M", quantity=2),
            OrderedItem(product_id="SKU-JEANS-32", quantity=1),
        ),
        note="Please deliver before Friday",
    )
    assert "price" not in message.event.model_dump_json()
    assert "1299.5" in message.raw  # kept for the record, never used


def test_an_order_of_60000_lines_is_read_only_as_far_as_the_shop_reads_it() -> None:
    def huge(body: dict[str, Any]) -> None:
        items = first_message(body)["order"]["product_items"]
        first_message(body)["order"]["product_items"] = items * 30_000

    message = only_message(variant("inbound_order.json", huge))

    # One line past the cap tells the state machine there were more; the rest is never
    # validated, translated or stored.
    assert len(message.event.items) == MAX_CATALOG_ORDER_ITEMS + 1
    assert message.raw.count("product_retailer_id") == MAX_CATALOG_ORDER_ITEMS + 1


def test_location() -> None:
    message = only_message(fixture("inbound_location.json"))

    assert message.customer == PRIYA
    assert message.event == LocationReceived(
        message_id=message.wamid,
        latitude=12.9763472,
        longitude=77.5929284,
        name="Cubbon Park Metro Gate 2",
        address="Kasturba Road, Bengaluru, Karnataka 560001",
    )


def test_image_with_caption() -> None:
    message = only_message(fixture("inbound_image.json"))

    assert message.event == MediaReceived(
        message_id=message.wamid, media_type="image", caption="Is this one available in blue?"
    )


@pytest.mark.parametrize("kind", ["audio", "video", "document", "sticker"])
def test_other_media_kinds(kind: str) -> None:
    def retype(body: dict[str, Any]) -> None:
        message = first_message(body)
        message["type"] = kind
        message[kind] = {"id": "123", "mime_type": "application/octet-stream"}
        del message["image"]

    message = only_message(variant("inbound_image.json", retype))

    assert message.event == MediaReceived(message_id=message.wamid, media_type=kind)


def test_reaction() -> None:
    message = only_message(fixture("inbound_reaction.json"))

    assert message.event == ReactionReceived(message_id=message.wamid, emoji="\N{THUMBS UP SIGN}")


def test_removed_reaction_has_no_emoji() -> None:
    def remove_emoji(body: dict[str, Any]) -> None:
        del first_message(body)["reaction"]["emoji"]

    message = only_message(variant("inbound_reaction.json", remove_emoji))

    assert message.event == ReactionReceived(message_id=message.wamid, emoji=None)


def test_unsupported_names_its_sub_type() -> None:
    message = only_message(fixture("inbound_unsupported.json"))

    assert message.customer == ASHA
    assert message.event == UnsupportedReceived(
        message_id=message.wamid, message_type="unsupported.poll_creation"
    )


# --- customers known only by a username (BSUID) --------------------------------------------------


def drop_phone(body: dict[str, Any]) -> None:
    value = value_of(body)
    del value["messages"][0]["from"]
    del value["contacts"][0]["wa_id"]


def test_username_only_customer_is_keyed_and_answered_by_user_id() -> None:
    message = only_message(variant("inbound_template_quick_reply_button.json", drop_phone))

    assert message.customer == Customer(
        key="IN.7702938475610293847", user_id="IN.7702938475610293847", name="Asha Verma"
    )
    reply = render_message(
        SendText(body="Hello"), phone=message.customer.phone, user_id=message.customer.user_id
    )
    assert reply["recipient"] == "IN.7702938475610293847"
    assert "to" not in reply


def test_user_id_from_the_contact_when_the_message_lacks_it() -> None:
    def move_user_id(body: dict[str, Any]) -> None:
        del first_message(body)["from_user_id"]

    message = only_message(variant("inbound_text_reply_with_context.json", move_user_id))

    assert message.customer.key == "IN.3381029384756102938"
    assert message.customer.phone == "919812300003"


def test_a_message_with_no_sender_at_all_is_ignored_not_fatal() -> None:
    def anonymous(body: dict[str, Any]) -> None:
        drop_phone(body)
        del first_message(body)["from_user_id"]
        value_of(body)["contacts"] = []

    batch = read_webhook(variant("inbound_template_quick_reply_button.json", anonymous))

    assert batch.messages == []
    assert batch.ignored == 1


# --- never an exception for a message ------------------------------------------------------------


def retyped_text(new_type: str, **extra: Any) -> bytes:
    def change(body: dict[str, Any]) -> None:
        message = first_message(body)
        message["type"] = new_type
        del message["text"]
        message.update(extra)

    return variant("inbound_text.json", change)


@pytest.mark.parametrize(
    ("raw", "message_type"),
    [
        (retyped_text("poll", poll={"question": "?"}), "poll"),
        (retyped_text("brand_new_type"), "brand_new_type"),
        (
            retyped_text("interactive", interactive={"type": "nfm_reply", "nfm_reply": {}}),
            "interactive.nfm_reply",
        ),
        (
            retyped_text("interactive", interactive={"type": "button_reply"}),
            "interactive.button_reply",
        ),
        (retyped_text("text"), "text"),  # a text message without its text
        (retyped_text("reaction"), "reaction"),
        (retyped_text("order"), "order"),
        (retyped_text("location"), "location"),
        (retyped_text("button"), "button"),
    ],
)
def test_untranslatable_messages_become_unsupported(raw: bytes, message_type: str) -> None:
    message = only_message(raw)

    assert message.event == UnsupportedReceived(message_id=message.wamid, message_type=message_type)


def test_system_message_without_contacts() -> None:
    def system(body: dict[str, Any]) -> None:
        value = value_of(body)
        del value["contacts"]
        message = first_message(body)
        message["type"] = "system"
        del message["text"]
        message["system"] = {"body": "changed number", "type": "user_changed_number"}

    message = only_message(variant("inbound_text.json", system))

    assert message.customer == Customer(key="919812300001", phone="919812300001")
    assert message.event == UnsupportedReceived(
        message_id=message.wamid, message_type="system.user_changed_number"
    )


def test_unknown_fields_anywhere_are_tolerated_and_kept_in_raw() -> None:
    def decorate(body: dict[str, Any]) -> None:
        body["new_top"] = 1
        body["entry"][0]["new_entry"] = [1]
        value_of(body)["new_value"] = {"a": 1}
        first_message(body)["new_message_field"] = "x"
        first_message(body)["text"]["new_text_field"] = True

    message = only_message(variant("inbound_text.json", decorate))

    assert isinstance(message.event, TextReceived)
    assert json.loads(message.raw)["text"]["new_text_field"] is True


def test_ids_and_timestamps_sent_as_numbers_are_read_and_recorded_as_text() -> None:
    def numeric(body: dict[str, Any]) -> None:
        message = first_message(body)
        message["from"] = 919812300001
        message["timestamp"] = 1772361000

    message = only_message(variant("inbound_text.json", numeric))

    assert message.customer == ASHA
    assert message.timestamp == 1772361000
    recorded = json.loads(message.raw)
    assert (recorded["from"], recorded["timestamp"]) == ("919812300001", "1772361000")


def test_an_integer_too_large_for_64_bits_is_kept_in_raw_whole() -> None:
    def huge(body: dict[str, Any]) -> None:
        first_message(body)["new_counter"] = 2**70

    message = only_message(variant("inbound_text.json", huge))

    assert isinstance(message.event, TextReceived)
    assert json.loads(message.raw)["new_counter"] == 2**70


# --- batches -------------------------------------------------------------------------------------


def test_every_entry_change_and_message_is_read() -> None:
    text = json.loads(fixture("inbound_text.json"))
    template = text["entry"][0]["changes"][0]["value"]["messages"][0]
    messages = [{**template, "id": f"wamid.{n}", "from": f"91{n:010d}"} for n in range(1000)]
    contacts = [{"profile": {"name": f"C{n}"}, "wa_id": f"91{n:010d}"} for n in range(1000)]

    def entry(chunk: range) -> dict[str, Any]:
        value = {
            **value_of(text),
            "messages": messages[chunk.start : chunk.stop],
            "contacts": contacts[chunk.start : chunk.stop],
        }
        return {
            "id": "1",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        **value,
                        "messages": value["messages"][:250],
                        "contacts": value["contacts"][:250],
                    },
                },
                {
                    "field": "messages",
                    "value": {
                        **value,
                        "messages": value["messages"][250:],
                        "contacts": value["contacts"][250:],
                    },
                },
            ],
        }

    body = {
        "object": "whatsapp_business_account",
        "entry": [entry(range(0, 500)), entry(range(500, 1000))],
    }
    batch = read_webhook(json.dumps(body).encode())

    assert [m.wamid for m in batch.messages] == [f"wamid.{n}" for n in range(1000)]
    assert batch.messages[777].customer.name == "C777"


def test_changes_for_other_fields_are_counted_and_skipped() -> None:
    def add_other(body: dict[str, Any]) -> None:
        body["entry"][0]["changes"].insert(
            0, {"field": "message_template_status_update", "value": {"event": "APPROVED"}}
        )
        body["entry"].append({"id": "2", "changes": [{"field": "account_update", "value": 3}]})

    batch = read_webhook(variant("inbound_text.json", add_other))

    assert len(batch.messages) == 1
    assert batch.ignored == 2


# --- statuses and errors -------------------------------------------------------------------------


def test_delivered_status() -> None:
    (status,) = read_webhook(fixture("status_delivered.json")).statuses

    assert status.wamid == "wamid.HBgMOTE5ODEyMzAwMDAyFQIAERgSNjE2MjZFOTAyODI3OTI3NDFEAA=="
    assert status.status == "delivered"
    assert status.recipient == "919812300002"
    assert status.timestamp == 1772362460
    assert status.errors == ()


def test_failed_status_carries_its_errors() -> None:
    (status,) = read_webhook(fixture("status_failed_reengagement.json")).statuses

    assert status.status == "failed"
    assert status.recipient == "919812300003"
    assert [(e.code, e.title, e.message) for e in status.errors] == [
        (131047, "Re-engagement message", "Re-engagement message")
    ]
    assert "24 hours" in status.errors[0].details


def test_status_with_contacts_holding_only_wa_id() -> None:
    def add_contacts(body: dict[str, Any]) -> None:
        value_of(body)["contacts"] = [{"wa_id": "919812300002"}]

    batch = read_webhook(variant("status_delivered.json", add_contacts))

    assert len(batch.statuses) == 1


def test_whatsapp_pay_statuses_are_ignored() -> None:
    batch = read_webhook(fixture("status_payment_captured.json"))

    assert batch.statuses == []
    assert batch.ignored == 1


def test_value_level_errors() -> None:
    batch = read_webhook(fixture("webhook_errors_array.json"))

    assert batch == InboundBatch(
        errors=[
            ErrorInfo(
                code=130429,
                title="Rate limit hit",
                message="Rate limit hit",
                details="Cloud API message throughput has been reached.",
            )
        ]
    )


# --- malformed bodies ----------------------------------------------------------------------------


def _without_message_id(body: dict[str, Any]) -> None:
    del first_message(body)["id"]


def _page_object(body: dict[str, Any]) -> None:
    body["object"] = "page"


def _no_metadata(body: dict[str, Any]) -> None:
    del value_of(body)["metadata"]


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"", "not valid JSON"),
        (b"not json", "not valid JSON"),
        (b'{"object": "whatsapp_business_account", "entry": [', "not valid JSON"),
        (b"[]", "body"),
        (b'{"object": "whatsapp_business_account"}', "entry"),
        (b'{"object": "whatsapp_business_account", "entry": {}}', "entry"),
        (variant("inbound_text.json", _page_object), "object"),
        (variant("inbound_text.json", _without_message_id), "messages.0.id"),
        (variant("inbound_text.json", _no_metadata), "metadata"),
    ],
)
def test_malformed_bodies_raise_a_clear_error(raw: bytes, says: str) -> None:
    with pytest.raises(MalformedWebhook, match="not a WhatsApp webhook") as caught:
        parse_webhook(raw)

    assert says in str(caught.value)
    assert isinstance(caught.value, ValueError)
