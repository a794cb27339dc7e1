"""`python -m bot [serve]`, `migrate`, `check-config [PATH]`, `copy-db --from URL --to URL`,
`set-aside`, `orders …`, `stock list|set ID N|add ID N`."""

import argparse
import asyncio
import gc
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from bot.hosting import HostingPlatform, detect_platform
from bot.logging import configure_logging, get_logger
from bot.merchant.alerts_cli import add_alerts_command, run_alerts_command
from bot.merchant.cli import add_orders_parser, run_orders
from bot.merchant.stock_cli import add_stock_parser, run_stock
from bot.payments.choose import amount_problems, currency_problem
from bot.settings import (
    HTTP_DRAIN_SECONDS,
    LOOPBACK,
    Mode,
    PaymentProviderName,
    Settings,
    SettingsError,
    chosen_provider,
    load_settings,
)
from bot.shop_config import ConfigError, load_shop_config
from flows.catalog import ShopConfig
from storage.backends import open_store
from storage.copy import CopyRefusedError, copy_database
from storage.database_url import DatabaseUrlError
from storage.errors import ModeMismatchError, StorageUnavailableError
from storage.migrate import migrate
from storage.repository import DeadLetter

log = get_logger("bot")

EXIT_CONFIG = 1  # the shop's config file has problems
EXIT_ENV = 2  # the environment is missing or has bad variables
EXIT_DATABASE = 3  # the database cannot be reached (a release phase fails and can be retried)

# Heroku's router keeps an idle connection to a dyno open for 90 s. Ours must outlast it: a
# server that closes first races the router's next request on that connection (a 503 that
# Meta or Razorpay then retry).
KEEPALIVE_SECONDS = 95.0


def main(argv: Sequence[str], env: Mapping[str, str] = os.environ) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the webhooks (the default)")
    commands.add_parser("migrate", help="apply database migrations (the Procfile's release:)")
    check = commands.add_parser("check-config", help="validate a shop config file")
    check.add_argument("path", nargs="?", type=Path, help="default: $BOT_CONFIG or config.toml")
    copy = commands.add_parser(
        "copy-db", help="move a shop from a SQLite file to an empty Postgres database"
    )
    copy.add_argument("--from", dest="source", required=True, help="sqlite:///path/bot.sqlite3")
    copy.add_argument("--to", dest="target", required=True, help="postgres://user:pass@host/db")
    commands.add_parser("set-aside", help="list stored items set aside as unusable")
    add_alerts_command(commands)
    add_orders_parser(commands)
    add_stock_parser(commands)
    args = parser.parse_args(argv)
    if args.command == "check-config":
        return _check_config(args.path or Path(env.get("BOT_CONFIG") or "config.toml"), env)
    if args.command == "copy-db":
        return _copy_db(args.source, args.target)
    try:
        settings = load_settings(env)
    except SettingsError as error:
        for problem in error.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_ENV
    configure_logging(settings.log_level)
    if args.command == "migrate":
        return _migrate(settings)
    if args.command == "set-aside":
        return _list_set_aside(settings)
    if args.command == "alerts":
        return run_alerts_command(args, settings.database_url)
    if args.command == "orders":
        return _merchant_command(run_orders, args, settings)
    if args.command == "stock":
        return _merchant_command(run_stock, args, settings)
    return _serve(settings, detect_platform(env))


MerchantCommand = Callable[[argparse.Namespace, Settings, ShopConfig], int]


def _merchant_command(run: MerchantCommand, args: argparse.Namespace, settings: Settings) -> int:
    """`orders …` and `stock …`: the shop's config first, then the database."""
    try:
        shop = load_shop_config(settings.bot_config)
    except ConfigError as error:
        _print_problems(error)
        return EXIT_CONFIG
    try:
        return run(args, settings, shop)
    except StorageUnavailableError as error:
        print(f"error: the database cannot be reached: {error}", file=sys.stderr)
        return EXIT_DATABASE


def _check_config(path: Path, env: Mapping[str, str]) -> int:
    try:
        shop = load_shop_config(path)
    except ConfigError as error:
        _print_problems(error)
        return EXIT_CONFIG
    problems = _payment_problems(shop, env)
    if problems:
        _print_problems(ConfigError(path, problems))
        return EXIT_CONFIG
    hidden = sum(1 for product in shop.products if not product.available)
    print(
        f"{path}: OK. {shop.shop.name}: {len(shop.products)} products "
        f"({hidden} unavailable) in {len(shop.catalog.categories)} categories. "
        f"Languages: {', '.join(shop.language_codes)}."
    )
    return 0


