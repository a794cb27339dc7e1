"""The optional Shopify hand-off: each paid order becomes a paid Shopify order.

With SHOPIFY_STORE and SHOPIFY_ACCESS_TOKEN set, the step that marks an order paid also queues
a `shopify_order` job (same transaction: never missed; its own job: never in the way of the
customer's confirmation). The job creates the order with the GraphQL Admin API's `orderCreate`
(Shopify's own idempotency keys do not cover `orderCreate`), tagged `wa:<our order id>`.

Never twice: a create that timed out or got a 5xx may have happened, so before every create —
the first one too, since a process killed mid-call leaves no trace in our database — the job
looks the tag up and only creates when Shopify has no such order. The Shopify order id is
kept on our order (`orders.shopify_order_id`).
"""

import asyncio
import time
from typing import Any

import aiohttp

from bot.jobs import JobRunner
from bot.logging import get_logger
from bot.retry import Backoff
from flows.catalog import ShopConfig
from flows.money import to_major
from flows.orders import Order
from flows.state import Customer
from storage.repository import Job, Store

log = get_logger(__name__)

SHOPIFY_JOB = "shopify_order"
API_VERSION = "2026-01"
TAG_PREFIX = "wa:"

ORDER_CREATE = (
    "mutation orderCreate($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) "
    "{ orderCreate(order: $order, options: $options) "
    "{ order { id name } userErrors { field message } } }"
)
ORDERS_BY_TAG = (
    "query ordersByTag($q: String!) { orders(first: 1, query: $q) { nodes { id name } } }"
)


class ShopifyError(Exception):
    """`transient`: worth another try (a timeout, 429, 5xx, throttled); the call may or may
    not have happened, so a create is only retried after looking the tag up."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def order_tag(order_id: str) -> str:
    return f"{TAG_PREFIX}{order_id}"


def _money(minor: int, currency: str) -> dict[str, dict[str, str]]:
    """Shopify's MoneyInput: a decimal string in major units, exact for the currency."""
    return {"shopMoney": {"amount": str(to_major(minor, currency)), "currencyCode": currency}}


def order_input(order: Order, customer: Customer | None, shop: ShopConfig) -> dict[str, Any]:
    """`OrderCreateOrderInput` for a paid order: a product with a `shopify_variant_id` is that
    variant, any other a custom line item with our name and price; one successful sale
    transaction for the amount paid through Razorpay."""
    variants = {p.id: p.shopify_variant_id for p in shop.products}
    lines: list[dict[str, Any]] = []
    for line in order.lines:
        variant = variants.get(line.product_id)
        if variant:
            lines.append({"variantId": variant, "quantity": line.quantity})
        else:
            lines.append(
                {
                    "title": line.name,
                    "priceSet": _money(line.unit_price, order.currency),
                    "quantity": line.quantity,
                    "requiresShipping": True,
                }
            )
    phone = f"+{customer.phone}" if customer and customer.phone else None
    shipping: dict[str, Any] = {"address1": (order.address or "")[:255], "countryCode": "IN"}
    if customer and customer.name:
        first, _, last = customer.name.partition(" ")
        shipping |= {"firstName": first, "lastName": last or first}
    if phone:
        shipping["phone"] = phone
    payload: dict[str, Any] = {
        "currency": order.currency,
        "financialStatus": "PAID",
        "lineItems": lines,
        "transactions": [
            {
                "kind": "SALE",
                "status": "SUCCESS",
                "gateway": "razorpay",
                "authorizationCode": order.payment_id,
                "amountSet": _money(order.total, order.currency),
            }
        ],
        "tags": ["whatsapp", order_tag(order.id)],
        "note": f"WhatsApp order {order.id}; Razorpay payment {order.payment_id}",
        "sourceIdentifier": order.id,
    }
    if order.address:
        payload["shippingAddress"] = shipping
    if phone:
        payload["phone"] = phone
    return payload


