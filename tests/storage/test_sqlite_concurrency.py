"""Many steps at once: group commit batches them, and savepoints keep one bad step from
spoiling the others in its batch."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flows.effects import PlaceOrder
from flows.messages import SendText
from flows.state import CartLine, Conversation
from storage import StoreClosedError
from storage.errors import ConstraintViolationError
from storage.repository import StepResult
from storage.sqlite import SqliteStore
from tests.storage.store_support import NOW, Shop


@pytest.fixture
async def store(db_url: str, db_path: Path) -> AsyncIterator[SqliteStore]:
    """Group commit is SQLite's: these tests run on a SQLite store only."""
    from storage import migrate

    await migrate(db_url)
    store = await SqliteStore.open(db_path)
    yield store
    await store.close()


async def test_200_concurrent_steps_for_50_customers(shop: Shop, store: SqliteStore) -> None:
    customers = [shop.customer(n) for n in range(50)]
    await shop.place_order(customers[0], "ord_taken")
    events = [shop.text(customers[i % 50], f"msg {i}") for i in range(200)]
    event_ids = await asyncio.gather(*(shop.record(e) for e in events))
    doomed = set(event_ids[::40])  # five steps try to place an order id that exists
    before = store.write_stats

    async def step(i: int, event_id: int) -> StepResult:
        c = customers[i % 50]
        effects = [PlaceOrder(order=shop.order("ord_taken", c.key))] if event_id in doomed else []
        return await store.commit_step(
            event_id=event_id,
            customer=c,
            conversation=Conversation(cart=(CartLine(product_id="tea", quantity=i + 1),)),
            messages=[SendText(body=f"reply {i}")],
            effects=effects,
            now=NOW,
        )

    results = await asyncio.gather(
        *(step(i, event_id) for i, event_id in enumerate(event_ids)), return_exceptions=True
    )

    failed = {eid for eid, r in zip(event_ids, results, strict=True) if isinstance(r, Exception)}
    assert failed == doomed
    assert all(isinstance(results[i], ConstraintViolationError) for i in range(0, 200, 40))
    assert {e.id for e in await store.unprocessed_events()} == doomed
    bodies = {
        m.message.body for m in await store.pending_outbox() if isinstance(m.message, SendText)
    }
    assert bodies == {"Hello!"} | {f"reply {i}" for i in range(200) if event_ids[i] not in doomed}
    for n, c in enumerate(customers):
        snapshot = await store.load_snapshot(c.key, None)
        # Steps commit in submission order, so each customer keeps its last successful step.
        last = max(i for i in range(n, 200, 50) if event_ids[i] not in doomed)
        assert snapshot.conversation.cart[0].quantity == last + 1
    stats = store.write_stats
    assert stats.units - before.units == 200
    assert stats.failed_units - before.failed_units == 5
    assert stats.batches - before.batches < 200  # grouped: far fewer commits than steps


async def test_batches_respect_max_batch(tmp_path: Path, db_path: Path, db_url: str) -> None:
    from storage import migrate

    await migrate(db_url)
    store = await SqliteStore.open(db_path, max_batch=16, readers=1)
    shop = Shop(store)
    await asyncio.gather(*(shop.record(shop.text(shop.customer(1))) for _ in range(64)))
    assert store.write_stats.units == 64
    assert store.write_stats.batches >= 4
    await store.close()


async def test_close_drains_pending_writes(shop: Shop, store: SqliteStore) -> None:
    c = shop.customer(1)
    tasks = [asyncio.create_task(shop.record(shop.text(c))) for _ in range(50)]
    await asyncio.sleep(0)  # let every task submit its write
    await store.close()
    ids = [task.result() for task in tasks]
    assert len(set(ids)) == 50
    with pytest.raises(StoreClosedError):
        await store.record_events([shop.text(c)], NOW)
    with pytest.raises(StoreClosedError):
        await store.ping()
