"""The sandbox's own state, kept under its own app key (the bot's keys live in `bot.keys`)."""

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bot.clock import AdjustableClock
from bot.keys import SHOP
from bot.sandbox.credentials import Credentials
from bot.sandbox.faults import GraphFaults, RazorpayFaults
from bot.sandbox.hub import ChatHub
from bot.sandbox.links import LinkStore
from bot.waiting import wait_for_event


@dataclass(eq=False)
class SandboxState:
    credentials: Credentials
    bot_url: str  # where the stand-ins post webhooks; tests point it at their TestServer
    public_url: str  # what the customer's browser reaches: checkout links point here
    hub: ChatHub = field(default_factory=ChatHub)
    links: LinkStore = field(default_factory=LinkStore)
    graph_faults: GraphFaults = field(default_factory=GraphFaults)
    razorpay_faults: RazorpayFaults = field(default_factory=RazorpayFaults)
    clock: Callable[[], float] = time.time
    fast_forward: AdjustableClock | None = None  # the bot's clock, when the sandbox may move it
    rng: random.Random = field(default_factory=random.Random)
    http: aiohttp.ClientSession | None = None
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    next_customer: int = 1
    webhooks: Counter[str] = field(default_factory=Counter)  # events sent to the bot, by name
    owners: tuple[str, ...] = ()  # OWNER_WHATSAPP: these chats get owner commands, not the shop

    def session(self) -> aiohttp.ClientSession:
        if self.http is None or self.http.closed:
            raise RuntimeError("the sandbox's HTTP session is not open (cleanup_ctx not run)")
        return self.http

    async def close(self) -> None:
        """Wake every sleeper, end live streams, then wait for background work to finish."""
        self.closing.set()
        self.hub.close()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run in the background; the task is kept so cleanup can drain or cancel it."""
        task = asyncio.get_running_loop().create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def nap(self, seconds: float) -> None:
        """Sleep, but wake at once when the app shuts down."""
        await wait_for_event(self.closing, seconds)

    def fresh_phone(self) -> str:
        """A customer number no page has used yet: 9198000000NN."""
        while True:
            phone = f"9198{self.next_customer:08d}"
            self.next_customer += 1
            if phone not in self.hub.logs:
                self.hub.log(phone)
                return phone


SANDBOX = web.AppKey("sandbox", SandboxState)


def shop_name(app: web.Application) -> str:
    """The merchant's name from the bot's shop config; the standalone stand-ins have none."""
    shop = app.get(SHOP)
    return shop.shop.name if shop is not None else "Sandbox shop"