class ShopifyClient:
    """The two Admin API calls the hand-off needs, over the app's aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_base: str,
        access_token: str,
        timeout_seconds: float,
    ) -> None:
        self._session = session
        self._url = f"{api_base}/admin/api/{API_VERSION}/graphql.json"
        self._token = access_token
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def find_by_tag(self, tag: str) -> str | None:
        data = await self._graphql(ORDERS_BY_TAG, {"q": f"tag:'{tag}'"})
        nodes = (data.get("orders") or {}).get("nodes") or []
        return str(nodes[0]["id"]) if nodes else None

    async def create(self, order: dict[str, Any]) -> str:
        options = {"inventoryBehaviour": "DECREMENT_IGNORING_POLICY", "sendReceipt": False}
        data = await self._graphql(ORDER_CREATE, {"order": order, "options": options})
        result = data.get("orderCreate") or {}
        errors = result.get("userErrors") or []
        if errors or not result.get("order"):
            problems = "; ".join(str(e.get("message")) for e in errors) or "no order returned"
            raise ShopifyError(f"orderCreate refused: {problems}", transient=False)
        return str(result["order"]["id"])

    async def _graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        headers = {"X-Shopify-Access-Token": self._token, "Content-Type": "application/json"}
        try:
            async with self._session.post(
                self._url,
                json={"query": query, "variables": variables},
                headers=headers,
                timeout=self._timeout,
            ) as response:
                status = response.status
                body = await response.json(content_type=None) if status < 500 else None
        except (TimeoutError, aiohttp.ClientError, ValueError) as error:
            raise ShopifyError(
                f"Shopify unreachable: {type(error).__name__}", transient=True
            ) from None
        if status == 429 or status >= 500:
            raise ShopifyError(f"Shopify answered HTTP {status}", transient=True)
        if status >= 400 or not isinstance(body, dict):
            raise ShopifyError(f"Shopify answered HTTP {status}", transient=False)
        errors = body.get("errors")
        if errors:
            throttled = any(
                (e.get("extensions") or {}).get("code") == "THROTTLED"
                for e in errors
                if isinstance(e, dict)
            )
            raise ShopifyError(f"Shopify GraphQL errors: {errors}"[:500], transient=throttled)
        data = body.get("data")
        return data if isinstance(data, dict) else {}


class ShopifyHandoff:
    """Performs `shopify_order` jobs on the jobs lane (keyed by order: one at a time)."""

    def __init__(
        self,
        *,
        store: Store,
        client: ShopifyClient,
        shop: ShopConfig,
        backoff: Backoff,
        jobs: JobRunner,
    ) -> None:
        self._store = store
        self._client = client
        self._shop = shop
        self._backoff = backoff
        jobs.add_handler(SHOPIFY_JOB, self.perform)

    async def perform(self, job: Job) -> None:
        bound = log.bind(order_id=job.order_id, job_id=job.id)
        order = await self._store.get_order(job.order_id)
        if order is None:
            bound.error("Shopify hand-off for an unknown order")
            return
        if order.shopify_order_id is not None:
            return  # done before (a job run twice)
        customer = await self._store.customer_of(order.id)
        started, failures = time.monotonic(), 0
        while True:
            try:
                shopify_id = await self._find_or_create(order, customer)
                break
            except ShopifyError as error:
                failures += 1
                pause = self._backoff.delay(failures)
                if not error.transient or self._backoff.gives_up(time.monotonic() - started, pause):
                    # Raised: the jobs worker sets the hand-off aside, listed for a person
                    # (`python -m bot set-aside`), instead of dropping it.
                    bound.error("order not handed to Shopify", error=str(error))
                    raise
                bound.warning("Shopify call failed; will look up and retry", error=str(error))
                await asyncio.sleep(pause)
        await self._store.record_shopify_order(order.id, shopify_id)
        bound.info("order handed to Shopify", shopify_order_id=shopify_id)

    async def _find_or_create(self, order: Order, customer: Customer | None) -> str:
        existing = await self._client.find_by_tag(order_tag(order.id))
        if existing is not None:
            return existing
        return await self._client.create(order_input(order, customer, self._shop))
