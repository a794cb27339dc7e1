"""Stock over HTTP with the real app, on SQLite and on Postgres: checkout holds the units,
an expired link or a cancelled order gives them back, a payment sells them for good, and two
customers racing for the last units end with exactly one order (the other told before paying).
"""

import asyncio
import itertools
import time

import pytest

from bot import keys
from bot.cli import main
from bot.merchant.stock import MerchantStock, ProductStock
from flows.catalog import ShopConfig
from flows.orders import OrderStatus
from tests.support.fakes import FakeGraph, FakeRazorpay
from tests.support.harness import (
    ACCESS_TOKEN,
    KEY_ID,
    KEY_SECRET,
    FakeClock,
    Shop,
    button_ids,
    row_ids,
    running_shop,
    text_of,
)
from tests.test_orders_cli import env_of
from tests.test_shop_end_to_end import ADDRESS, ASHA, find, shop_until_pay_now

CHAI = "masala-chai-250"  # shop_until_pay_now buys two of it
BY = "cli:owner"


def counting(config: ShopConfig, **starting: int) -> ShopConfig:
    """The shop with these products' stock counted from the given starting counts."""
    products = tuple(
        p.model_copy(update={"stock": starting[p.id.replace("-", "_")]})
        if p.id.replace("-", "_") in starting
        else p
        for p in config.products
    )
    # Built afresh: a copy would keep the old config's cached catalog.
    return ShopConfig(
        shop=config.shop,
        checkout=config.checkout,
        products=products,
        messages=config.messages,
        templates=config.templates,
    )


def stock(shop: Shop) -> MerchantStock:
    return MerchantStock(store=shop.app[keys.STORE], shop=shop.app[keys.SHOP], clock=shop.clock)


async def level(shop: Shop, product_id: str = CHAI) -> tuple[int, int]:
    """(on hand, held) of a product."""
    found = await stock(shop).get(product_id)
    assert isinstance(found, ProductStock)
    return found.level.on_hand, found.level.held


async def only_link(shop: Shop) -> dict[str, object]:
    [link] = shop.razorpay.created
    return link


async def test_checkout_holds_and_an_expired_link_gives_the_units_back(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, counting(shop_config, masala_chai_250=5)) as shop:
        assert await level(shop) == (5, 0)  # seeded from the config at start
        await shop_until_pay_now(shop)
        assert await level(shop) == (5, 2)

        link = await only_link(shop)
        response = await shop.post_razorpay(
            shop.razorpay.link_event(str(link["id"]), "payment_link.expired")
        )
        assert response.status == 200
        await shop.settle()

        assert await level(shop) == (5, 0)
        order = await shop.app[keys.STORE].get_order(str(link["reference_id"]))
        assert order is not None
        assert order.status is OrderStatus.EXPIRED


async def test_a_cancelled_order_gives_the_units_back(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, counting(shop_config, masala_chai_250=5)) as shop:
        summary = await shop_until_pay_now(shop)
        assert await level(shop) == (5, 2)

        await shop.tap(ASHA, button_ids(summary)["Cancel order"])
        await shop.settle()
        assert "cancelled" in text_of(shop.last_reply(ASHA))
        assert await level(shop) == (5, 0)


async def test_a_paid_order_takes_the_units_for_good_and_a_shop_cancel_returns_them(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, counting(shop_config, masala_chai_250=5)) as shop:
        await shop_until_pay_now(shop)
        link = await only_link(shop)
        response = await shop.post_razorpay(shop.razorpay.paid_webhook(str(link["id"])))
        assert response.status == 200
        await shop.settle()
        assert await level(shop) == (3, 0)

        # The same webhook again changes nothing.
        await shop.post_razorpay(shop.razorpay.paid_webhook(str(link["id"])))
        await shop.settle()
        assert await level(shop) == (3, 0)

        cancelled = await shop.app[keys.MERCHANT].cancel(
            str(link["reference_id"]), by=BY, refund=True, reason="damaged in the shop"
        )
        await shop.settle()
        assert cancelled.order is not None
        assert await level(shop) == (5, 0)


