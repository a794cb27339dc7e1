"""What a restart must find again, and the outbox and job queues."""

import asyncio
from pathlib import Path

from flows.effects import CreatePaymentLink, PlaceOrder
from flows.events import PaymentLinkCreated
from flows.messages import SendText
from storage import open_store
from storage.repository import NewEvent, Store
from tests.storage.store_support import NOW, Shop


def _link_created(job_id: int) -> NewEvent:
    event = PaymentLinkCreated(
        order_id="ord_1", link_id="plink_1", url="https://rzp.io/i/x", expires_at=NOW + 900
    )
    return NewEvent(
        source="job", dedupe_key=f"job:{job_id}", raw="{}", event=event, order_id="ord_1"
    )


async def _order_with_job(shop: Shop) -> int:
    c = shop.customer(1)
    order = shop.order("ord_1", c.key)
    create = CreatePaymentLink(order_id="ord_1", expire_by=NOW + 900)
    result = await shop.step(c, effects=[PlaceOrder(order=order), create])
    (job_id,) = result.job_ids
    return job_id


async def test_queues_survive_close_and_reopen(shop: Shop, store: Store, database_url: str) -> None:
    job_id = await _order_with_job(shop)
    waiting = await shop.record(shop.text(shop.customer(2), "still waiting"))
    outbox = await store.pending_outbox()
    await store.close()

    reopened = await open_store(database_url)
    try:
        assert [e.id for e in await reopened.unprocessed_events()] == [waiting]
        assert await reopened.pending_outbox() == outbox
        assert [j.id for j in await reopened.pending_jobs()] == [job_id]
        assert await reopened.get_order("ord_1") is not None
    finally:
        await reopened.close()


async def test_finish_job_records_outcome_once(shop: Shop, store: Store) -> None:
    job_id = await _order_with_job(shop)
    job = await store.get_job(job_id)
    assert job is not None
    assert job.attempts == 0

    event_id = await store.finish_job(job_id, _link_created(job_id), NOW + 1)
    again = await store.finish_job(job_id, _link_created(job_id), NOW + 2)

    assert event_id is not None
    assert again is None
    assert await store.pending_jobs() == []
    assert await store.get_job(job_id) is None
    (stored,) = await store.unprocessed_events()
    assert stored.id == event_id
    assert stored.customer_key == "CC.user1"  # from the order the outcome names
    assert stored.event == _link_created(job_id).event


async def test_finish_job_without_outcome_or_with_duplicate(shop: Shop, store: Store) -> None:
    job_id = await _order_with_job(shop)
    await shop.record(_link_created(job_id))  # e.g. a retry already fed the outcome back
    assert await store.finish_job(job_id, _link_created(job_id), NOW) is None
    assert await store.pending_jobs() == []
    assert await store.finish_job(job_id + 1, None, NOW) is None  # unknown job: nothing


async def test_outbox_lifecycle(shop: Shop, store: Store) -> None:
    c = shop.customer(1)
    result = await shop.step(c, messages=[SendText(body="one"), SendText(body="two")])
    first, second = result.outbox_ids

    await store.record_attempt(first, "HTTP 503")
    await store.record_attempt(first, "timeout")
    pending = await store.get_outbox(first)
    assert pending is not None
    assert pending.attempts == 2
    await store.mark_sent(first, "wamid.out1", NOW)
    await store.mark_failed(second, "131047: re-engagement window closed", NOW)

    assert await store.pending_outbox() == []
    assert await store.get_outbox(first) is None
    assert await store.get_outbox(second) is None
    await store.record_attempt(second, "late")  # finished messages stay finished
    await store.mark_sent(second, "wamid.late", NOW)
    assert await store.pending_outbox() == []


async def test_pending_outbox_is_oldest_first(shop: Shop, store: Store) -> None:
    ids: list[int] = []
    for n in range(3):
        ids.extend((await shop.step(shop.customer(n))).outbox_ids)
    assert [m.id for m in await store.pending_outbox()] == sorted(ids)


async def test_ping(store: Store, tmp_path: Path) -> None:
    await store.ping()


async def test_messages_marked_sent_at_once_are_each_marked(shop: Shop, store: Store) -> None:
    ids: list[int] = []
    for n in range(40):
        ids.extend((await shop.step(shop.customer(n))).outbox_ids)
    sent, unsent = ids[::2], ids[1::2]

    # Forty senders finishing together: their marks share writes, each marks only its own.
    await asyncio.gather(*(store.mark_sent(i, f"wamid.{i}", NOW) for i in sent))

    assert [m.id for m in await store.pending_outbox()] == unsent
    await asyncio.gather(*(store.mark_sent(i, "wamid.again", NOW) for i in sent + unsent))
    assert await store.pending_outbox() == []
