from flows.events import TextReceived
from storage.repository import NewEvent, Store
from tests.storage.store_support import NOW, Shop


async def test_same_dedupe_key_twice_is_one_row(shop: Shop, store: Store) -> None:
    event = shop.text(shop.customer(1), wamid="wamid.A")
    first = await store.record_events([event], NOW)
    second = await store.record_events([event], NOW + 5)
    assert len(first) == 1
    assert second == []
    assert [e.id for e in await store.unprocessed_events()] == first


async def test_a_batch_returns_only_new_ids_in_order(shop: Shop, store: Store) -> None:
    c = shop.customer(1)
    (old,) = await store.record_events([shop.text(c, wamid="wamid.old")], NOW)
    batch = [shop.text(c, wamid="wamid.a"), shop.text(c, wamid="wamid.old")]
    batch.append(shop.text(c, wamid="wamid.b"))
    batch.append(shop.text(c, wamid="wamid.a"))  # a duplicate inside the same delivery
    new = await store.record_events(batch, NOW)
    assert len(new) == 2
    assert old < new[0] < new[1]


async def test_stored_event_round_trips(shop: Shop, store: Store) -> None:
    c = shop.customer(7)
    event_id = await shop.record(shop.text(c, "2 chai please", wamid="wamid.X"))
    stored = await store.get_event(event_id)
    assert stored is not None
    assert stored.source == "whatsapp"
    assert stored.customer == c
    assert stored.customer_key == c.key
    assert stored.event == TextReceived(message_id="wamid.X", text="2 chai please")
    assert stored.order_id is None
    assert stored.received_at == NOW
    assert await store.get_event(event_id + 100) is None


async def test_payment_event_takes_customer_from_its_order(shop: Shop, store: Store) -> None:
    c = shop.customer(3)
    await shop.place_order(c, "ord_1")
    event_id = await shop.record(shop.captured("ord_1"))
    stored = await store.get_event(event_id)
    assert stored is not None
    assert stored.customer is None
    assert stored.customer_key == c.key
    assert stored.order_id == "ord_1"


async def test_payment_event_for_unknown_order_has_no_customer(shop: Shop, store: Store) -> None:
    event_id = await shop.record(shop.captured("ord_nobody"))
    stored = await store.get_event(event_id)
    assert stored is not None
    assert stored.customer_key is None
    assert [e.id for e in await store.unprocessed_events()] == [event_id]


async def test_log_only_events_are_born_processed(store: Store) -> None:
    refund = NewEvent(
        source="razorpay", dedupe_key="razorpay:evt_refund", raw="{}", event=None, order_id="o"
    )
    (event_id,) = await store.record_events([refund], NOW)
    assert await store.unprocessed_events() == []
    stored = await store.get_event(event_id)
    assert stored is not None
    assert stored.event is None


async def test_mark_event_processed_is_once(shop: Shop, store: Store) -> None:
    first = await shop.record(shop.captured("ord_unknown"))
    second = await shop.record(shop.captured("ord_unknown"))
    await store.mark_event_processed(first, "unknown_order", NOW)
    await store.mark_event_processed(first, "something else", NOW + 1)  # no effect
    assert [e.id for e in await store.unprocessed_events()] == [second]
