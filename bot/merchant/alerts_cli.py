"""`python -m bot alerts list [ORDER_ID]` and `python -m bot alerts resend ID`: what the
merchant was told about orders, and telling them again (the same body and webhook-id). The
running shop's timer delivers a resent alert within `TIMER_MAX_SECONDS`."""

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime

from bot.merchant.alerts import delivery_log, resend
from storage import open_store
from storage.errors import StorageUnavailableError
from storage.repository import MerchantAlert

EXIT_USAGE = 1
EXIT_DATABASE = 3
LISTED = 50


def add_alerts_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    alerts = commands.add_parser("alerts", help="what the merchant was told about orders")
    actions = alerts.add_subparsers(dest="alerts_action", required=True)
    listing = actions.add_parser("list", help=f"the last {LISTED} deliveries, or one order's")
    listing.add_argument("order_id", nargs="?", help="only this order's deliveries")
    again = actions.add_parser("resend", help="deliver one again (same body and webhook-id)")
    again.add_argument("alert_id", type=int)


def run_alerts_command(args: argparse.Namespace, database_url: str) -> int:
    try:
        if args.alerts_action == "resend":
            return asyncio.run(_resend(database_url, args.alert_id))
        return asyncio.run(_list(database_url, args.order_id))
    except StorageUnavailableError as error:
        print(f"error: the database cannot be reached: {error}", file=sys.stderr)
        return EXIT_DATABASE


async def _list(database_url: str, order_id: str | None) -> int:
    store = await open_store(database_url)
    try:
        if order_id is None:
            alerts = await store.recent_alerts(LISTED)
        else:
            alerts = await delivery_log(store, order_id)
    finally:
        await store.close()
    if not alerts:
        print("No merchant alerts yet." if order_id is None else f"No alerts about {order_id}.")
        return 0
    for alert in alerts:
        print(describe(alert))
    return 0


async def _resend(database_url: str, alert_id: int) -> int:
    store = await open_store(database_url)
    try:
        alert = await resend(store, alert_id, int(time.time()))
    finally:
        await store.close()
    if alert is None:
        print(f"error: no alert #{alert_id}", file=sys.stderr)
        return EXIT_USAGE
    print(f"Alert #{alert.id} ({alert.channel}, {alert.order_id}) queued again.")
    return 0


def describe(alert: MerchantAlert) -> str:
    when = datetime.fromtimestamp(alert.created_at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    line = (
        f"#{alert.id}  {when}  {alert.order_id}  {alert.event_type}  {alert.channel}  "
        f"{alert.status.value} after {alert.attempts} attempt(s)"
    )
    if alert.status.value == "pending" and alert.attempts:
        due = datetime.fromtimestamp(alert.next_attempt_at, UTC).strftime("%H:%M:%S UTC")
        line += f", next at {due}"
    if alert.last_error:
        line += f"  ({alert.last_error})"
    return line
