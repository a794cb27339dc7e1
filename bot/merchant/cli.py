"""`python -m bot orders …`: the merchant's actions from a terminal, through the same service
(`bot.merchant.orders`) a dashboard uses.

The command also does what it queued at once (the customer's message, the refund call) with
the bot's own workers, limited to those items; whatever cannot finish stays durable and the bot
does it (at its next start, or within seconds on Postgres). In sandbox mode it talks to the
running sandbox's stand-ins, so the customer's chat in the browser updates; with no sandbox
running, the work waits for the next `python -m bot`.
"""

import argparse
import asyncio
import contextlib
import getpass
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

import aiohttp

from bot.clock import system_clock
from bot.jobs import JobRunner
from bot.merchant.orders import MerchantOrders
from bot.merchant.refunds import RefundCalls
from bot.merchant.setup import alert_channel_names
from bot.outbox import OutboxSender
from bot.payments.choose import make_provider
from bot.payments.paystack import PaystackProvider
from bot.payments.paystack_jobs import PaystackVerifier
from bot.retry import Backoff
from bot.settings import Mode, Settings
from bot.whatsapp.client import WhatsAppClient
from flows.catalog import ShopConfig
from flows.lifecycle import PaymentStatus, Verdict, payment_status
from flows.money import InvalidPrice, format_money, to_minor
from flows.orders import FulfilmentStatus
from storage.backends import open_store
from storage.repository import ActionResult, Store

ACTIONS = ("ship", "deliver", "cancel", "refund", "paid")
EXIT_REFUSED = 4  # the action is not allowed for this order (or there is no such order)
STATUSES = [s.value for s in PaymentStatus] + [s.value for s in FulfilmentStatus]
WORK_SECONDS = 60.0  # how long the command waits for what it queued before leaving it


def add_orders_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    orders = commands.add_parser(
        "orders", help="list, ship, deliver, cancel, refund orders; mark cash-on-delivery ones paid"
    )
    actions = orders.add_subparsers(dest="orders_command", required=True)
    listing = actions.add_parser("list", help="newest first")
    _filters(listing)
    listing.add_argument("--limit", type=int, default=50)
    actions.add_parser("show", help="an order, its history and refunds").add_argument("order_id")
    ship = actions.add_parser("ship", help="mark shipped and tell the customer")
    ship.add_argument("order_id")
    ship.add_argument("--courier")
    ship.add_argument("--tracking", help="a tracking number, or a URL the customer can open")
    actions.add_parser(
        "deliver", help="mark delivered (a cash-on-delivery order is marked paid too)"
    ).add_argument("order_id")
    paid = actions.add_parser("paid", help="mark a cash-on-delivery order paid (cash collected)")
    paid.add_argument("order_id")
    paid.add_argument("--reason", default="", help='e.g. "cash collected at the shop"')
    cancel = actions.add_parser("cancel", help="cancel; a paid order needs --refund")
    cancel.add_argument("order_id")
    cancel.add_argument("--refund", action="store_true", help="refund what was paid as well")
    cancel.add_argument("--reason", default="")
    refund = actions.add_parser("refund", help="refund all or part of a paid order")
    refund.add_argument("order_id")
    refund.add_argument(
        "--amount", help="in the shop's currency, e.g. 12.50 (default: all that is left)"
    )
    refund.add_argument("--reason", default="")
    refund.add_argument(
        "--request-id",
        help="any id of your own for this refund: running the command again with the same id "
        "refunds once (without one, each run is a new refund)",
    )
    export = actions.add_parser("export", help="CSV of orders to stdout")
    _filters(export)


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--status", action="append", choices=STATUSES, default=[])
    parser.add_argument("--search", help="an order id or (part of) a phone number")


_RESULTS: ContextVar[TextIO] = ContextVar("orders_results")


def run_orders(args: argparse.Namespace, settings: Settings, shop: ShopConfig) -> int:
    """Results on stdout, log lines on stderr: `orders export > orders.csv` is a clean CSV."""
    _RESULTS.set(sys.stdout)
    with contextlib.redirect_stdout(sys.stderr):
        return asyncio.run(_run(args, settings, shop))


