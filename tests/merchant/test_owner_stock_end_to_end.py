"""The owner counts stock from WhatsApp: `stock` lists what is left of every counted product,
`stock PRODUCT N` sets a count and `stock PRODUCT +N / -N` adds or removes units, through the
real webhook (signed like Meta) and the same `MerchantStock` as the dashboard and the CLI,
recorded as `owner:<number>`. Refusals say why and change nothing; a message handled twice
changes the stock once. Both backends."""

from collections.abc import AsyncIterator

import pytest

from bot import keys
from bot.merchant.owner import OwnerDesk
from flows.catalog import ShopConfig
from flows.events import TextReceived
from tests.merchant.test_owner_commands_end_to_end import ENV, OWNER, owner_says, redeliver
from tests.support.harness import Shop, running_shop
from tests.test_shop_end_to_end import shop_until_pay_now
from tests.test_stock_end_to_end import counting

CHAI = "masala-chai-250"  # counted from 5 here; shop_until_pay_now holds 2 of it
DARJEELING = "darjeeling-first-flush-100"  # counted from 12 in config.toml
KETTLE = "steel-kettle"  # not counted


@pytest.fixture
async def shop(database_url: str, shop_config: ShopConfig) -> AsyncIterator[Shop]:
    async with running_shop(
        database_url, counting(shop_config, masala_chai_250=5), extra_env=ENV
    ) as running:
        yield running


async def counts(shop: Shop, product_id: str) -> tuple[int, int, str]:
    """(on hand, held, last changed by) of a counted product."""
    found = await shop.app[keys.STOCK].get(product_id)
    assert found is not None
    return found.level.on_hand, found.level.held, found.level.updated_by


async def test_the_owner_lists_the_stock_with_what_is_held_and_sold_out(shop: Shop) -> None:
    await shop_until_pay_now(shop)  # two chai held for Asha's unpaid order
    await shop.app[keys.STOCK].set(DARJEELING, 0, by="cli:owner")

    listing = await owner_says(shop, "stock", "wamid.stock1")

    assert listing.splitlines() == [
        "Stock: on hand / held for unpaid orders / for sale",
        f"{CHAI}: 5 / 2 / 3",
        f"{DARJEELING}: 0 / 0 / 0 SOLD OUT",
        "Send: stock PRODUCT N",
    ]
    assert KETTLE not in listing


async def test_the_owner_sets_adds_and_removes_recorded_as_the_owner(shop: Shop) -> None:
    await shop_until_pay_now(shop)

    set_reply = await owner_says(shop, f"stock {CHAI} 40", "wamid.stock2")
    assert set_reply == (
        f"Done: {CHAI}: 40 in stock (2 held for orders awaiting payment), 38 for sale"
    )
    assert await counts(shop, CHAI) == (40, 2, f"owner:{OWNER}")

    # A phone keyboard capitalises the first letter: the product is found all the same.
    added = await owner_says(shop, "Stock Masala-Chai-250 +10", "wamid.stock3")
    assert added.startswith(f"Done: {CHAI}: 50 in stock")
    removed = await owner_says(shop, f"stock {CHAI} -8", "wamid.stock4")
    assert removed.startswith(f"Done: {CHAI}: 42 in stock")
    assert await counts(shop, CHAI) == (42, 2, f"owner:{OWNER}")

    # WhatsApp delivering the same message again: handled once.
    again = await shop.post_whatsapp(redeliver("wamid.stock4", f"stock {CHAI} -8"))
    assert again.status == 200
    await shop.settle()
    assert await counts(shop, CHAI) == (42, 2, f"owner:{OWNER}")


async def test_refusals_say_why_and_change_nothing(shop: Shop) -> None:
    not_counted = await owner_says(shop, f"stock {KETTLE} 4", "wamid.stock5")
    assert not_counted.startswith(f"No: the stock of {KETTLE} is not counted")
    assert "stock = N" in not_counted
    unknown = await owner_says(shop, "stock no-such-tea 4", "wamid.stock6")
    assert unknown == "No: no product 'no-such-tea' in the config"
    below_zero = await owner_says(shop, f"stock {CHAI} -6", "wamid.stock7")
    assert below_zero == f"No: {CHAI} has 5; cannot take away 6"
    not_a_number = await owner_says(shop, f"stock {CHAI} lots", "wamid.stock8")
    assert not_a_number.startswith("'lots' is not a whole number of units (usage: stock")
    how_many = await owner_says(shop, f"stock {CHAI}", "wamid.stock9")
    assert how_many.startswith("how many? (usage: stock PRODUCT N, or +N / -N)")

    assert await counts(shop, CHAI) == (5, 0, "config")
    assert KETTLE not in {level.product_id for level in await shop.app[keys.STORE].stock_levels()}


async def test_a_message_handled_again_after_a_crash_changes_the_stock_once(shop: Shop) -> None:
    """The bot may stop after the change and before the reply is committed; the message is
    then handled again. Its id is the change's one-time token."""
    desk = OwnerDesk(owners=[OWNER], orders=shop.app[keys.MERCHANT], stock=shop.app[keys.STOCK])
    message = TextReceived(message_id="wamid.stock10", text=f"stock {CHAI} +3")

    first = await desk.answer(message, OWNER)
    second = await desk.answer(message, OWNER)

    assert first.startswith(f"Done: {CHAI}: 8 in stock")
    assert second == (
        f"Already done: {CHAI} was changed by this request before; nothing changed again"
    )
    assert (await counts(shop, CHAI))[0] == 8
