"""The application factory: one aiohttp app for both webhooks, its workers and its clients.

Everything with a lifetime (database, HTTP session, workers) is opened in `cleanup_ctx`, so
nothing happens at import time and shutdown closes things in reverse order.
"""

import time
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from bot import keys
from bot.clock import AdjustableClock, Clock, OrderIdFactory, new_order_id, system_clock
from bot.jobs import JobRunner
from bot.logging import get_logger
from bot.merchant.dashboard.routes import setup_dashboard
from bot.merchant.orders import MerchantOrders
from bot.merchant.owner import OwnerDesk
from bot.merchant.refunds import RefundCalls
from bot.merchant.schedule import RetrySchedule
from bot.merchant.setup import merchant_channels
from bot.merchant.shopify import SHOPIFY_JOB, ShopifyClient, ShopifyHandoff
from bot.merchant.stock import MerchantStock, seed_stock
from bot.merchant.worker import AlertWorker
from bot.outbox import OutboxSender
from bot.payments.choose import WEBHOOK_PATHS, make_provider
from bot.payments.paystack import PaystackProvider
from bot.payments.paystack_jobs import PaystackVerifier
from bot.payments.reconcile import PaymentReconciler
from bot.reminders import ReminderScheduler
from bot.retry import Backoff
from bot.routes import health, payments_callback, paystack, razorpay, stripe, whatsapp
from bot.routes.bodies import WebhookBodies
from bot.routes.headers import add_security_headers
from bot.runner import Runner
from bot.settings import Mode, PaymentProviderName, Settings
from bot.whatsapp.client import WhatsAppClient
from bot.whatsapp.receipts import ReadReceipts
from flows.catalog import ShopConfig
from storage.backends import open_store
from storage.repository import DeadLetter, Lane, Store

log = get_logger(__name__)

# For request.read() on the other routes (the sandbox's); the webhooks read their bodies through
# bot/routes/bodies.py, with a limit, a deadline and a budget each.
MAX_WEBHOOK_BODY = 3 * 1024 * 1024
JOB_RETRY_SECONDS = 120.0  # how long link creation keeps trying before telling the customer


def create_app(
    settings: Settings,
    shop: ShopConfig,
    *,
    clock: Clock = system_clock,
    order_ids: OrderIdFactory = new_order_id,
    webhook_bodies: WebhookBodies | None = None,
) -> web.Application:
    app = web.Application(client_max_size=MAX_WEBHOOK_BODY)
    # The sandbox can fast-forward time (to see reminders arrive); live mode cannot.
    sandbox_clock = AdjustableClock(clock) if settings.mode is Mode.SANDBOX else None
    clock = sandbox_clock or clock
    app[keys.SETTINGS] = settings
    app[keys.SHOP] = shop
    app[keys.WEBHOOK_BODIES] = webhook_bodies or WebhookBodies.standard()
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_http_session)
    app.cleanup_ctx.append(_workers(clock, order_ids))
    app.router.add_get("/webhooks/whatsapp", whatsapp.verify_subscription)
    app.router.add_post("/webhooks/whatsapp", whatsapp.receive)
    # Only the chosen provider's webhook route exists: another provider's delivery is a 404.
    receivers = {
        PaymentProviderName.RAZORPAY: razorpay.receive,
        PaymentProviderName.STRIPE: stripe.receive,
        PaymentProviderName.PAYSTACK: paystack.receive,
    }
    app.router.add_post(WEBHOOK_PATHS[settings.provider], receivers[settings.provider])
    app.router.add_get("/payments/callback", payments_callback.payment_callback)
    app.router.add_get("/healthz", health.healthz)
    setup_dashboard(app, settings, clock)
    add_security_headers(app)
    if settings.mode is Mode.SANDBOX:
        from bot.sandbox import setup_sandbox

        setup_sandbox(app, settings, sandbox_clock)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    store = await open_store(
        settings.database_url, postgres=settings.postgres_options(), on_dead_letter=_log_dead_letter
    )
    try:
        # A sandbox over a live shop's orders would publish them; a live shop over sandbox
        # orders would confirm payments that never happened.
        await store.bind_mode(settings.mode.value, int(time.time()))
        seeded = await seed_stock(store, app[keys.SHOP], int(time.time()))
    except BaseException:
        await store.close()
        raise
    log.info("database opened", stock_seeded=seeded, **store.describe())
    app[keys.STORE] = store
    yield
    await store.close()


