"""A database belongs to one mode: a sandbox never opens over a live shop's orders (it would
publish them and let anyone sign their payments), nor a live shop over sandbox orders."""

import pytest

from storage import ModeMismatchError
from storage.repository import Store
from tests.storage.store_support import NOW, Shop


async def test_an_empty_database_takes_either_mode(store: Store) -> None:
    await store.bind_mode("sandbox", NOW)
    await store.bind_mode("live", NOW)  # nothing was sold yet: switching is harmless
    await store.bind_mode("live", NOW)


async def test_a_database_with_live_orders_refuses_the_sandbox(shop: Shop, store: Store) -> None:
    await store.bind_mode("live", NOW)
    await shop.place_order(shop.customer(1), "ord_1")
    with pytest.raises(ModeMismatchError, match="orders made in live mode"):
        await store.bind_mode("sandbox", NOW)
    await store.bind_mode("live", NOW)  # the live shop itself carries on


async def test_a_database_with_sandbox_orders_refuses_the_live_shop(
    shop: Shop, store: Store
) -> None:
    await store.bind_mode("sandbox", NOW)
    await shop.place_order(shop.customer(1), "ord_1")
    with pytest.raises(ModeMismatchError, match="sandbox mode"):
        await store.bind_mode("live", NOW)
