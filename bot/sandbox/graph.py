"""A stand-in for Meta's Graph API `POST /{phone_number_id}/messages`.

It checks the wire JSON the bot really sends against the Cloud API limits (REFERENCE.md), in
characters rather than bytes, and answers a violation the way Meta does (HTTP 400, code 131009),
so a catalog that would fail in production fails in the sandbox too. Accepted messages land in
the chat hub, where the chat page and the orders view see them.
"""

import hmac
import random
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from yarl import URL

from bot.sandbox.faults import GraphFaults
from bot.sandbox.signing import fbtrace_id, new_wamid
from bot.sandbox.state import SANDBOX
from flows import limits

GRAPH_PREFIX = "/sandbox/graph"


class InvalidMessage(Exception):
    """The body breaks a Cloud API rule; `details` is what Meta puts in `error_data`."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details


# --- validation ---------------------------------------------------------------------------------


def _obj(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidMessage(f"{path} must be a JSON object")
    return value


def _text(
    parent: Mapping[str, Any], key: str, path: str, max_len: int, *, required: bool = True
) -> str | None:
    """A string field, measured in characters: `len` counts code points, as Meta does."""
    value = parent.get(key)
    where = f"{path}.{key}"
    if value is None:
        if required:
            raise InvalidMessage(f"{where} is required")
        return None
    if not isinstance(value, str):
        raise InvalidMessage(f"{where} must be a string")
    if not value.strip():
        raise InvalidMessage(f"{where} must not be empty")
    if len(value) > max_len:
        raise InvalidMessage(
            f"{where} is too long: {len(value)} characters, at most {max_len} allowed"
        )
    return value


def _unique(values: list[str], what: str) -> None:
    if len(set(values)) != len(values):
        raise InvalidMessage(f"{what} must be unique")


def _list(value: object, path: str, low: int, high: int) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidMessage(f"{path} must be a list")
    if not low <= len(value) <= high:
        raise InvalidMessage(f"{path} must hold {low} to {high} items, not {len(value)}")
    return value


def _check_text(body: Mapping[str, Any]) -> None:
    text = _obj(body.get("text"), "text")
    _text(text, "body", "text", limits.TEXT_BODY_MAX)
    if "preview_url" in text and not isinstance(text["preview_url"], bool):
        raise InvalidMessage("text.preview_url must be true or false")


def _check_frame(interactive: Mapping[str, Any]) -> None:
    """Header, body and footer, shared by every interactive type."""
    if "header" in interactive:
        header = _obj(interactive["header"], "interactive.header")
        kind = header.get("type")
        if kind == "text":
            _text(header, "text", "interactive.header", limits.HEADER_TEXT_MAX)
        elif kind not in {"image", "video", "document"}:
            raise InvalidMessage("interactive.header.type must be text, image, video or document")
    body = _obj(interactive.get("body"), "interactive.body")
    _text(body, "text", "interactive.body", limits.INTERACTIVE_BODY_MAX)
    if "footer" in interactive:
        footer = _obj(interactive["footer"], "interactive.footer")
        _text(footer, "text", "interactive.footer", limits.FOOTER_TEXT_MAX)


def _check_buttons(action: Mapping[str, Any]) -> None:
    path = "interactive.action.buttons"
    buttons = _list(action.get("buttons"), path, limits.BUTTONS_MIN, limits.BUTTONS_MAX)
    ids, titles = [], []
    for n, raw in enumerate(buttons):
        button = _obj(raw, f"{path}[{n}]")
        if button.get("type") != "reply":
            raise InvalidMessage(f'{path}[{n}].type must be "reply"')
        reply = _obj(button.get("reply"), f"{path}[{n}].reply")
        ids.append(_text(reply, "id", f"{path}[{n}].reply", limits.BUTTON_ID_MAX) or "")
        titles.append(_text(reply, "title", f"{path}[{n}].reply", limits.BUTTON_TITLE_MAX) or "")
    _unique(ids, "button ids")
    _unique(titles, "button titles")


def _check_list(action: Mapping[str, Any]) -> None:
    _text(action, "button", "interactive.action", limits.LIST_BUTTON_LABEL_MAX)
    path = "interactive.action.sections"
    sections = _list(action.get("sections"), path, 1, limits.LIST_SECTIONS_MAX)
    row_ids: list[str] = []
    for s, raw_section in enumerate(sections):
        section = _obj(raw_section, f"{path}[{s}]")
        _text(section, "title", f"{path}[{s}]", limits.LIST_SECTION_TITLE_MAX)
        rows = _list(section.get("rows"), f"{path}[{s}].rows", 1, limits.LIST_ROWS_MAX)
        for r, raw_row in enumerate(rows):
            where = f"{path}[{s}].rows[{r}]"
            row = _obj(raw_row, where)
            row_ids.append(_text(row, "id", where, limits.LIST_ROW_ID_MAX) or "")
            _text(row, "title", where, limits.LIST_ROW_TITLE_MAX)
            _text(row, "description", where, limits.LIST_ROW_DESCRIPTION_MAX, required=False)
    if len(row_ids) > limits.LIST_ROWS_MAX:
        raise InvalidMessage(
            f"a list holds at most {limits.LIST_ROWS_MAX} rows in total, not {len(row_ids)}"
        )
    _unique(row_ids, "row ids")


def _check_cta_url(action: Mapping[str, Any]) -> None:
    if action.get("name") != "cta_url":
        raise InvalidMessage('interactive.action.name must be "cta_url"')
    params = _obj(action.get("parameters"), "interactive.action.parameters")
    path = "interactive.action.parameters"
    _text(params, "display_text", path, limits.CTA_DISPLAY_TEXT_MAX)
    url = _text(params, "url", path, 2000) or ""
    try:
        parsed = URL(url)
    except ValueError:
        parsed = URL()
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise InvalidMessage(f"{path}.url must be an http or https URL")


_INTERACTIVE = {"button": _check_buttons, "list": _check_list, "cta_url": _check_cta_url}


def _check_interactive(body: Mapping[str, Any]) -> None:
    interactive = _obj(body.get("interactive"), "interactive")
    kind = interactive.get("type")
    check = _INTERACTIVE.get(kind) if isinstance(kind, str) else None
    if check is None:
        raise InvalidMessage("interactive.type must be button, list or cta_url in the sandbox")
    _check_frame(interactive)
    check(_obj(interactive.get("action"), "interactive.action"))


def _check_template(body: Mapping[str, Any]) -> None:
    """The Cloud API's template shape. The sandbox has no approved templates to look the name
    up in, so any well-formed one is accepted (a live shop learns of a wrong name from Meta's
    error 132001)."""
    template = _obj(body.get("template"), "template")
    _text(template, "name", "template", 512)
    language = _obj(template.get("language"), "template.language")
    _text(language, "code", "template.language", 15)
    components = template.get("components", [])
    if not isinstance(components, list):
        raise InvalidMessage("template.components must be a list")
    for n, component in enumerate(components):
        part = _obj(component, f"template.components[{n}]")
        parameters = part.get("parameters", [])
        if not isinstance(parameters, list):
            raise InvalidMessage(f"template.components[{n}].parameters must be a list")
        for p, parameter in enumerate(parameters):
            where = f"template.components[{n}].parameters[{p}]"
            if _obj(parameter, where).get("type") == "text":
                _text(parameter, "text", where, limits.TEMPLATE_PARAMETER_MAX)


def check_message(body: object) -> str:
    """Validate a send body; returns the recipient (`to` or `recipient`) or raises."""
    message = _obj(body, "the request body")
    if message.get("messaging_product") != "whatsapp":
        raise InvalidMessage('messaging_product must be "whatsapp"')
    if message.get("recipient_type", "individual") != "individual":
        raise InvalidMessage('recipient_type must be "individual"')
    recipient = message.get("to") or message.get("recipient")
    if not isinstance(recipient, str) or not recipient.strip():
        raise InvalidMessage("to (or recipient) is required")
    kind = message.get("type", "text")
    if kind == "text":
        _check_text(message)
    elif kind == "interactive":
        _check_interactive(message)
    elif kind == "template":
        _check_template(message)
    else:
        raise InvalidMessage(
            f"type {kind!r} is not supported by the sandbox: text, interactive or template"
        )
    return recipient.lstrip("+")


def is_mark_as_read(body: object) -> bool:
    return isinstance(body, Mapping) and body.get("status") == "read" and "message_id" in body


def check_typing_indicator(body: Mapping[str, Any]) -> bool:
    """Whether a mark-as-read body asks for the typing indicator; raises `InvalidMessage` for
    one Meta would refuse (only `{"type": "text"}` exists)."""
    if "typing_indicator" not in body:
        return False
    indicator = _obj(body["typing_indicator"], "typing_indicator")
    if indicator.get("type") != "text":
        raise InvalidMessage('typing_indicator.type must be "text"')
    return True


# --- faults -------------------------------------------------------------------------------------


def meta_error(
    status: int, code: int, message: str, details: str, kind: str = "OAuthException"
) -> web.Response:
    error = {
        "message": message,
        "type": kind,
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": fbtrace_id(),
    }
    return web.json_response({"error": error}, status=status)


def _injected_fault(faults: GraphFaults, rng: random.Random) -> web.Response | None:
    outcome = faults.roll(rng)
    if outcome == "500":
        return meta_error(500, 131000, "Something went wrong", "Sandbox: injected server error")
    if outcome == "429":
        return meta_error(
            429, 130429, "(#130429) Rate limit hit", "Sandbox: injected throughput limit"
        )
    return None


# --- the route ----------------------------------------------------------------------------------


def _check_caller(request: web.Request) -> web.Response | None:
    creds = request.app[SANDBOX].credentials
    if not hmac.compare_digest(
        request.headers.get("Authorization", ""), f"Bearer {creds.access_token}"
    ):
        return meta_error(
            401, 190, "Invalid OAuth access token - Cannot parse access token", "", "OAuthException"
        )
    if request.match_info["phone_number_id"] != creds.phone_number_id:
        pnid = request.match_info["phone_number_id"]
        return meta_error(
            400,
            100,
            f"Unsupported post request. Object with ID '{pnid}' does not exist",
            "",
            "GraphMethodException",
        )
    return None


async def send_message(request: web.Request) -> web.Response:
    state = request.app[SANDBOX]
    if state.graph_faults.latency > 0:
        await state.nap(state.graph_faults.latency)
    refusal = _check_caller(request) or _injected_fault(state.graph_faults, state.rng)
    if refusal is not None:
        return refusal
    try:
        body: Any = await request.json()
    except ValueError:
        return meta_error(400, 100, "(#100) The request body is not valid JSON", "")
    if is_mark_as_read(body):
        try:
            typing = check_typing_indicator(body)
        except InvalidMessage as exc:
            return meta_error(400, 131009, "(#131009) Parameter value is not valid", exc.details)
        # The read receipt turns the customer's ticks blue in the chat page; the typing
        # indicator shows "typing…" under the shop's name until the reply arrives.
        wamid = str(body["message_id"])
        state.hub.set_status(wamid, "read")
        if typing:
            state.hub.set_typing(wamid)
        return web.json_response({"success": True})
    return _record(request, body)


def _record(request: web.Request, body: Any) -> web.Response:
    state = request.app[SANDBOX]
    wamid = new_wamid()
    try:
        recipient = check_message(body)
    except InvalidMessage as exc:
        to = body.get("to") or body.get("recipient") if isinstance(body, Mapping) else None
        response = meta_error(400, 131009, "(#131009) Parameter value is not valid", exc.details)
        if isinstance(to, str) and to:
            # Shown in the chat as an undelivered bubble, so a limit violation is visible.
            error = {"code": 131009, "details": exc.details}
            state.hub.add(
                to.lstrip("+"),
                wamid=wamid,
                sender="shop",
                at=state.clock(),
                message=dict(body),
                status="rejected",
                error=error,
            )
        return response
    state.hub.add(
        recipient, wamid=wamid, sender="shop", at=state.clock(), message=body, status="accepted"
    )
    contact = {"input": body.get("to") or recipient, "wa_id": recipient}
    return web.json_response(
        {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]}
    )


def add_graph_routes(app: web.Application) -> None:
    app.router.add_post(
        GRAPH_PREFIX + r"/{version:v\d+\.\d+}/{phone_number_id}/messages", send_message
    )
