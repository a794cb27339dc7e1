"""The Graph stand-in: Cloud API limits on the wire JSON, Meta's error shape, recording."""

import copy
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.sandbox import SandboxState
from bot.sandbox.graph import InvalidMessage, check_message
from bot.settings import Settings
from bot.whatsapp import render_message
from flows.messages import SendTemplate
from tests.sandbox.conftest import auth_header, graph_path

TO = "919800000001"
HINDI_24 = "कश्मीरी कहवा केसर चाय 10"  # 24 characters (code points), 60 bytes in UTF-8


def text(body: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": TO, "type": "text", "text": {"body": body}}


def buttons(*titles: str, body: str = "Pick one", ids: list[str] | None = None) -> dict[str, Any]:
    ids = ids or [f"b{n}" for n in range(len(titles))]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": TO,
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": body},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": i, "title": t}}
                    for i, t in zip(ids, titles, strict=True)
                ]
            },
        },
    }


def rows(n: int, prefix: str = "r") -> list[dict[str, Any]]:
    return [{"id": f"{prefix}{i}", "title": f"Row {i}"} for i in range(n)]


def a_list(*sections: dict[str, Any], button: str = "Products") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": TO,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Pick a product"},
            "action": {"button": button, "sections": list(sections)},
        },
    }


def cta(display_text: str = "Pay ₹249.00", url: str = "https://rzp.io/x") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": TO,
        "type": "interactive",
        "interactive": {
            "type": "cta_url",
            "body": {"text": "Pay for your order"},
            "action": {"name": "cta_url", "parameters": {"display_text": display_text, "url": url}},
        },
    }


def with_frame(message: dict[str, Any], header: str | None, footer: str | None) -> dict[str, Any]:
    message = copy.deepcopy(message)
    if header is not None:
        message["interactive"]["header"] = {"type": "text", "text": header}
    if footer is not None:
        message["interactive"]["footer"] = {"text": footer}
    return message


def rejects(message: object, fragment: str) -> None:
    with pytest.raises(InvalidMessage, match=re.escape(fragment)):
        check_message(message)


# --- limits, each at the edge and one past it -------------------------------------------------


def test_hindi_title_counts_characters_not_bytes() -> None:
    assert len(HINDI_24) == 24
    assert len(HINDI_24.encode()) > 24
    section = {"title": "Tea", "rows": [{"id": "r1", "title": HINDI_24}]}
    assert check_message(a_list(section)) == TO
    section["rows"][0]["title"] = HINDI_24 + "0"
    rejects(a_list(section), "rows[0].title is too long: 25 characters, at most 24")


def test_emoji_count_as_characters() -> None:
    assert check_message(buttons("☕" * 20)) == TO
    rejects(buttons("☕" * 21), "title is too long: 21 characters")


@pytest.mark.parametrize(
    ("good", "bad", "fragment"),
    [
        (text("x" * 4096), text("x" * 4097), "text.body is too long"),
        (buttons("a", body="x" * 1024), buttons("a", body="x" * 1025), "interactive.body.text"),
        (buttons("x" * 20), buttons("x" * 21), "buttons[0].reply.title is too long"),
        (buttons("a", ids=["i" * 256]), buttons("a", ids=["i" * 257]), "buttons[0].reply.id"),
        (
            with_frame(buttons("a"), "h" * 60, None),
            with_frame(buttons("a"), "h" * 61, None),
            "interactive.header.text",
        ),
        (
            with_frame(buttons("a"), None, "f" * 60),
            with_frame(buttons("a"), None, "f" * 61),
            "interactive.footer.text",
        ),
        (
            a_list({"title": "T", "rows": rows(1)}, button="b" * 20),
            a_list({"title": "T", "rows": rows(1)}, button="b" * 21),
            "interactive.action.button is too long",
        ),
        (
            a_list({"title": "t" * 24, "rows": rows(1)}),
            a_list({"title": "t" * 25, "rows": rows(1)}),
            "sections[0].title is too long",
        ),
        (
            a_list({"title": "T", "rows": [{"id": "r" * 200, "title": "x"}]}),
            a_list({"title": "T", "rows": [{"id": "r" * 201, "title": "x"}]}),
            "rows[0].id is too long",
        ),
        (
            a_list({"title": "T", "rows": [{"id": "r", "title": "x", "description": "d" * 72}]}),
            a_list({"title": "T", "rows": [{"id": "r", "title": "x", "description": "d" * 73}]}),
            "rows[0].description is too long",
        ),
        (cta("d" * 20), cta("d" * 21), "display_text is too long"),
    ],
)
def test_length_limits(good: dict[str, Any], bad: dict[str, Any], fragment: str) -> None:
    assert check_message(good) == TO
    rejects(bad, fragment)


def test_button_count_is_one_to_three() -> None:
    assert check_message(buttons("a", "b", "c")) == TO
    rejects(buttons("a", "b", "c", "d"), "must hold 1 to 3 items, not 4")
    rejects(buttons(), "must hold 1 to 3 items, not 0")


def test_button_titles_and_ids_are_unique() -> None:
    rejects(buttons("Same", "Same"), "button titles must be unique")
    rejects(buttons("A", "B", ids=["x", "x"]), "button ids must be unique")


def test_list_holds_ten_sections_and_ten_rows_in_total() -> None:
    ten = [{"title": f"S{n}", "rows": rows(1, prefix=f"s{n}-")} for n in range(10)]
    assert check_message(a_list(*ten)) == TO
    eleven = [*ten, {"title": "S10", "rows": rows(1, prefix="s10-")}]
    rejects(a_list(*eleven), "sections must hold 1 to 10 items, not 11")
    rejects(
        a_list({"title": "A", "rows": rows(6, "a")}, {"title": "B", "rows": rows(5, "b")}),
        "at most 10 rows in total, not 11",
    )


