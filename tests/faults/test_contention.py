"""50 customers check out at the same moment, each twice in a row, while another process keeps
taking the database's write lock: no order is lost, nobody is charged twice (one payment link
per order; an unchanged cart reuses it), and "database is locked" never reaches a customer."""

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.payloads import catalog_order
from bot import keys
from flows.catalog import ShopConfig
from flows.orders import OrderStatus
from tests.faults.support import (
    ADDRESS,
    confirmations,
    each,
    row_counts,
    summaries,
)
from tests.support.harness import button_ids, running_shop, text_of

CUSTOMERS = 50


@contextmanager
def another_writer(database: Path, hold_seconds: float = 0.02) -> Iterator[list[int]]:
    """A second process-like writer (its own connection and thread) that keeps taking the
    write lock for `hold_seconds` at a time, like an admin script or a backup would."""
    stop = threading.Event()
    commits = [0]
    conn = sqlite3.connect(database, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("CREATE TABLE IF NOT EXISTS contention_probe (at REAL)")

    def hog() -> None:
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO contention_probe VALUES (?)", (time.time(),))
            time.sleep(hold_seconds)
            conn.execute("COMMIT")
            commits[0] += 1
            time.sleep(0.005)

    thread = threading.Thread(target=hog, daemon=True)
    thread.start()
    try:
        yield commits
    finally:
        stop.set()
        thread.join(timeout=10)
        conn.close()


async def test_fifty_concurrent_double_checkouts_lose_nothing_and_charge_once(
    tmp_path: Path, shop_config: ShopConfig
) -> None:
    # SQLite's write lock is what this competes for: a SQLite-only test.
    database = tmp_path / "shop.sqlite3"
    async with running_shop(f"sqlite:///{database}", shop_config) as shop:
        phones = [f"91983000{i:04d}" for i in range(CUSTOMERS)]
        order = catalog_order([("masala-chai-250", 1), ("kulhad-set-6", 2)])
        with another_writer(database) as commits:
            # First checkout: the catalog cart, then the address; all 50 at once.
            await each(phones, lambda phone: shop.send(phone, order))
            await shop.settle()
            await each(phones, lambda phone: shop.say(phone, ADDRESS))
            await shop.settle()
            # Second checkout straight away, cart unchanged: type "checkout", keep the address.
            await each(phones, lambda phone: shop.say(phone, "checkout"))
            await shop.settle()
            use_saved = {
                phone: next(
                    ident
                    for title, ident in button_ids(shop.last_reply(phone)).items()
                    if "use" in title.lower()
                )
                for phone in phones
            }
            await each(phones, lambda phone: shop.tap(phone, use_saved[phone]))
            await shop.settle()
        assert commits[0] > 0  # the other writer really competed for the lock

        links = shop.razorpay.created
        by_reference = {link["reference_id"]: link for link in links}
        assert len(links) == len(by_reference) == CUSTOMERS  # one link per order, no more
        for phone in phones:
            first, second = summaries(shop, phone)
            assert first == second, "an unchanged cart must reuse its order and link"
            assert first in by_reference
        counts = row_counts(database)
        assert counts["orders"] == CUSTOMERS
        assert counts["events"] == CUSTOMERS * 4 + CUSTOMERS  # 4 messages + 1 link each

        # Everyone pays once; each order is confirmed exactly once.
        for link in links:
            response = await shop.post_razorpay(shop.razorpay.paid_webhook(link["id"]))
            assert response.status == 200
        await shop.settle()
        store = shop.app[keys.STORE]
        for phone in phones:
            assert confirmations(shop, phone) == 1
            order_id = summaries(shop, phone)[0]
            paid = await store.get_order(order_id)
            assert paid is not None
            assert paid.status is OrderStatus.PAID

        every_reply = [text_of(m) for phone in phones for m in shop.replies(phone)]
        assert not [t for t in every_reply if "locked" in t.lower() or "sorry" in t.lower()]
        assert store.write_stats.failed_batches == 0  # type: ignore[attr-defined]
