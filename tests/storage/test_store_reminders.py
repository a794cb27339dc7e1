"""The reminders table through the Store API, on both backends: planning moves a slot's pending
reminder, any cancel clears them, firing queues one event per reminder once, and the facts a
step needs (the window, the customer's stop, the cap) load with the conversation."""

import asyncio
from collections.abc import Sequence

from flows.events import ReminderDue
from flows.messages import SendText
from flows.reminders import (
    CancelReminders,
    ReminderChange,
    ReminderFacts,
    ReminderOutcome,
    ReminderSlot,
    ScheduleReminder,
    SetReminders,
    StoppedBy,
)
from flows.state import Conversation, Customer
from storage import open_store
from storage.repository import Reminder, Store
from tests.storage.store_support import NOW, Shop

ASHA = Shop.customer(1)


async def change(shop: Shop, customer: Customer, *changes: ReminderChange, now: int = NOW) -> None:
    """A step with no message from the customer (a job's outcome) that changes reminders."""
    event_id = await shop.record(shop.text(customer), now)
    await shop.store.commit_step(
        event_id=event_id,
        customer=customer,
        conversation=Conversation(),
        messages=(),
        effects=(),
        now=now,
        reminders=changes,
    )


def plan(slot: ReminderSlot, due_at: int, order_id: str | None = "ord_1") -> ScheduleReminder:
    return ScheduleReminder(slot=slot, due_at=due_at, order_id=order_id)


def rows(found: Sequence[Reminder]) -> list[tuple[str, str, int]]:
    return [(r.slot.value, r.status, r.due_at) for r in found]


async def test_planning_a_slot_again_moves_its_pending_reminder(store: Store, shop: Shop) -> None:
    await change(shop, ASHA, plan(ReminderSlot.PAYMENT_FIRST, NOW + 100))
    await change(shop, ASHA, plan(ReminderSlot.PAYMENT_FIRST, NOW + 200, "ord_2"))
    await change(shop, ASHA, plan(ReminderSlot.PAYMENT_SECOND, NOW + 300))
    found = await store.customer_reminders(ASHA.key)
    assert rows(found) == [
        ("payment_first", "pending", NOW + 200),
        ("payment_second", "pending", NOW + 300),
    ]
    assert found[0].order_id == "ord_2"
    assert await store.next_reminder_due() == NOW + 200
    assert (await store.load_snapshot(ASHA.key, None)).reminders.pending == 2


async def test_a_cancel_clears_every_pending_reminder_with_its_reason(
    store: Store, shop: Shop
) -> None:
    await change(shop, ASHA, plan(ReminderSlot.PAYMENT_FIRST, NOW + 100))
    await change(shop, ASHA, plan(ReminderSlot.CART, NOW + 100, None))
    await change(shop, ASHA, CancelReminders(reason="the customer wrote"))
    found = await store.customer_reminders(ASHA.key)
    assert {(r.status, r.note) for r in found} == {("cancelled", "the customer wrote")}
    assert await store.fire_due_reminders(NOW + 1000) == []
    assert await store.next_reminder_due() is None


async def test_a_due_reminder_fires_once_as_an_event_in_the_customers_lane(
    store: Store, shop: Shop
) -> None:
    await change(shop, ASHA, plan(ReminderSlot.PAYMENT_FIRST, NOW + 100))
    assert await store.fire_due_reminders(NOW + 99) == []
    [event_id] = await store.fire_due_reminders(NOW + 100)
    assert await store.fire_due_reminders(NOW + 200) == []
    stored = await store.get_event(event_id)
    assert stored is not None
    assert stored.customer_key == ASHA.key
    assert stored.order_id == "ord_1"
    [reminder] = await store.customer_reminders(ASHA.key)
    assert stored.event == ReminderDue(
        reminder_id=reminder.id, slot=ReminderSlot.PAYMENT_FIRST, order_id="ord_1"
    )
    assert (reminder.status, reminder.fired_at) == ("fired", NOW + 100)
    # A reminder event is not the customer writing: the window does not move.
    snapshot = await store.load_snapshot(ASHA.key, None)
    assert snapshot.reminders.last_inbound_at == NOW


async def test_the_facts_count_reminders_sent_since_the_customer_last_wrote(
    store: Store, shop: Shop
) -> None:
    await change(shop, ASHA, plan(ReminderSlot.PAYMENT_FIRST, NOW + 100))
    [event_id] = await store.fire_due_reminders(NOW + 100)
    [reminder] = await store.customer_reminders(ASHA.key)
    await store.commit_step(
        event_id=event_id,
        customer=ASHA,
        conversation=Conversation(),
        messages=(SendText(body="⏰"),),
        effects=(),
        now=NOW + 100,
        reminders=(ReminderOutcome(reminder_id=reminder.id, sent=True, note="the link again"),),
    )
    facts = (await store.load_snapshot(ASHA.key, None)).reminders
    assert facts == ReminderFacts(
        last_inbound_at=NOW, stopped_by=None, sent_since_inbound=1, pending=0
    )

    await shop.step(ASHA, now=NOW + 500)  # she writes: the count starts again
    assert (await store.load_snapshot(ASHA.key, None)).reminders.sent_since_inbound == 0


async def test_stop_and_start_are_kept_with_the_customer(store: Store, shop: Shop) -> None:
    await change(shop, ASHA, SetReminders(stopped_by=StoppedBy.MARKETING_OPT_OUT))
    facts = (await store.load_snapshot(ASHA.key, None)).reminders
    assert facts.stopped_by is StoppedBy.MARKETING_OPT_OUT
    await change(shop, ASHA, SetReminders(stopped_by=None))
    assert (await store.load_snapshot(ASHA.key, None)).reminders.stopped_by is None


async def test_reminders_due_together_fire_as_one_the_latest(store: Store, shop: Shop) -> None:
    await change(shop, ASHA, plan(ReminderSlot.PAYMENT_FIRST, NOW + 100))
    await change(shop, ASHA, plan(ReminderSlot.PAYMENT_SECOND, NOW + 200))
    [event_id] = await store.fire_due_reminders(NOW + 10_000)
    stored = await store.get_event(event_id)
    assert stored is not None
    assert isinstance(stored.event, ReminderDue)
    assert stored.event.slot is ReminderSlot.PAYMENT_SECOND
    statuses = {r.slot.value: r.status for r in await store.customer_reminders(ASHA.key)}
    assert statuses == {"payment_first": "skipped", "payment_second": "fired"}


async def test_two_stores_on_one_database_fire_a_reminder_once(
    database_url: str, store: Store, shop: Shop
) -> None:
    customers = [Shop.customer(n) for n in range(1, 21)]
    for customer in customers:
        await change(shop, customer, plan(ReminderSlot.PAYMENT_FIRST, NOW + 100))
    other = await open_store(database_url)
    try:
        fired = await asyncio.gather(
            *(s.fire_due_reminders(NOW + 100) for s in (store, other, store, other))
        )
    finally:
        await other.close()
    event_ids = [event_id for batch in fired for event_id in batch]
    assert len(event_ids) == len(set(event_ids)) == len(customers)