async def test_the_units_of_their_own_open_order_are_theirs_to_change(
    database_url: str, shop_config: ShopConfig
) -> None:
    """Their order holds the last two; they take one out and check out again: the new order
    takes one of their own held units, and the old order gives the rest back."""
    async with running_shop(database_url, counting(shop_config, masala_chai_250=2)) as shop:
        await shop_until_pay_now(shop)
        assert await level(shop) == (2, 2)

        await shop.say(ASHA, "cart")
        await shop.settle()
        await shop.tap(ASHA, find(button_ids(shop.last_reply(ASHA)), "remove"))
        await shop.settle()
        await shop.pick(ASHA, find(row_ids(shop.last_reply(ASHA)), "masala chai"))
        await shop.settle()
        await shop.tap(ASHA, find(button_ids(shop.last_reply(ASHA)), "browse"))
        await shop.settle()
        await shop.pick(ASHA, find(row_ids(shop.last_reply(ASHA)), "^tea"))
        await shop.settle()
        await shop.pick(ASHA, find(row_ids(shop.last_reply(ASHA)), "masala chai"))
        await shop.settle()
        product = shop.last_reply(ASHA)
        assert "Only 2 left." in text_of(product)  # theirs, though held
        await shop.tap(ASHA, find(button_ids(product), "^1$"))
        await shop.settle()
        await shop.tap(ASHA, find(button_ids(shop.last_reply(ASHA)), "checkout"))
        await shop.settle()
        await shop.tap(ASHA, find(button_ids(shop.last_reply(ASHA)), "use this"))
        await shop.settle()

        assert "Sold out" not in text_of(shop.last_reply(ASHA))
        assert len(shop.razorpay.created) == 2
        assert await level(shop) == (2, 1)


async def test_a_restart_keeps_the_live_count_not_the_config_one(
    database_url: str, shop_config: ShopConfig
) -> None:
    config = counting(shop_config, masala_chai_250=5)
    async with running_shop(database_url, config) as shop:
        changed = await stock(shop).set(CHAI, 9, by=BY)
        assert changed.done
        assert changed.message == f"{CHAI}: 9 in stock, 9 for sale"
    async with running_shop(database_url, counting(shop_config, masala_chai_250=50)) as shop:
        assert await level(shop) == (9, 0)


async def test_sold_out_shows_in_the_chat_and_a_restock_brings_it_back(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, counting(shop_config, masala_chai_250=0)) as shop:
        await shop.say(ASHA, "hi")
        await shop.settle()
        await shop.tap(ASHA, find(button_ids(shop.last_reply(ASHA)), "browse"))
        await shop.settle()
        await shop.pick(ASHA, find(row_ids(shop.last_reply(ASHA)), "^tea"))
        await shop.settle()
        products = shop.last_reply(ASHA)
        assert "Masala Chai 250 g Sold out" in text_of(products)
        masala = find(row_ids(products), "masala chai")
        await shop.pick(ASHA, masala)
        await shop.settle()
        assert "Masala Chai 250 g is sold out" in text_of(shop.last_reply(ASHA))

        added = await stock(shop).add(CHAI, 1, by=BY)
        assert added.done
        await shop.pick(ASHA, masala)
        await shop.settle()
        shown = text_of(shop.last_reply(ASHA))
        assert "Only 1 left." in shown
        assert list(button_ids(shop.last_reply(ASHA))) == ["1"]


async def test_the_merchant_is_refused_what_cannot_be(
    database_url: str, shop_config: ShopConfig
) -> None:
    async with running_shop(database_url, counting(shop_config, masala_chai_250=2)) as shop:
        service = stock(shop)
        assert (await service.add(CHAI, -3, by=BY)).message == f"{CHAI} has 2; cannot take away 3"
        assert not (await service.set(CHAI, -1, by=BY)).done
        assert "not counted" in (await service.set("steel-kettle", 4, by=BY)).message
        assert "no product" in (await service.add("no-such-tea", 1, by=BY)).message
        assert await level(shop) == (2, 0)
        listed = [item.product.id for item in await service.list()]
        assert listed == [CHAI, "darjeeling-first-flush-100"]  # the config's order


