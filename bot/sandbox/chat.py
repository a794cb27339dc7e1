"""The sandbox chat: a WhatsApp-like page, and the API behind it.

A customer's message becomes the webhook Meta would send (same envelope, fresh wamid, string
timestamp, `context` of the tapped message), signed with the app secret and POSTed to the bot's
own `/webhooks/whatsapp` over loopback HTTP. What the bot sends back arrives through the Graph
stand-in and reaches the page as server-sent events.
"""

import asyncio
import json
import re
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from bot.sandbox.credentials import DISPLAY_PHONE_NUMBER, WABA_ID, Credentials
from bot.sandbox.delivery import Delivery, compact_json, post_signed
from bot.sandbox.hub import ChatItem, ChatLog, summary
from bot.sandbox.pages import STATIC_DIR
from bot.sandbox.signing import meta_signature, new_wamid
from bot.sandbox.state import SANDBOX, SandboxState, shop_name

PHONE = re.compile(r"^[1-9]\d{7,14}$")
FIRST_CUSTOMER = "919800000001"
HEARTBEAT_SECONDS = 15.0
API = "/sandbox/api/customers"


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=60)] | None = None


class TextInput(_Input):
    type: Literal["text"]
    text: Annotated[str, Field(min_length=1, max_length=4096)]


class ReplyInput(_Input):
    type: Literal["button_reply", "list_reply"]
    id: Annotated[str, Field(min_length=1, max_length=256)]
    title: Annotated[str, Field(max_length=100)] = ""
    description: Annotated[str, Field(max_length=100)] | None = None
    context: str | None = None  # wamid of the message whose button or row was tapped


CustomerInput = Annotated[TextInput | ReplyInput, Field(discriminator="type")]
_INPUT: TypeAdapter[TextInput | ReplyInput] = TypeAdapter(CustomerInput)


# --- building the webhook -----------------------------------------------------------------------


def _offers(message: dict[str, Any], reply_id: str) -> bool:
    """Whether a message we sent has a button or list row with this id."""
    action = message.get("interactive", {}).get("action", {})
    ids = [b.get("reply", {}).get("id") for b in action.get("buttons", [])]
    ids += [r.get("id") for s in action.get("sections", []) for r in s.get("rows", [])]
    return reply_id in ids


def find_context(log: ChatLog, reply_id: str) -> str | None:
    """The newest accepted message offering `reply_id`: what a tap from a script replies to."""
    for item in reversed(log.items):
        if item.sender == "shop" and item.status == "accepted" and _offers(item.message, reply_id):
            return item.id
    return None


def inbound_message(
    phone: str, wamid: str, timestamp: int, data: TextInput | ReplyInput, context: str | None
) -> dict[str, Any]:
    """One `messages[]` object, keys in the order Meta writes them."""
    message: dict[str, Any] = {}
    if context:
        message["context"] = {"from": DISPLAY_PHONE_NUMBER, "id": context}
    message["from"] = phone
    message["id"] = wamid
    message["timestamp"] = str(timestamp)
    if isinstance(data, TextInput):
        message.update(type="text", text={"body": data.text})
        return message
    reply: dict[str, str] = {"id": data.id, "title": data.title}
    if data.type == "list_reply" and data.description:
        reply["description"] = data.description
    message.update(type="interactive", interactive={"type": data.type, data.type: reply})
    return message


