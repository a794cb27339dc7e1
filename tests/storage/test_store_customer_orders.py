"""A customer's own orders and language, on SQLite and Postgres (the `store` fixture runs each
test on both)."""

from flows.effects import SetLanguage, SetOrderStatus
from flows.orders import OrderStatus
from storage.repository import Store
from tests.storage.store_support import NOW, Shop


async def test_customer_orders_are_theirs_newest_first_and_bounded(
    shop: Shop, store: Store
) -> None:
    asha, rohan = shop.customer(1), shop.customer(2)
    for n in range(4):
        await shop.place_order(asha, f"ord_a{n}", created_at=NOW + n * 60)
    await shop.place_order(rohan, "ord_r0", created_at=NOW + 600)
    await shop.step(
        asha,
        effects=[SetOrderStatus(order_id="ord_a1", status=OrderStatus.PAID, at=NOW + 90)],
    )

    newest = await store.customer_orders(asha.key, 3)
    assert [o.id for o in newest] == ["ord_a3", "ord_a2", "ord_a1"]
    assert newest[2].status is OrderStatus.PAID
    assert [o.id for o in await store.customer_orders(rohan.key, 10)] == ["ord_r0"]
    assert await store.customer_orders("CC.nobody", 10) == []


async def test_the_snapshot_holds_recent_orders_only_when_asked(shop: Shop, store: Store) -> None:
    asha = shop.customer(1)
    first = await shop.place_order(asha, "ord_1", created_at=NOW)
    second = await shop.place_order(asha, "ord_2", created_at=NOW + 60)

    assert (await store.load_snapshot(asha.key, None)).recent_orders == ()
    snapshot = await store.load_snapshot(asha.key, None, 10)
    assert snapshot.recent_orders == (second, first)
    assert (await store.load_snapshot(asha.key, None, 1)).recent_orders == (second,)


async def test_a_chosen_language_is_saved_with_the_step_and_loaded(
    shop: Shop, store: Store
) -> None:
    asha, rohan = shop.customer(1), shop.customer(2)
    await shop.step(rohan)
    assert (await store.load_snapshot(asha.key, None)).language is None
    await shop.step(asha, effects=[SetLanguage(language="hi")])
    assert (await store.load_snapshot(asha.key, None)).language == "hi"
    assert (await store.load_snapshot(rohan.key, None)).language is None

    await shop.step(asha)  # a later step without the effect keeps it
    assert (await store.load_snapshot(asha.key, None)).language == "hi"
    await shop.step(asha, effects=[SetLanguage(language="en")])
    assert (await store.load_snapshot(asha.key, None)).language == "en"
