"""A stand-in for the Shopify GraphQL Admin API's two calls the hand-off makes: `orderCreate`
and `orders(query: "tag:'…'")`. It records the orders it creates. The sandbox serves it under
/sandbox/shopify; tests serve it on their own loopback server and script its failures,
including the ambiguous one: the order is created, but the answer never arrives in time."""

from __future__ import annotations

import asyncio
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

SANDBOX_SHOPIFY_STORE = "sandbox-shop.myshopify.com"
SANDBOX_SHOPIFY_TOKEN = "shpat_sandbox_token"  # noqa: S105 -- a fake only the stand-in checks

_TAG_QUERY = re.compile(r"^tag:'([^']*)'$")


@dataclass
class ShopifyStandin:
    access_token: str
    orders: list[dict[str, Any]] = field(default_factory=list)  # created, oldest first
    calls: list[str] = field(default_factory=list)  # "create" / "find", in order
    # What the next creates do, first to last: "ok", "hang" (create, then answer only after
    # `hang_seconds`: the caller times out), "503-after" (create, then answer 503), "503"
    # (create nothing, answer 503). "ok" once these run out.
    create_script: list[str] = field(default_factory=list)
    hang_seconds: float = 30.0
    created: asyncio.Event = field(default_factory=asyncio.Event)  # set by each create
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))

    def add_routes(self, app: web.Application, prefix: str = "") -> None:
        app.router.add_post(f"{prefix}/admin/api/{{version}}/graphql.json", self._graphql)

    def app(self) -> web.Application:
        app = web.Application()
        self.add_routes(app)
        return app

    def tagged(self, tag: str) -> list[dict[str, Any]]:
        return [order for order in self.orders if tag in order["input"].get("tags", [])]

    async def _graphql(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Shopify-Access-Token") != self.access_token:
            return web.json_response(
                {"errors": "[API] Invalid API key or access token"}, status=401
            )
        try:
            body = await request.json()
            query, variables = str(body["query"]), dict(body.get("variables") or {})
        except (ValueError, KeyError, TypeError):
            return web.json_response({"errors": [{"message": "bad request"}]}, status=400)
        if "orderCreate" in query:
            return await self._create(variables)
        if "orders(" in query:
            return self._find(str(variables.get("q", "")))
        return web.json_response({"errors": [{"message": "not in the stand-in"}]}, status=400)

    async def _create(self, variables: dict[str, Any]) -> web.Response:
        self.calls.append("create")
        step = self.create_script.pop(0) if self.create_script else "ok"
        if step == "503":
            return web.Response(status=503, text="Service Unavailable")
        order_input = variables.get("order") or {}
        if not order_input.get("lineItems"):
            errors = [{"field": ["order", "lineItems"], "message": "Line items are required"}]
            return web.json_response(
                {"data": {"orderCreate": {"order": None, "userErrors": errors}}}
            )
        number = next(self._ids)
        order = {"id": f"gid://shopify/Order/{number}", "name": f"#{number}"}
        self.orders.append({**order, "input": order_input})
        self.created.set()
        if step == "hang":
            await asyncio.sleep(self.hang_seconds)
        if step == "503-after":
            return web.Response(status=503, text="Service Unavailable")
        return web.json_response({"data": {"orderCreate": {"order": order, "userErrors": []}}})

    def _find(self, search: str) -> web.Response:
        self.calls.append("find")
        match = _TAG_QUERY.match(search)
        found = self.tagged(match.group(1)) if match else []
        nodes = [{"id": order["id"], "name": order["name"]} for order in found[:1]]
        return web.json_response({"data": {"orders": {"nodes": nodes}}})
