"""Merchant alerts in storage: queued in the step that paid the order, once per channel,
delivered or retried by their own schedule, listed per order, and sent again on request."""

import json

from flows.effects import SetOrderStatus
from flows.orders import OrderStatus
from storage.repository import AlertStatus, Lane, Store
from tests.storage.store_support import NOW, Shop

CHANNELS = ("webhook", "email", "telegram", "whatsapp")


def _paid(at: int = NOW + 60) -> SetOrderStatus:
    return SetOrderStatus(
        order_id="ord_1", status=OrderStatus.PAID, at=at, payment_id="pay_1", reason="paid"
    )


async def test_the_step_that_pays_queues_one_delivery_per_channel(shop: Shop, store: Store) -> None:
    asha = shop.customer(1)
    await shop.place_order(asha, "ord_1")

    result = await shop.step(asha, effects=[_paid()], alert_channels=CHANNELS, now=NOW + 60)

    alerts = await store.order_alerts("ord_1")
    assert [a.channel for a in alerts] == list(CHANNELS)
    assert result.alert_ids == tuple(a.id for a in alerts)
    assert {a.status for a in alerts} == {AlertStatus.PENDING}
    assert len({a.webhook_id for a in alerts}) == 1
    body = json.loads(alerts[0].body)
    assert body["type"] == "order.paid"
    assert body["timestamp"] == "2023-11-14T22:14:20Z"
    assert body["data"]["order_id"] == "ord_1"
    assert body["data"]["payment_status"] == "paid"
    assert body["data"]["fulfilment_status"] == "unfulfilled"
    assert body["data"]["total"] == 50_000
    assert body["data"]["items"] == [
        {"product_id": "tea", "name": "Masala tea", "quantity": 2, "unit_price": 25_000}
    ]
    assert body["data"]["customer"] == {
        "name": "Asha",
        "phone": asha.phone,
        "user_id": asha.user_id,
    }
    assert body["data"]["payment"]["payment_id"] == "pay_1"
    assert [a.channel for a in await store.due_alerts(None, NOW + 60)] == list(CHANNELS)


async def test_a_second_payment_for_a_paid_order_tells_nobody_again(
    shop: Shop, store: Store
) -> None:
    asha = shop.customer(1)
    await shop.place_order(asha, "ord_1")
    await shop.step(asha, effects=[_paid()], alert_channels=CHANNELS)

    again = await shop.step(asha, effects=[_paid(NOW + 90)], alert_channels=CHANNELS)

    assert again.alert_ids == ()
    assert len(await store.order_alerts("ord_1")) == len(CHANNELS)


async def test_without_channels_nothing_is_queued(shop: Shop, store: Store) -> None:
    asha = shop.customer(1)
    await shop.place_order(asha, "ord_1")
    await shop.step(asha, effects=[_paid()])
    assert await store.order_alerts("ord_1") == []


async def test_a_retry_waits_for_its_time_and_delivery_ends_it(shop: Shop, store: Store) -> None:
    asha = shop.customer(1)
    await shop.place_order(asha, "ord_1")
    (alert_id,) = (await shop.step(asha, effects=[_paid()], alert_channels=["webhook"])).alert_ids

    await store.record_alert_attempt(alert_id, AlertStatus.PENDING, "HTTP 503", NOW + 300, NOW)

    assert await store.due_alerts("webhook", NOW + 299) == []
    assert await store.next_alert_due() == NOW + 300
    assert await store.pending_keys(Lane.ALERTS, NOW + 301) == ["webhook"]
    (due,) = await store.due_alerts("webhook", NOW + 300)
    assert (due.attempts, due.last_error) == (1, "HTTP 503")

    await store.record_alert_attempt(alert_id, AlertStatus.DELIVERED, None, NOW + 300, NOW + 300)
    (done,) = await store.order_alerts("ord_1")
    assert (done.status, done.attempts, done.delivered_at) == (AlertStatus.DELIVERED, 2, NOW + 300)
    assert await store.next_alert_due() is None


async def test_send_again_keeps_the_body_and_webhook_id(shop: Shop, store: Store) -> None:
    asha = shop.customer(1)
    await shop.place_order(asha, "ord_1")
    (alert_id,) = (await shop.step(asha, effects=[_paid()], alert_channels=["webhook"])).alert_ids
    (first,) = await store.order_alerts("ord_1")
    await store.record_alert_attempt(alert_id, AlertStatus.FAILED, "HTTP 410", NOW, NOW)

    again = await store.resend_alert(alert_id, NOW + 500)

    assert again is not None
    assert (again.status, again.attempts, again.next_attempt_at) == (
        AlertStatus.PENDING,
        0,
        NOW + 500,
    )
    assert (again.webhook_id, again.body) == (first.webhook_id, first.body)
    assert (first.resends, again.resends) == (0, 1)
    twice = await store.resend_alert(alert_id, NOW + 600)
    assert twice is not None
    assert twice.resends == 2
    assert await store.resend_alert(9999, NOW) is None


async def test_a_delivery_that_cannot_be_handled_is_set_aside(shop: Shop, store: Store) -> None:
    asha = shop.customer(1)
    await shop.place_order(asha, "ord_1")
    (alert_id,) = (await shop.step(asha, effects=[_paid()], alert_channels=["email"])).alert_ids

    await store.dead_letter(Lane.ALERTS, alert_id, "boom", NOW)

    (letter,) = await store.dead_letters()
    assert (letter.lane, letter.id, letter.key) == (Lane.ALERTS, alert_id, "email")
    assert await store.due_alerts(None, NOW + 10) == []


async def test_when_a_phone_last_wrote(shop: Shop, store: Store) -> None:
    owner = shop.customer(7)
    assert owner.phone is not None
    assert await store.last_message_from(owner.phone) is None
    for at in (NOW + 5, NOW + 50):
        event_id = await shop.record(shop.text(owner), now=at)
        await shop.step(owner, event_id=event_id, now=at)
    assert await store.last_message_from(owner.phone) == NOW + 50