def _log_dead_letter(item: DeadLetter) -> None:
    log.error(
        "stored item set aside: it cannot be read",
        lane=item.lane.value,
        item_id=item.id,
        customer=item.key if item.lane is not Lane.JOBS else None,
        order_id=item.key if item.lane is Lane.JOBS else None,
        reason=item.reason,
    )


async def _http_session(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    timeout = aiohttp.ClientTimeout(total=settings.http_timeout_seconds, connect=5)
    # One pooled session for every outbound call; a generous per-host pool for bursts.
    connector = aiohttp.TCPConnector(limit=256, limit_per_host=128)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        app[keys.HTTP] = session
        yield


def _workers(clock: Clock, order_ids: OrderIdFactory):  # type: ignore[no-untyped-def]
    async def context(app: web.Application) -> AsyncIterator[None]:
        settings = app[keys.SETTINGS]
        store = app[keys.STORE]
        session = app[keys.HTTP]
        whatsapp_client = WhatsAppClient(
            session,
            api_base=settings.whatsapp_api_base,
            phone_number_id=settings.whatsapp_phone_number_id or "",
            access_token=_secret(settings.whatsapp_access_token),
        )
        provider = make_provider(settings, session, clock)
        outbox = OutboxSender(
            store=store,
            client=whatsapp_client,
            backoff=Backoff(
                base=settings.retry_base_seconds, cap=30.0, total=settings.send_retry_seconds
            ),
            clock=clock,
            concurrency=settings.worker_concurrency,
        )
        alerts = AlertWorker(
            store=store,
            channels=merchant_channels(settings, session, store, whatsapp_client, clock),
            schedule=RetrySchedule(),
            clock=clock,
            concurrency=settings.worker_concurrency,
        )
        runner: Runner
        jobs = JobRunner(
            store=store,
            provider=provider,
            shop=app[keys.SHOP],
            backoff=Backoff(base=settings.retry_base_seconds, cap=30.0, total=JOB_RETRY_SECONDS),
            clock=clock,
            callback_url=_callback_url(settings),
            on_outcome=lambda stored: runner.submit(stored),
            concurrency=settings.worker_concurrency,
        )
        stock = MerchantStock(store=store, shop=app[keys.SHOP], clock=clock)
        merchant = MerchantOrders(
            store=store,
            shop=app[keys.SHOP],
            clock=clock,
            deliver=outbox.submit,
            perform=jobs.submit,
            alert_channels=alerts.channel_names,
            alerts_queued=alerts.poke,
        )
        runner = Runner(
            store=store,
            shop=app[keys.SHOP],
            clock=clock,
            new_order_id=order_ids,
            deliver=outbox.submit,
            perform=jobs.submit,
            concurrency=settings.worker_concurrency,
            alert_channels=alerts.channel_names,
            alerts_queued=alerts.poke,
            owner_desk=OwnerDesk(owners=settings.owner_whatsapp, orders=merchant, stock=stock)
            if settings.owner_whatsapp
            else None,
            paid_jobs=_shopify_handoff(settings, session, store, app[keys.SHOP], jobs),
        )
        # Reminders that come due become events in the customer's lane, like any message.
        reminders = ReminderScheduler(store=store, clock=clock, on_event=runner.submit)
        RefundCalls(store=store, provider=provider, orders=merchant, jobs=jobs, clock=clock)
        if isinstance(provider, PaystackProvider):
            PaystackVerifier(
                store=store,
                provider=provider,
                orders=merchant,
                jobs=jobs,
                clock=clock,
                alert_channels=alerts.channel_names,
                alerts_queued=alerts.poke,
            )
        reconciler = PaymentReconciler(
            store=store,
            provider=provider,
            clock=clock,
            on_event=runner.submit,
            public_base_url=settings.public_base_url,
        )
        app[keys.RECONCILER] = reconciler
        app[keys.MERCHANT] = merchant
        app[keys.STOCK] = stock
        receipts = ReadReceipts(whatsapp_client, enabled=settings.read_receipts)
        app[keys.RECEIPTS] = receipts
        app[keys.WHATSAPP] = whatsapp_client
        app[keys.PAYMENTS] = provider
        app[keys.OUTBOX] = outbox
        app[keys.JOBS] = jobs
        app[keys.RUNNER] = runner
        app[keys.ALERTS] = alerts
        app[keys.REMINDERS] = reminders
        # Messages first, then provider calls, then events: each listing is read before the
        # workers recovered after it can add to what it lists.
        messages = await outbox.recover()
        calls = await jobs.recover()
        events = await runner.recover()
        for worker in (runner, outbox, jobs, alerts):
            worker.start_sweeping()  # several processes share the database: pick up strays
        alerts.start_timer()  # deliveries due now, and each later retry when its time comes
        reminders.start()  # reminders due now (say, during a restart), and each later one
        reconciler.start()  # orders awaiting payment are asked about even without a webhook
        log.info(
            "workers started",
            mode=settings.mode.value,
            events_recovered=events,
            messages_recovered=messages,
            jobs_recovered=calls,
            merchant_channels=list(alerts.channel_names),
        )
        try:
            await reconciler.log_webhook_warning()
        except Exception:
            log.warning("could not read the payment signals", exc_info=True)
        yield
        await reminders.close()  # what is not yet due stays in the database for the next start
        await receipts.close()
        await reconciler.close()
        await _drain(settings.shutdown_grace_seconds, runner, jobs, outbox)
        # Merchant deliveries last: whatever is unsent stays queued for the next start.
        await alerts.close(1.0)

    return context


async def _drain(grace: float, runner: Runner, jobs: JobRunner, outbox: OutboxSender) -> None:
    """Finish what is in flight within the grace period; the rest stays durable for restart.
    Steps first (they make messages), then provider calls, then deliveries."""
    deadline = time.monotonic() + grace
    left_events = await runner.close(max(0.0, (deadline - time.monotonic()) * 0.4))
    left_jobs = await jobs.close(max(0.0, (deadline - time.monotonic()) * 0.4))
    left_messages = await outbox.close(max(0.0, deadline - time.monotonic()))
    log.info(
        "workers stopped",
        events_left=left_events,
        jobs_left=left_jobs,
        messages_left=left_messages,
    )


def _shopify_handoff(
    settings: Settings,
    session: aiohttp.ClientSession,
    store: Store,
    shop: ShopConfig,
    jobs: JobRunner,
) -> tuple[str, ...]:
    """With SHOPIFY_STORE and SHOPIFY_ACCESS_TOKEN, paid orders are handed to Shopify: the
    job kinds a paying step queues (none without)."""
    api_base = settings.shopify_admin_base
    if api_base is None:
        return ()
    client = ShopifyClient(
        session,
        api_base=api_base,
        access_token=_secret(settings.shopify_access_token),
        timeout_seconds=settings.http_timeout_seconds,
    )
    backoff = Backoff(base=settings.retry_base_seconds, cap=30.0, total=JOB_RETRY_SECONDS)
    ShopifyHandoff(store=store, client=client, shop=shop, backoff=backoff, jobs=jobs)
    return (SHOPIFY_JOB,)


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else ""


def _callback_url(settings: Settings) -> str | None:
    if not settings.public_base_url:
        return None
    return f"{settings.public_base_url}/payments/callback"
