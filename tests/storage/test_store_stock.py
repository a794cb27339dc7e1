"""Stock in storage, on both backends: the starting count is seeded once, the merchant's
changes, and holds taken in the placing transaction, exactly as many as there are units even
when many steps commit at once."""

import asyncio

import pytest

from flows.effects import PlaceOrder, SetOrderStatus
from flows.orders import OrderStatus
from flows.state import Conversation
from storage.errors import StockShortError, UnknownProductError
from storage.repository import Store
from tests.storage.store_support import NOW, Shop


async def levels(store: Store) -> dict[str, tuple[int, int]]:
    return {level.product_id: (level.on_hand, level.held) for level in await store.stock_levels()}


async def test_the_starting_count_is_seeded_once(store: Store) -> None:
    assert await store.seed_stock({"tea": 5, "kettle": 0}, NOW) == ["tea", "kettle"]
    await store.set_stock("tea", 9, "cli:owner", NOW + 1)
    assert await store.seed_stock({"tea": 50, "kettle": 0, "cups": 3}, NOW + 2) == ["cups"]
    assert await levels(store) == {"cups": (3, 0), "kettle": (0, 0), "tea": (9, 0)}
    [_, _, tea] = await store.stock_levels()
    assert (tea.updated_by, tea.updated_at, tea.available) == ("cli:owner", NOW + 1, 9)


async def test_adding_never_goes_below_zero(store: Store) -> None:
    await store.seed_stock({"tea": 2}, NOW)
    added = await store.add_stock("tea", 3, "cli:owner", NOW)
    assert added is not None
    assert (added.on_hand, added.available) == (5, 5)
    assert await store.add_stock("tea", -6, "cli:owner", NOW) is None
    assert await levels(store) == {"tea": (5, 0)}
    with pytest.raises(UnknownProductError):
        await store.add_stock("kettle", 1, "cli:owner", NOW)


async def test_a_short_hold_places_nothing_at_all(shop: Shop, store: Store) -> None:
    await store.seed_stock({"tea": 1}, NOW)  # the order wants two
    c = shop.customer(1)
    event_id = await shop.record(shop.text(c, "checkout"))
    with pytest.raises(StockShortError) as short:
        await store.commit_step(
            event_id=event_id,
            customer=c,
            conversation=Conversation(),
            messages=(),
            effects=(PlaceOrder(order=shop.order("ord_1", c.key), hold=("tea",)),),
            now=NOW,
        )
    assert short.value.product_ids == ("tea",)
    assert await store.get_order("ord_1") is None
    assert [event.id for event in await store.unprocessed_events()] == [event_id]
    assert await levels(store) == {"tea": (1, 0)}


async def test_holds_are_sold_or_released_once(shop: Shop, store: Store) -> None:
    await store.seed_stock({"tea": 5}, NOW)
    c = shop.customer(1)
    for order_id in ("ord_paid", "ord_gone"):
        await shop.step(c, effects=[PlaceOrder(order=shop.order(order_id, c.key), hold=("tea",))])
    assert await levels(store) == {"tea": (5, 4)}
    # Only the holds of its own open order count as the customer's.
    assert (await store.load_snapshot(c.key, None)).stock == {"tea": 1 + 2}
    assert (await store.load_snapshot(c.key, None, with_stock=False)).stock == {}

    for order_id, status in [("ord_paid", OrderStatus.PAID), ("ord_gone", OrderStatus.EXPIRED)]:
        for _ in range(2):  # the second is a replay: the order has moved on already
            effect = SetOrderStatus(order_id=order_id, status=status, at=NOW)
            await shop.step(c, effects=[effect])
    assert await levels(store) == {"tea": (3, 0)}


async def test_many_steps_at_once_hold_exactly_what_is_left(shop: Shop, store: Store) -> None:
    await store.seed_stock({"tea": 10}, NOW)  # five orders of two
    customers = [shop.customer(n) for n in range(12)]
    events = [await shop.record(shop.text(c, "checkout")) for c in customers]

    async def place(n: int) -> bool:
        c = customers[n]
        order = PlaceOrder(order=shop.order(f"ord_{n}", c.key), hold=("tea",))
        try:
            await store.commit_step(
                event_id=events[n],
                customer=c,
                conversation=Conversation(),
                messages=(),
                effects=(order,),
                now=NOW,
            )
        except StockShortError:
            return False
        return True

    placed = await asyncio.gather(*(place(n) for n in range(12)))
    assert sum(placed) == 5
    assert await levels(store) == {"tea": (10, 10)}
    orders = [await store.get_order(f"ord_{n}") for n in range(12)]
    assert [order is not None for order in orders] == list(placed)


async def test_a_shop_counting_nothing_yet_reads_no_stock(shop: Shop, store: Store) -> None:
    c = shop.customer(1)
    await shop.step(c)
    assert (await store.load_snapshot(c.key, None)).stock == {}  # no rows: {} on both
    await store.seed_stock({"tea": 3, "cups": 0}, NOW)
    assert (await store.load_snapshot(c.key, None)).stock == {"tea": 3, "cups": 0}
    assert (await store.load_snapshot("CC.new", None)).stock == {"tea": 3, "cups": 0}