def webhook_envelope(
    creds: Credentials, phone: str, name: str, message: dict[str, Any]
) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": DISPLAY_PHONE_NUMBER,
            "phone_number_id": creds.phone_number_id,
        },
        "contacts": [{"profile": {"name": name}, "wa_id": phone}],
        "messages": [message],
    }
    change = {"value": value, "field": "messages"}
    return {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": [change]}]}


async def deliver_to_bot(state: SandboxState, envelope: dict[str, Any]) -> Delivery:
    body = compact_json(envelope)
    signature = meta_signature(body, state.credentials.app_secret)
    headers = {"X-Hub-Signature-256": signature, "User-Agent": "facebookexternalua"}
    return await post_signed(state.session(), state.bot_url + "/webhooks/whatsapp", body, headers)


async def customer_says(
    state: SandboxState, phone: str, data: TextInput | ReplyInput
) -> tuple[ChatItem, Delivery]:
    log = state.hub.log(phone, data.name)
    context = data.context if isinstance(data, ReplyInput) else None
    if isinstance(data, ReplyInput) and context is None:
        context = find_context(log, data.id)
    wamid, now = new_wamid(), state.clock()
    message = inbound_message(phone, wamid, int(now), data, context)
    # Published before the webhook goes out, so the page shows it at once.
    item = state.hub.add(
        phone, wamid=wamid, sender="customer", at=now, message=message, status="sent"
    )
    delivery = await deliver_to_bot(
        state, webhook_envelope(state.credentials, phone, log.name, message)
    )
    if delivery.ok:
        state.hub.set_status(wamid, "delivered")
    else:
        state.hub.set_status(wamid, "failed", {"details": delivery.error})
    return item, delivery


# --- routes -------------------------------------------------------------------------------------


def _phone(request: web.Request) -> str:
    phone = request.match_info["phone"].lstrip("+")
    if not PHONE.match(phone):
        raise web.HTTPBadRequest(text="a phone number is 8 to 15 digits, country code first")
    return phone


async def post_message(request: web.Request) -> web.Response:
    phone = _phone(request)
    if request.content_type != "application/json":
        # A cross-site page can send text/plain without asking; application/json it cannot.
        return web.json_response({"error": "send the message as application/json"}, status=415)
    try:
        data = _INPUT.validate_json(await request.read())
    except ValidationError as exc:
        problems = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return web.json_response({"error": "invalid message", "problems": problems}, status=400)
    item, delivery = await customer_says(request.app[SANDBOX], phone, data)
    return web.json_response({"item": item.to_json(), "webhook": delivery.to_json()})


async def history(request: web.Request) -> web.Response:
    phone = _phone(request)
    log = request.app[SANDBOX].hub.log(phone)
    items = [item.to_json() for item in log.items]
    return web.json_response({"phone": phone, "name": log.name, "items": items})


def _sse(item: ChatItem) -> bytes:
    data = json.dumps(item.to_json(), ensure_ascii=False)
    return f"id: {item.version}\ndata: {data}\n\n".encode()


def _last_event_id(request: web.Request) -> int:
    raw = request.headers.get("Last-Event-ID") or request.query.get("since") or "0"
    # isdigit() alone accepts "²", which int() refuses: ASCII digits only.
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else 0


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: first what the page has not seen, then every change as it happens.
    The event id is the conversation version, so a reconnect resumes exactly."""
    phone, hub = _phone(request), request.app[SANDBOX].hub
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    queue = hub.subscribe(phone)  # before the backlog, so nothing falls in between
    seen = _last_event_id(request)
    try:
        await response.write(b"retry: 1000\n\n")
        for item in hub.log(phone).since(seen):
            await response.write(_sse(item))
            seen = item.version
        while True:
            try:
                async with asyncio.timeout(HEARTBEAT_SECONDS):  # not wait_for: see bot/waiting.py
                    live = await queue.get()
            except TimeoutError:
                await response.write(b": ping\n\n")
                continue
            if live is None:  # the app is shutting down
                break
            if live.version > seen:
                await response.write(_sse(live))
                seen = live.version
    except ConnectionResetError:
        pass  # the page went away
    finally:
        hub.unsubscribe(phone, queue)
    return response


async def customers(request: web.Request) -> web.Response:
    logs = [log for log in request.app[SANDBOX].hub.logs.values() if log.items]
    logs.sort(key=lambda log: log.items[-1].at, reverse=True)
    return web.json_response(
        [
            {
                "phone": log.phone,
                "name": log.name,
                "count": len(log.items),
                "last": summary(log.items[-1].message),
                "at": log.items[-1].at,
            }
            for log in logs
        ]
    )


async def info(request: web.Request) -> web.Response:
    state = request.app[SANDBOX]
    return web.json_response(
        {
            "shop": shop_name(request.app),
            "display_phone_number": DISPLAY_PHONE_NUMBER,
            "phone_number_id": state.credentials.phone_number_id,
            "owners": list(state.owners),
        }
    )


async def chat_page(request: web.Request) -> web.StreamResponse:
    phone = request.query.get("phone", "").lstrip("+")
    if not PHONE.match(phone):
        raise web.HTTPFound(f"/sandbox?phone={FIRST_CUSTOMER}")
    return web.FileResponse(STATIC_DIR / "chat.html", headers={"Cache-Control": "no-cache"})


async def new_customer(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(f"/sandbox?phone={request.app[SANDBOX].fresh_phone()}")


async def owner_chat(request: web.Request) -> web.StreamResponse:
    """The chat of the shop's owner (OWNER_WHATSAPP): owner commands instead of the shop."""
    owners = request.app[SANDBOX].owners
    if not owners:
        raise web.HTTPNotFound(text="no owner number: set OWNER_WHATSAPP")
    raise web.HTTPFound(f"/sandbox?phone={owners[0]}")


def add_chat_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/sandbox", chat_page)
    router.add_get("/sandbox/new", new_customer)
    router.add_get("/sandbox/owner", owner_chat)
    router.add_get("/sandbox/api/info", info)
    router.add_get(API, customers)
    router.add_get(API + "/{phone}/messages", history)
    router.add_post(API + "/{phone}/messages", post_message)
    router.add_get(API + "/{phone}/events", events)