def _say(text: str) -> None:
    print(text, file=_RESULTS.get())


async def _run(args: argparse.Namespace, settings: Settings, shop: ShopConfig) -> int:
    store = await open_store(settings.database_url, postgres=settings.postgres_options())
    try:
        if args.orders_command in ACTIONS:
            wired = settings if settings.mode is Mode.LIVE else await _running_sandbox(settings)
            if wired is not None:
                async with _workers(wired, shop, store) as orders:
                    return await _command(args, orders)
        orders = MerchantOrders(
            store=store,
            shop=shop,
            clock=system_clock,
            alert_channels=alert_channel_names(_bot_settings(settings)),
        )
        return await _command(args, orders)
    finally:
        await store.close()


def _bot_settings(settings: Settings) -> Settings:
    """The settings the bot runs with: in the sandbox, wired to its stand-ins (whose merchant
    channels the bot's alert worker delivers to when it starts)."""
    if settings.mode is Mode.LIVE:
        return settings
    from bot.sandbox import sandbox_settings

    return sandbox_settings(settings)


async def _running_sandbox(settings: Settings) -> Settings | None:
    """The sandbox's settings when its bot answers on its port; else None: the command only
    records the action (the sandbox does the rest when it starts)."""
    from bot.sandbox import sandbox_settings

    wired = sandbox_settings(settings)
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session,
            session.get(f"http://127.0.0.1:{settings.port}/healthz") as response,
        ):
            if response.status == 200:
                return wired
    except (aiohttp.ClientError, TimeoutError):
        pass
    print(
        f"note: no sandbox answers on port {settings.port}; the customer's message and any "
        "refund are sent when it starts",
        file=sys.stderr,
    )
    return None


async def _command(args: argparse.Namespace, orders: MerchantOrders) -> int:
    by = f"cli:{getpass.getuser()}"
    match args.orders_command:
        case "list":
            for order in await orders.list(args.status, args.search, args.limit):
                total = format_money(order.total, order.currency)
                _say(
                    f"{order.id}  {_when(order.created_at)}  {total:>12}  "
                    f"{payment_status(order).value:<16}{order.fulfilment.value}"
                )
            return 0
        case "export":
            _RESULTS.get().write(await orders.export_csv(args.status, args.search))
            return 0
        case "show":
            return await _show(orders, args.order_id)
        case "ship":
            return _report(
                await orders.ship(
                    args.order_id, by=by, courier=args.courier, tracking=args.tracking
                )
            )
        case "deliver":
            return _report(await orders.deliver(args.order_id, by=by))
        case "paid":
            return _report(await orders.mark_paid(args.order_id, by=by, reason=args.reason))
        case "cancel":
            return _report(
                await orders.cancel(args.order_id, by=by, refund=args.refund, reason=args.reason)
            )
        case "refund":
            return await _refund(orders, args, by)
    raise AssertionError(args.orders_command)  # argparse allows only the commands above


async def _refund(orders: MerchantOrders, args: argparse.Namespace, by: str) -> int:
    details = await orders.show(args.order_id)
    if details is None:
        return _report_missing(args.order_id)
    if args.amount is None:
        amount = details.order.total - details.order.refunds_requested_total
    else:
        try:
            amount = to_minor(args.amount, details.order.currency)
        except InvalidPrice as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_REFUSED
    request_key = f"cli:{args.request_id}" if args.request_id else None
    return _report(
        await orders.refund(
            args.order_id, amount, by=by, reason=args.reason, request_key=request_key
        )
    )


