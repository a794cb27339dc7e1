"""Group commit on Postgres: many customers' writes share a transaction, and one failing write
fails alone — the others in its transaction are saved."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from flows.effects import PlaceOrder
from flows.messages import SendText
from flows.state import Conversation, Customer
from storage import UnknownEventError, open_store
from storage.errors import ConstraintViolationError
from storage.postgres import PostgresStore
from tests.storage.store_support import NOW, Shop


@pytest.fixture
async def pg_store(postgres_url: str) -> AsyncIterator[PostgresStore]:
    store = await open_store(postgres_url)
    assert isinstance(store, PostgresStore)
    yield store
    await store.close()


async def test_forty_customers_steps_share_transactions(pg_store: PostgresStore) -> None:
    shop = Shop(pg_store)
    customers = [shop.customer(n) for n in range(40)]
    event_ids = [await shop.record(shop.text(c)) for c in customers]
    before = pg_store.write_stats.batches

    results = await asyncio.gather(
        *(shop.step(c, event_id=e) for c, e in zip(customers, event_ids, strict=True))
    )

    assert all(len(result.outbox_ids) == 1 for result in results)
    assert pg_store.write_stats.batches - before < 40  # several steps per transaction
    for customer in customers:
        assert len(await pg_store.pending_outbox(customer.key)) == 1


async def test_a_failing_step_fails_alone_and_its_neighbours_are_saved(
    pg_store: PostgresStore,
) -> None:
    shop = Shop(pg_store)
    asha, ravi, meera = shop.customer(1), shop.customer(2), shop.customer(3)
    await shop.place_order(asha, "ord_1")
    asha_again = await shop.record(shop.text(asha))
    ravi_hi, meera_hi = await shop.record(shop.text(ravi)), await shop.record(shop.text(meera))

    outcomes = await asyncio.gather(
        shop.step(ravi, event_id=ravi_hi),
        # The same order id placed twice: a constraint violation, in the same transaction.
        shop.step(
            asha, event_id=asha_again, effects=[PlaceOrder(order=shop.order("ord_1", asha.key))]
        ),
        shop.step(asha, event_id=999_999),  # never recorded
        shop.step(meera, event_id=meera_hi),
        return_exceptions=True,
    )

    assert isinstance(outcomes[1], ConstraintViolationError)
    assert isinstance(outcomes[2], UnknownEventError)
    assert [len(await pg_store.pending_outbox(c.key)) for c in (ravi, meera)] == [1, 1]
    # Asha's failed step left no trace: her event is still waiting to be handled.
    assert [e.id for e in await pg_store.unprocessed_events(asha.key)] == [asha_again]
    assert pg_store.write_stats.reruns >= 1


async def test_writes_submitted_at_close_are_finished(pg_store: PostgresStore) -> None:
    shop = Shop(pg_store)
    customers = [shop.customer(n) for n in range(10)]
    writes = [asyncio.ensure_future(shop.record(shop.text(c))) for c in customers]
    await asyncio.sleep(0)
    await pg_store.close()
    assert len({await write for write in writes}) == 10


async def test_customers_messages_arriving_together_are_recorded_and_answered_in_one_statement(
    pg_store: PostgresStore,
) -> None:
    shop = Shop(pg_store)
    customers = [shop.customer(n) for n in range(30)]
    hellos = [shop.text(c, f"hi from {n}", wamid=f"wamid.{n}") for n, c in enumerate(customers)]
    already_here = hellos[7]  # recorded before: Meta delivering it again
    assert await pg_store.record_and_step(already_here, **answer(customers[7], 1)) is not None
    before = pg_store.write_stats.merged

    results = await asyncio.gather(
        *(
            pg_store.record_and_step(hello, **answer(c, 1 + n % 3))
            for n, (c, hello) in enumerate(zip(customers, hellos, strict=True))
        )
    )

    assert pg_store.write_stats.merged - before > 1  # several in one statement
    assert results[7] is None  # a redelivery changes nothing
    for n, (customer, result) in enumerate(zip(customers, results, strict=True)):
        queued = await pg_store.pending_outbox(customer.key)
        if n == 7:
            assert [m.message for m in queued] == [SendText(body="reply 1 of 1")]
            continue
        assert result is not None
        replies = [SendText(body=f"reply {k} of {1 + n % 3}") for k in range(1, 2 + n % 3)]
        assert [m.message for m in queued] == replies  # each their own, in order
        assert [m.id for m in queued] == list(result.outbox_ids)
        snapshot = await pg_store.load_snapshot(customer.key, None)
        assert snapshot.conversation == Conversation(address=f"{customer.key} street")
    assert await pg_store.unprocessed_events() == []


async def test_the_same_customer_twice_in_one_statement_runs_each_alone(
    pg_store: PostgresStore,
) -> None:
    shop = Shop(pg_store)
    asha = shop.customer(1)
    first, second = shop.text(asha, "hi"), shop.text(asha, "menu")
    reruns = pg_store.write_stats.reruns

    results = await asyncio.gather(
        pg_store.record_and_step(first, **answer(asha, 1)),
        pg_store.record_and_step(second, **answer(asha, 2)),
    )

    assert all(result is not None for result in results)
    assert pg_store.write_stats.reruns - reruns == 1  # together they failed; alone, saved
    assert len(await pg_store.pending_outbox(asha.key)) == 3


def answer(customer: Customer, replies: int) -> dict[str, Any]:
    return {
        "customer": customer,
        "conversation": Conversation(address=f"{customer.key} street"),
        "messages": [SendText(body=f"reply {k} of {replies}") for k in range(1, replies + 1)],
        "effects": [],
        "now": NOW,
    }
