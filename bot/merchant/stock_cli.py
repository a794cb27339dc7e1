"""`python -m bot stock list|set ID N|add ID N`: the shop's stock from a terminal, through
the service (`bot.merchant.stock`) the dashboard and the owner's WhatsApp command use."""

import argparse
import asyncio
import getpass
import sys

from bot.clock import system_clock
from bot.merchant.stock import MerchantStock
from bot.settings import Settings
from flows.catalog import ShopConfig
from storage.backends import open_store

EXIT_REFUSED = 4  # no such product, not counted, or a count that would go below zero


def add_stock_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    stock = commands.add_parser("stock", help="list and change the stock of counted products")
    actions = stock.add_subparsers(dest="stock_command", required=True)
    actions.add_parser("list", help="what is counted, held and left")
    set_ = actions.add_parser("set", help="the shop has N of a product")
    set_.add_argument("product_id")
    set_.add_argument("count", type=int)
    add = actions.add_parser("add", help="N more of a product (negative: fewer)")
    add.add_argument("product_id")
    add.add_argument("count", type=int)


def run_stock(args: argparse.Namespace, settings: Settings, shop: ShopConfig) -> int:
    return asyncio.run(_run(args, settings, shop))


async def _run(args: argparse.Namespace, settings: Settings, shop: ShopConfig) -> int:
    store = await open_store(settings.database_url, postgres=settings.postgres_options())
    try:
        stock = MerchantStock(store=store, shop=shop, clock=system_clock)
        by = f"cli:{getpass.getuser()}"
        match args.stock_command:
            case "list":
                items = await stock.list()
                if not items:
                    print("no product has its stock counted (add `stock = N` in config.toml)")
                for item in items:
                    level = item.level
                    state = "SOLD OUT" if item.sold_out else f"{level.available} for sale"
                    print(
                        f"{item.product.id:<24} {level.on_hand:>8} in stock {level.held:>6} held"
                        f"  {state}"
                    )
                return 0
            case "set":
                change = await stock.set(args.product_id, args.count, by=by)
            case "add":
                change = await stock.add(args.product_id, args.count, by=by)
            case _:
                raise AssertionError(args.stock_command)  # argparse allows only the above
    finally:
        await store.close()
    if not change.done:
        print(f"error: {change.message}", file=sys.stderr)
        return EXIT_REFUSED
    print(change.message)
    return 0
