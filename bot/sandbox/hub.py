"""Every sandbox conversation: what each customer sent and what the bot sent them.

The Graph stand-in and the chat API both write here; the chat page and the orders view read
it. Each change bumps a per-customer version that doubles as the server-sent-event id, so a
page that reconnects with `Last-Event-ID` gets exactly the changes it missed.
"""

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

Sender = Literal["customer", "shop"]

# A customer's message only moves forward: sent → delivered → read. "failed" means the bot
# never acknowledged the webhook.
_PROGRESS = {"sent": 0, "delivered": 1, "read": 2, "failed": 1}
# What the sandbox keeps in memory: the newest messages of the most recently active customers.
# Far more than a person clicks through, and bounded whoever posts to it.
MAX_ITEMS_PER_CUSTOMER = 500
MAX_CUSTOMERS = 1000


@dataclass(slots=True)
class ChatItem:
    seq: int  # position in the conversation, stable
    version: int  # bumped on every change
    id: str  # wamid
    sender: Sender
    at: float  # Unix seconds
    message: dict[str, Any]  # wire JSON: the inbound message object, or the bot's request body
    status: str  # customer: sent|delivered|read|failed; shop: accepted|rejected
    error: dict[str, Any] | None = None
    typing: bool = False  # customer: the bot showed "typing…" in answer to this message

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "version": self.version,
            "id": self.id,
            "sender": self.sender,
            "at": self.at,
            "message": self.message,
            "status": self.status,
            "error": self.error,
            "typing": self.typing,
        }


@dataclass(slots=True)
class ChatLog:
    phone: str
    name: str
    items: list[ChatItem] = field(default_factory=list)  # the newest MAX_ITEMS_PER_CUSTOMER
    version: int = 0
    listeners: set[asyncio.Queue[ChatItem | None]] = field(default_factory=set)
    next_seq: int = 0  # positions stay stable when old items are dropped

    def since(self, version: int) -> list[ChatItem]:
        return sorted((i for i in self.items if i.version > version), key=lambda i: i.version)


class ChatHub:
    def __init__(self) -> None:
        self.logs: dict[str, ChatLog] = {}
        self._by_wamid: dict[str, tuple[ChatLog, ChatItem]] = {}
        self.accepted: Counter[str] = Counter()  # shop messages per recipient, for /stats
        self.rejected = 0

    def log(self, phone: str, name: str | None = None) -> ChatLog:
        log = self.logs.get(phone)
        if log is None:
            log = self.logs[phone] = ChatLog(phone=phone, name=name or default_name(phone))
            self._forget_quietest()
        elif name:
            log.name = name
        return log

    def _forget_quietest(self) -> None:
        """Past MAX_CUSTOMERS, drop the conversation that changed longest ago (the dict keeps
        them in order of activity: `add` moves a conversation to the end)."""
        while len(self.logs) > MAX_CUSTOMERS:
            phone = next(iter(self.logs))
            for item in self.logs.pop(phone).items:
                self._by_wamid.pop(item.id, None)

    def add(
        self,
        phone: str,
        *,
        wamid: str,
        sender: Sender,
        at: float,
        message: dict[str, Any],
        status: str,
        error: dict[str, Any] | None = None,
    ) -> ChatItem:
        log = self.log(phone)
        self.logs[phone] = self.logs.pop(phone)  # the most recently active goes last
        log.version += 1
        item = ChatItem(log.next_seq, log.version, wamid, sender, at, message, status, error)
        log.next_seq += 1
        log.items.append(item)
        self._by_wamid[wamid] = (log, item)
        if len(log.items) > MAX_ITEMS_PER_CUSTOMER:
            for old in log.items[:-MAX_ITEMS_PER_CUSTOMER]:
                self._by_wamid.pop(old.id, None)
            del log.items[:-MAX_ITEMS_PER_CUSTOMER]
        if sender == "shop":
            if status == "accepted":
                self.accepted[phone] += 1
            else:
                self.rejected += 1
        self._publish(log, item)
        return item

    def set_status(self, wamid: str, status: str, error: dict[str, Any] | None = None) -> bool:
        """Move a customer's message forward; returns False for an unknown id or a step back
        (a read receipt can overtake the webhook's 200)."""
        found = self._by_wamid.get(wamid)
        if found is None:
            return False
        log, item = found
        if _PROGRESS.get(status, 0) <= _PROGRESS.get(item.status, 0):
            return False
        item.status, item.error = status, error
        log.version += 1
        item.version = log.version
        self._publish(log, item)
        return True

    def set_typing(self, wamid: str) -> bool:
        """The bot is typing its answer to this customer message (until its next message, or
        25 seconds, as on WhatsApp: the page decides); False for an unknown id or a repeat."""
        found = self._by_wamid.get(wamid)
        if found is None or found[1].sender != "customer" or found[1].typing:
            return False
        log, item = found
        item.typing = True
        log.version += 1
        item.version = log.version
        self._publish(log, item)
        return True

    def find(self, wamid: str) -> ChatItem | None:
        found = self._by_wamid.get(wamid)
        return found[1] if found else None

    def subscribe(self, phone: str) -> asyncio.Queue[ChatItem | None]:
        queue: asyncio.Queue[ChatItem | None] = asyncio.Queue()
        self.log(phone).listeners.add(queue)
        return queue

    def unsubscribe(self, phone: str, queue: asyncio.Queue[ChatItem | None]) -> None:
        self.log(phone).listeners.discard(queue)

    def close(self) -> None:
        """End every live stream, so a shutdown does not wait on open pages."""
        for log in self.logs.values():
            for queue in log.listeners:
                queue.put_nowait(None)

    @staticmethod
    def _publish(log: ChatLog, item: ChatItem) -> None:
        for queue in log.listeners:
            queue.put_nowait(item)


def default_name(phone: str) -> str:
    return f"Customer {phone[-4:]}"


def summary(message: dict[str, Any]) -> str:
    """A one-line description of any wire message, for previews and the orders view."""
    kind = message.get("type", "text")
    if kind == "text":
        return str(message.get("text", {}).get("body", ""))
    if kind != "interactive":
        return f"[{kind}]"
    interactive = message.get("interactive", {})
    sub = interactive.get("type")
    if sub in {"button_reply", "list_reply"}:  # the customer's tap
        return f"▸ {interactive.get(sub, {}).get('title', '')}"
    body = str(interactive.get("body", {}).get("text", ""))
    action = interactive.get("action", {})
    if sub == "button":
        titles = [b.get("reply", {}).get("title", "") for b in action.get("buttons", [])]
        return f"{body} [{' | '.join(titles)}]"
    if sub == "list":
        return f"{body} [☰ {action.get('button', '')}]"
    if sub == "cta_url":
        return f"{body} [↗ {action.get('parameters', {}).get('display_text', '')}]"
    return body
