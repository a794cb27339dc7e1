"""Every status the merchant's actions reach tells the merchant too (order.shipped,
order.delivered, order.cancelled, order.refunded), queued in the action's own transaction,
once per channel, with the body as the order is after the change."""

import json

from flows.effects import SetOrderStatus
from flows.lifecycle import Verdict
from flows.notices import NoticeContext, Templates
from flows.orders import OrderStatus
from flows.texts import Texts
from storage.repository import (
    ActionKind,
    MerchantAction,
    MerchantAlert,
    RefundSettlement,
    Store,
)
from tests.storage.store_support import NOW, Shop

LATER = NOW + 3600
CHANNELS = ("webhook", "email")


def notices(last_inbound_at: int | None) -> NoticeContext:
    return NoticeContext(Texts(), Templates(), last_inbound_at, LATER)


def act(kind: ActionKind, **kw: object) -> MerchantAction:
    return MerchantAction(
        kind=kind,
        order_id="ord_1",
        by="owner:919800000001",
        at=LATER,
        notice_context=notices,
        alert_channels=CHANNELS,
        **kw,  # type: ignore[arg-type]
    )


async def paid_order(shop: Shop) -> None:
    c = shop.customer(1)
    await shop.place_order(c, "ord_1")
    paid = SetOrderStatus(order_id="ord_1", status=OrderStatus.PAID, payment_id="pay_1", at=NOW)
    await shop.step(c, effects=[paid], messages=[])


def bodies(alerts: list[MerchantAlert], event_type: str) -> list[dict[str, object]]:
    return [json.loads(a.body) for a in alerts if a.event_type == event_type]


async def test_shipping_tells_every_channel_once_with_the_tracking(
    shop: Shop, store: Store
) -> None:
    await paid_order(shop)

    shipped = await store.act_on_order(
        act(ActionKind.SHIP, courier="DTDC", tracking_number="AWB123")
    )
    again = await store.act_on_order(act(ActionKind.SHIP, courier="DTDC"))  # a double click

    alerts = [a for a in await store.order_alerts("ord_1") if a.event_type == "order.shipped"]
    assert [a.channel for a in alerts] == list(CHANNELS)
    assert shipped.alert_ids == tuple(a.id for a in alerts)
    assert again.verdict is Verdict.ALREADY
    assert again.alert_ids == ()
    assert len({a.webhook_id for a in alerts}) == 1
    body = json.loads(alerts[0].body)
    assert body["type"] == "order.shipped"
    data = body["data"]
    assert (data["payment_status"], data["fulfilment_status"]) == ("paid", "shipped")
    assert data["tracking"] == {"courier": "DTDC", "number": "AWB123"}
    assert data["total"] == 50_000


async def test_delivered_and_cancelled_each_tell_the_merchant(shop: Shop, store: Store) -> None:
    await paid_order(shop)
    c = shop.customer(2)
    await shop.place_order(c, "ord_2")  # unpaid

    await store.act_on_order(act(ActionKind.DELIVER))
    await store.act_on_order(
        MerchantAction(
            kind=ActionKind.CANCEL,
            order_id="ord_2",
            by="cli:asha",
            at=LATER,
            notice_context=notices,
            alert_channels=CHANNELS,
        )
    )

    (delivered, _) = bodies(await store.order_alerts("ord_1"), "order.delivered")
    assert delivered["data"]["fulfilment_status"] == "delivered"  # type: ignore[index]
    (cancelled, _) = bodies(await store.order_alerts("ord_2"), "order.cancelled")
    data = cancelled["data"]
    assert (data["payment_status"], data["fulfilment_status"]) == (  # type: ignore[index]
        "cancelled",
        "cancelled",
    )


async def test_each_processed_refund_is_its_own_event_and_a_failed_one_is_none(
    shop: Shop, store: Store
) -> None:
    await paid_order(shop)
    await store.act_on_order(act(ActionKind.REFUND, amount=20_000, request_key="form-1"))
    await store.act_on_order(act(ActionKind.REFUND, amount=10_000, request_key="form-2"))
    await store.act_on_order(act(ActionKind.REFUND, amount=5_000, request_key="form-3"))
    one, two, three = await store.refunds("ord_1")
    assert not bodies(await store.order_alerts("ord_1"), "order.refunded")  # asked, not done

    def settle(status: str, refund_id: int) -> RefundSettlement:
        return RefundSettlement(
            status=status,
            at=LATER,
            by="razorpay",
            notice_context=notices,
            refund_id=refund_id,
            alert_channels=CHANNELS,
        )

    first = await store.settle_refund(settle("processed", one.id))
    repeated = await store.settle_refund(settle("processed", one.id))
    await store.settle_refund(settle("processed", two.id))
    await store.settle_refund(settle("failed", three.id))

    assert len(first.alert_ids) == len(CHANNELS)
    assert repeated.alert_ids == ()
    refunded = bodies(await store.order_alerts("ord_1"), "order.refunded")
    amounts = [(b["data"]["refund"]["amount"], b["data"]["refunded_total"]) for b in refunded]  # type: ignore[index]
    assert amounts == [(20_000, 20_000)] * 2 + [(10_000, 30_000)] * 2
    first_ids = {a.webhook_id for a in await store.order_alerts("ord_1") if a.id in first.alert_ids}
    assert len(first_ids) == 1
    assert refunded[2]["data"]["payment_status"] == "partly_refunded"  # type: ignore[index]


async def test_without_channels_an_action_queues_no_alert(shop: Shop, store: Store) -> None:
    await paid_order(shop)
    plain = MerchantAction(
        kind=ActionKind.SHIP, order_id="ord_1", by="cli:asha", at=LATER, notice_context=notices
    )
    result = await store.act_on_order(plain)
    assert result.verdict is Verdict.DO
    assert result.alert_ids == ()
    assert await store.order_alerts("ord_1") == []