async def _show(orders: MerchantOrders, order_id: str) -> int:
    details = await orders.show(order_id)
    if details is None:
        return _report_missing(order_id)
    order, customer = details.order, details.customer
    _say(f"Order {order.id}  placed {_when(order.created_at)}")
    if customer is not None:
        _say(f"Customer: {customer.name or '-'}  +{customer.phone or '-'}")
    _say(f"Address: {order.address or '-'}")
    for line in order.lines:
        _say(f"  {line.quantity} x {line.name}  {format_money(line.total, order.currency)}")
    _say(f"Total: {format_money(order.total, order.currency)}")
    _say(f"Payment: {payment_status(order).value}  ({order.payment_id or 'no payment id'})")
    _say(f"Refunded: {format_money(order.refunded_total, order.currency)}")
    _say(f"Fulfilment: {order.fulfilment.value}")
    if order.courier or order.tracking_number or order.tracking_url:
        tracking = order.tracking_url or order.tracking_number or "-"
        _say(f"Courier: {order.courier or '-'}  tracking: {tracking}")
    _say("History:")
    for entry in details.history:
        who = f" [{entry.actor}]" if entry.actor else ""
        _say(f"  {_when(entry.at)}  {entry.status}{who}  {entry.reason}")
    for refund in details.refunds:
        _say(
            f"Refund #{refund.id}: {format_money(refund.amount, order.currency)} {refund.status}"
            f" ({refund.provider_refund_id or 'not yet at the provider'}) {refund.reason}"
        )
    return 0


def _report(result: ActionResult) -> int:
    if result.verdict is Verdict.REFUSED:
        print(f"refused: {result.message}", file=sys.stderr)
        return EXIT_REFUSED
    prefix = "already done: " if result.verdict is Verdict.ALREADY else ""
    _say(prefix + result.message)
    return 0


def _report_missing(order_id: str) -> int:
    print(f"refused: no order {order_id}", file=sys.stderr)
    return EXIT_REFUSED


def _when(at: int) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M")


@asynccontextmanager
async def _workers(
    settings: Settings, shop: ShopConfig, store: Store
) -> AsyncIterator[MerchantOrders]:
    """The bot's outbox and job workers, fed only what this command queues (no recovery, no
    sweep: the bot's own pending work stays the bot's); drained before the command ends."""
    timeout = aiohttp.ClientTimeout(total=settings.http_timeout_seconds, connect=5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        client = WhatsAppClient(
            session,
            api_base=settings.whatsapp_api_base,
            phone_number_id=settings.whatsapp_phone_number_id or "",
            access_token=_secret(settings.whatsapp_access_token),
        )
        provider = make_provider(settings, session)
        backoff = Backoff(base=settings.retry_base_seconds, cap=30.0, total=WORK_SECONDS)
        outbox = OutboxSender(
            store=store, client=client, backoff=backoff, clock=system_clock, concurrency=4
        )
        jobs = JobRunner(
            store=store,
            provider=provider,
            shop=shop,
            backoff=backoff,
            clock=system_clock,
            callback_url=None,
            on_outcome=lambda stored: None,  # refunds have no outcome event
            concurrency=4,
        )
        orders = MerchantOrders(
            store=store,
            shop=shop,
            clock=system_clock,
            deliver=outbox.submit,
            perform=jobs.submit,
            # Queued here, delivered by the bot's alert worker (its timer looks every 30 s).
            alert_channels=alert_channel_names(settings),
        )
        RefundCalls(store=store, provider=provider, orders=orders, jobs=jobs, clock=system_clock)
        if isinstance(provider, PaystackProvider):
            # An order's jobs run in order, whoever runs them: one of the bot's pending checks
            # of a Paystack payment may come first.
            PaystackVerifier(
                store=store, provider=provider, orders=orders, jobs=jobs, clock=system_clock
            )
        yield orders
        # Jobs first: a refund the provider settles at once queues the customer's message.
        # Idle before closing: a closing worker on a shared store leaves its work to the
        # bot's sweep, and the merchant would rather see it done now.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(WORK_SECONDS):
                await jobs.idle()
                await outbox.idle()
        await jobs.close(0)
        await outbox.close(0)


def _secret(value: object) -> str:
    get = getattr(value, "get_secret_value", None)
    return str(get()) if callable(get) else ""