async def test_two_customers_racing_for_the_last_units_one_gets_them(
    database_url: str, shop_config: ShopConfig
) -> None:
    """Each round: two customers with two Masala Chai in their carts send their address at
    the same moment, and only two are left. Exactly one order is placed and holds them; the
    other customer is told they sold out, and nothing is made for them to pay."""
    async with running_shop(database_url, counting(shop_config, masala_chai_250=0)) as shop:
        for round_ in range(5):
            first, second = f"9198123{round_:02d}101", f"9198123{round_:02d}202"
            await stock(shop).add(CHAI, 2, by=BY)
            for phone in (first, second):
                await _up_to_the_address(shop, phone)
            links_before = len(shop.razorpay.created)

            answers = await asyncio.gather(shop.say(first, ADDRESS), shop.say(second, ADDRESS))
            assert [answer.status for answer in answers] == [200, 200]
            await shop.settle()

            orders = [
                order
                for order in await shop.app[keys.STORE].list_orders()
                if order.customer_key in (first, second)
            ]
            assert len(orders) == 1, f"round {round_}: {len(orders)} orders"
            [winner] = orders
            loser = second if winner.customer_key == first else first
            told = text_of(shop.last_reply(loser))
            assert "Sold out, so removed from your cart: Masala Chai 250 g" in told
            assert "Your cart is empty" in told
            assert len(shop.razorpay.created) == links_before + 1
            assert await level(shop) == (2 * (round_ + 1), 2 * (round_ + 1))


async def test_two_processes_on_one_postgres_sell_the_last_units_once(
    postgres_url: str, shop_config: ShopConfig
) -> None:
    """Two bots on one Postgres database (each with its own pool and locks, as two processes
    have), one customer on each, racing for the last two units, several times."""
    config = counting(shop_config, masala_chai_250=0)
    graph = FakeGraph(token=ACCESS_TOKEN)
    razorpay = FakeRazorpay(key_id=KEY_ID, key_secret=KEY_SECRET)
    async with (
        running_shop(postgres_url, config, graph=graph, razorpay=razorpay) as one,
        running_shop(postgres_url, config, graph=graph, razorpay=razorpay) as other,
    ):
        other._wamids = itertools.count(1_000_000)  # message ids unique across the two
        for round_ in range(5):
            first, second = f"9198124{round_:02d}101", f"9198124{round_:02d}202"
            await stock(one).add(CHAI, 2, by=BY)
            await _up_to_the_address(one, first)
            await _up_to_the_address(other, second)

            await asyncio.gather(one.say(first, ADDRESS), other.say(second, ADDRESS))
            await asyncio.gather(one.settle(), other.settle())

            orders = [
                order
                for order in await one.app[keys.STORE].list_orders()
                if order.customer_key in (first, second)
            ]
            assert len(orders) == 1, f"round {round_}: {len(orders)} orders"
            loser = second if orders[0].customer_key == first else first
            assert "Sold out" in text_of(graph.to(loser)[-1])
            assert await level(other) == (2 * (round_ + 1), 2 * (round_ + 1))


async def _up_to_the_address(shop: Shop, phone: str) -> None:
    """hi → Browse → Tea → Masala Chai → 2 → Checkout: the bot asks for the address."""
    await shop.say(phone, "hi")
    await shop.settle()
    await shop.tap(phone, find(button_ids(shop.last_reply(phone)), "browse"))
    await shop.settle()
    await shop.pick(phone, find(row_ids(shop.last_reply(phone)), "^tea"))
    await shop.settle()
    await shop.pick(phone, find(row_ids(shop.last_reply(phone)), "masala chai"))
    await shop.settle()
    await shop.tap(phone, find(button_ids(shop.last_reply(phone)), "^2$"))
    await shop.settle()
    await shop.tap(phone, find(button_ids(shop.last_reply(phone)), "checkout"))
    await shop.settle()
    assert "address" in text_of(shop.last_reply(phone))


async def test_the_stock_command_lists_sets_and_adds(
    database_url: str, shop_config: ShopConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    async with running_shop(database_url, shop_config, clock=FakeClock(time.time())) as shop:
        harvest = "darjeeling-first-flush-100"  # config.toml counts it, from 12

        assert await stock_command(shop, "list") == 0
        listed = capsys.readouterr().out
        assert harvest in listed
        assert "12 in stock" in listed
        assert CHAI not in listed  # not counted

        assert await stock_command(shop, "set", harvest, "40") == 0
        assert capsys.readouterr().out.strip() == f"{harvest}: 40 in stock, 40 for sale"
        assert await stock_command(shop, "add", harvest, "-45") == 4
        assert "cannot take away 45" in capsys.readouterr().err
        assert await stock_command(shop, "add", harvest, "-40") == 0
        assert await stock_command(shop, "list") == 0
        assert "SOLD OUT" in capsys.readouterr().out
        assert await stock_command(shop, "set", CHAI, "5") == 4
        assert "not counted" in capsys.readouterr().err


async def stock_command(shop: Shop, *argv: str) -> int:
    return await asyncio.to_thread(main, ["stock", *argv], env_of(shop))