def test_list_row_ids_are_unique_across_sections() -> None:
    rejects(
        a_list({"title": "A", "rows": rows(1)}, {"title": "B", "rows": rows(1)}),
        "row ids must be unique",
    )


def test_every_section_needs_a_title() -> None:
    rejects(a_list({"rows": rows(1)}), "sections[0].title is required")


def test_cta_needs_an_http_url() -> None:
    rejects(cta(url="ftp://example.com/x"), "url must be an http or https URL")
    rejects(cta(url="not a url"), "url must be an http or https URL")


def test_envelope_rules() -> None:
    rejects({"to": TO, "type": "text", "text": {"body": "x"}}, "messaging_product")
    rejects({"messaging_product": "whatsapp", "type": "text", "text": {"body": "x"}}, "to (or")
    rejects({**text("x"), "type": "sticker"}, "type 'sticker' is not supported")
    rejects(text("   "), "text.body must not be empty")
    assert check_message({**text("x"), "to": None, "recipient": "IN.abc123"}) == "IN.abc123"


def test_templates_are_accepted_in_the_cloud_api_shape() -> None:
    """What the shop sends outside the 24-hour window (bot/whatsapp/render.py renders it)."""
    shipped = render_message(
        SendTemplate(name="order_shipped", language="en", body_parameters=("ORD-1", "DTDC")),
        phone=TO,
        user_id=None,
    )
    assert check_message(shipped) == TO
    no_language = {**shipped, "template": {"name": "order_shipped"}}
    rejects(no_language, "template.language must be a JSON object")
    no_text = copy.deepcopy(shipped)
    no_text["template"]["components"][0]["parameters"][0]["text"] = ""
    rejects(no_text, "parameters[0].text must not be empty")


# --- the HTTP route ---------------------------------------------------------------------------


async def test_accepts_and_records(
    client: TestClient[Any, Any], settings: Settings, state: SandboxState
) -> None:
    response = await client.post(
        graph_path(settings), json=buttons("Browse", "Cart"), headers=auth_header(settings)
    )
    assert response.status == 200
    body = await response.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": TO, "wa_id": TO}]
    wamid = body["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    [item] = state.hub.log(TO).items
    assert (item.id, item.sender, item.status) == (wamid, "shop", "accepted")
    assert state.hub.accepted[TO] == 1


async def test_violation_answers_metas_error_and_shows_in_the_chat(
    client: TestClient[Any, Any], settings: Settings, state: SandboxState
) -> None:
    response = await client.post(
        graph_path(settings), json=buttons("x" * 21), headers=auth_header(settings)
    )
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["type"] == "OAuthException"
    assert error["code"] == 131009
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert "at most 20" in error["error_data"]["details"]
    assert error["fbtrace_id"]
    [item] = state.hub.log(TO).items
    assert item.status == "rejected"
    assert item.error is not None
    assert item.error["code"] == 131009


async def test_wrong_token_is_refused(client: TestClient[Any, Any], settings: Settings) -> None:
    response = await client.post(
        graph_path(settings), json=text("hi"), headers={"Authorization": "Bearer nope"}
    )
    assert response.status == 401
    assert (await response.json())["error"]["code"] == 190
    response = await client.post(graph_path(settings), json=text("hi"))
    assert response.status == 401


async def test_unknown_phone_number_id(client: TestClient[Any, Any], settings: Settings) -> None:
    response = await client.post(
        "/sandbox/graph/v25.0/999/messages", json=text("hi"), headers=auth_header(settings)
    )
    assert response.status == 400
    assert (await response.json())["error"]["code"] == 100


async def test_mark_as_read_turns_ticks_blue(
    client: TestClient[Any, Any], settings: Settings, state: SandboxState
) -> None:
    item = state.hub.add(
        TO, wamid="wamid.in1", sender="customer", at=0, message={}, status="delivered"
    )
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.in1"}
    response = await client.post(graph_path(settings), json=read, headers=auth_header(settings))
    assert response.status == 200
    assert await response.json() == {"success": True}
    assert item.status == "read"


async def test_the_typing_indicator_shows_typing_until_the_reply(
    client: TestClient[Any, Any], settings: Settings, state: SandboxState
) -> None:
    item = state.hub.add(
        TO, wamid="wamid.in2", sender="customer", at=0, message={}, status="delivered"
    )
    read = {
        "messaging_product": "whatsapp",
        "status": "read",
        "message_id": "wamid.in2",
        "typing_indicator": {"type": "text"},
    }
    response = await client.post(graph_path(settings), json=read, headers=auth_header(settings))
    assert response.status == 200
    assert (item.status, item.typing) == ("read", True)
    assert item.to_json()["typing"] is True

    wrong = {**read, "typing_indicator": {"type": "audio"}}
    refused = await client.post(graph_path(settings), json=wrong, headers=auth_header(settings))
    assert refused.status == 400
    assert (await refused.json())["error"]["code"] == 131009


@pytest.mark.parametrize(
    ("knob", "status", "code"), [("error_rate", 500, 131000), ("rate_limit_rate", 429, 130429)]
)
async def test_injected_faults(
    client: TestClient[Any, Any],
    settings: Settings,
    state: SandboxState,
    knob: str,
    status: int,
    code: int,
) -> None:
    setattr(state.graph_faults, knob, 1.0)
    response = await client.post(
        graph_path(settings), json=text("hi"), headers=auth_header(settings)
    )
    assert response.status == status
    assert (await response.json())["error"]["code"] == code
    assert state.hub.accepted[TO] == 0
    setattr(state.graph_faults, knob, 0.0)
    response = await client.post(
        graph_path(settings), json=text("hi"), headers=auth_header(settings)
    )
    assert response.status == 200