def _payment_problems(shop: ShopConfig, env: Mapping[str, str]) -> list[str]:
    """The payment provider the environment picks, and whether it takes the shop's currency."""
    try:
        named = PaymentProviderName(env.get("PAYMENT_PROVIDER", "").strip().lower())
    except ValueError:
        named = None
    provider, problems = chosen_provider(env, named)
    if env.get("PAYMENT_PROVIDER", "").strip() and named is None:
        choices = ", ".join(name.value for name in PaymentProviderName)
        problems.append(f"PAYMENT_PROVIDER={env['PAYMENT_PROVIDER']!r}: use one of {choices}")
    currency = currency_problem(provider, shop.shop.currency)
    prices = {product.id: product.price for product in shop.products}
    limits = amount_problems(provider, shop.shop.currency, prices)
    return problems + ([currency] if currency else []) + limits


def _print_problems(error: ConfigError) -> None:
    print(f"{error.path}: {len(error.problems)} problem(s)", file=sys.stderr)
    for problem in error.problems:
        print(f"  - {problem}", file=sys.stderr)


def _migrate(settings: Settings) -> int:
    try:
        applied = asyncio.run(migrate(settings.database_url, settings.postgres_options()))
    except DatabaseUrlError as error:
        print(f"error: DATABASE_URL: {error}", file=sys.stderr)
        return EXIT_ENV
    except StorageUnavailableError as error:
        print(
            f"error: the database at {_safe_url(settings.database_url)} cannot be reached: {error}",
            file=sys.stderr,
        )
        return EXIT_DATABASE
    log.info("migrations applied", versions=applied, database=_safe_url(settings.database_url))
    return 0


def _serve(settings: Settings, platform: HostingPlatform | None) -> int:
    try:
        shop = load_shop_config(settings.bot_config)
    except ConfigError as error:
        # The same report as check-config: a merchant fixes everything from one start.
        _print_problems(error)
        return EXIT_CONFIG
    currency = currency_problem(settings.provider, shop.shop.currency)
    if currency and settings.mode is Mode.LIVE:
        _print_problems(ConfigError(settings.bot_config, [currency]))
        return EXIT_CONFIG
    if settings.mode is Mode.SANDBOX:
        from bot.sandbox import sandbox_settings

        settings = sandbox_settings(settings)
        if platform is None:
            _announce_sandbox(settings)
        else:
            _warn_sandbox_on_platform(settings, platform)
    code = _migrate(settings)
    if code:
        return code
    from bot.app import create_app

    log.info(
        "starting",
        host=settings.host,
        port=settings.port,
        mode=settings.mode.value,
        platform=platform.name if platform else None,
    )
    try:
        _run(create_app(settings, shop), settings)
    except ModeMismatchError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ENV
    except StorageUnavailableError as error:
        print(f"error: the database cannot be reached: {error}", file=sys.stderr)
        return EXIT_DATABASE
    log.info("stopped")
    return 0


def _run(app: web.Application, settings: Settings) -> None:
    app.on_startup.append(_freeze_startup_heap)  # after cleanup_ctx: database, workers opened
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,
        access_log=None,
        # On SIGTERM: stop listening, give open requests HTTP_DRAIN_SECONDS (3 s), then the
        # workers SHUTDOWN_GRACE_SECONDS (25 s by default), then close the database. 3 + 25 =
        # 28 s < the 30 s Heroku allows before SIGKILL, with 2 s to close and exit;
        # load_settings refuses a grace that would not fit a platform's window.
        shutdown_timeout=HTTP_DRAIN_SECONDS,
        keepalive_timeout=KEEPALIVE_SECONDS,
        # aiohttp's default of 128 pending connections overflows when a burst of webhook
        # deliveries connects at once, and the kernel retries the dropped SYNs only after 1 s
        # and 3 s (BENCHMARKS.md); the kernel caps this at net.core.somaxconn.
        backlog=1024,
        loop=_event_loop(),
    )


GC_THRESHOLDS = (700, 10, 1000)
"""The collector's defaults, except that a full collection waits for 1,000 collections of
the middle generation instead of 10. Under a backlog (more messages offered than a process
answers) the live heap is the queued work itself: full collections then walked it every few
hundred milliseconds and found nothing (45 runs, 10.9 s of a 20 s overload, 0 objects
freed), and one process fell from ~1,000 answers a second to ~490 on Postgres and from
~1,250 to 580 on SQLite. At full load a full collection still runs about once a minute, for
the rare cycle (an exception's traceback) that only it frees."""


async def _freeze_startup_heap(app: web.Application) -> None:
    """Move everything alive once the app has started (modules, the shop and its catalog,
    pydantic's validators, aiohttp's router, the workers) into the collector's permanent
    generation. It lives as long as the process, yet each full collection walked all of it,
    and every message allocates enough (models, events, JSON) for collections to run often;
    with a backlog they did, far more. Frozen objects are never scanned nor freed."""
    gc.collect()  # start-up's own garbage is freed first, not kept for good
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    log.info("start-up objects frozen out of garbage collection", objects=gc.get_freeze_count())


def _announce_sandbox(settings: Settings) -> None:
    log.warning(
        "SANDBOX MODE: no WhatsApp or payment credentials are set, so WhatsApp and "
        f"{settings.provider.value.capitalize()} are simulated in this process. Nothing is sent "
        "to Meta and no money moves.",
        open=f"http://localhost:{settings.port}/sandbox",
    )
    print(
        f"\n  Sandbox shop ready: open http://localhost:{settings.port}/sandbox\n",
        file=sys.stderr,
        flush=True,
    )


def _warn_sandbox_on_platform(settings: Settings, platform: HostingPlatform) -> None:
    """BOT_MODE=sandbox on a public host: allowed, since someone asked for it, but loudly."""
    reach = (
        f"It listens on {LOOPBACK} only, where {platform.name}'s router cannot reach it: "
        "set HOST=0.0.0.0 to publish it."
        if settings.host == LOOPBACK
        else f"It listens on {settings.host}."
    )
    warning = (
        f"SANDBOX MODE ON {platform.name.upper()}: BOT_MODE=sandbox runs the demo shop on a "
        "public host. Anyone who reaches it can read every sandbox order at /sandbox/orders "
        "and sign payment webhooks with the sandbox's published secrets. "
        f"{reach} For the live shop, set BOT_MODE=live and the credentials."
    )
    log.warning(warning, platform=platform.name)
    print(f"\n  WARNING: {warning}\n", file=sys.stderr, flush=True)


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it installs (Linux, macOS): the same asyncio API, a faster loop and
    transports (see BENCHMARKS.md); the standard loop elsewhere."""
    try:
        import uvloop
    except ImportError:  # e.g. Windows, where uvloop does not build
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _safe_url(url: str) -> str:
    """Drop a password from a database URL before it reaches a log line."""
    if "@" not in url:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rpartition('@')[2]}"


def _copy_db(source: str, target: str) -> int:
    try:
        report = asyncio.run(copy_database(source, target))
    except (DatabaseUrlError, CopyRefusedError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ENV
    except StorageUnavailableError as error:
        print(f"error: the database cannot be reached: {error}", file=sys.stderr)
        return EXIT_DATABASE
    print(f"Copied {_safe_url(source)} to {_safe_url(target)}; rows in both:")
    for table, count in report.rows.items():
        print(f"  {table:<22}{count:>9}")
    print("Point DATABASE_URL at the new database and restart the bot.")
    return 0


def _list_set_aside(settings: Settings) -> int:
    async def listing() -> list[DeadLetter]:
        store = await open_store(settings.database_url)
        try:
            return await store.dead_letters(limit=1000)
        finally:
            await store.close()

    try:
        items = asyncio.run(listing())
    except StorageUnavailableError as error:
        print(f"error: the database cannot be reached: {error}", file=sys.stderr)
        return EXIT_DATABASE
    if not items:
        print("Nothing is set aside.")
        return 0
    print(f"{len(items)} stored item(s) could not be handled and were set aside:")
    for item in items:
        when = datetime.fromtimestamp(item.at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        print(f"  {when}  {item.lane.value} #{item.id}  ({item.key})  {item.reason}")
    return 0
