"""No single stored row can stop the shop.

A row the app cannot read (written by an older, buggy version, or edited by hand) or cannot
handle (a job of a kind this version does not know) is planted in the database; the bot still
starts, serves customers, sets each bad row aside and reports it, on both backends.
"""

import asyncio
import json

import pytest

from bot import keys
from bot.cli import main
from flows.catalog import ShopConfig
from storage.repository import Lane
from tests.support.databases import execute
from tests.support.harness import running_shop, text_of

ASHA = "919812300001"
ROHAN = "919812300002"
T0 = 1_789_999_000


async def plant_poison(url: str) -> None:
    await execute(
        url,
        "INSERT INTO customers (key, phone, user_id, name, conversation, created_at, updated_at) "
        "VALUES (?, ?, NULL, 'Rohan', '{\"phase\": ', ?, ?)",  # a truncated conversation
        ROHAN,
        ROHAN,
        T0,
        T0,
    )
    await execute(
        url,
        "INSERT INTO orders (id, customer_key, lines, total, currency, status, created_at, "
        "updated_at) VALUES ('ord_poison', ?, ?, 100, 'INR', 'pending_payment', ?, ?)",
        ROHAN,
        json.dumps([{"product_id": "tea", "name": "Tea", "unit_price": 100, "quantity": 1}]),
        T0,
        T0,
    )
    # The case: a location whose 1e999 latitude was stored as null.
    location = {"kind": "location", "message_id": "wamid.p1", "latitude": None, "longitude": 1.0}
    customer = {"key": ROHAN, "phone": ROHAN, "user_id": None, "name": "Rohan"}
    await execute(
        url,
        "INSERT INTO events (source, dedupe_key, customer_key, customer, event, raw, received_at) "
        "VALUES ('whatsapp', 'whatsapp:wamid.p1', ?, ?, ?, '{}', ?)",
        ROHAN,
        json.dumps(customer),
        json.dumps(location),
        T0,
    )
    await execute(
        url,
        "INSERT INTO outbox (customer_key, recipient_phone, message, created_at) "
        "VALUES (?, ?, ?, ?)",
        ROHAN,
        ROHAN,
        '{"kind": "text"}',  # no body: not a message any more
        T0,
    )
    await execute(
        url,
        "INSERT INTO jobs (kind, customer_key, order_id, payload, created_at) "
        "VALUES ('create_payment_link', ?, 'ord_poison', 'not json at all', ?)",
        ROHAN,
        T0,
    )
    await execute(
        url,
        "INSERT INTO jobs (kind, customer_key, order_id, payload, created_at) "
        "VALUES ('refund_everything', ?, 'ord_poison', '{}', ?)",
        ROHAN,
        T0,
    )


async def test_the_bot_starts_serves_and_reports_every_poison_row(
    database_url: str, shop_config: ShopConfig
) -> None:
    await plant_poison(database_url)
    async with running_shop(database_url, shop_config) as shop:
        await shop.settle()

        assert (await shop.say(ASHA, "hi")).status == 200
        await shop.settle()
        assert "Chai Point" in text_of(shop.last_reply(ASHA))

        store = shop.app[keys.STORE]
        set_aside = {(d.lane, d.key): d.reason for d in await store.dead_letters()}
        assert set(set_aside) == {
            (Lane.EVENTS, ROHAN),
            (Lane.OUTBOX, ROHAN),
            (Lane.JOBS, "ord_poison"),
        }
        reasons = list(set_aside.values())
        assert all(reason for reason in reasons)
        assert len(await store.dead_letters()) == 4  # both jobs
        assert await store.unprocessed_events() == []
        assert await store.pending_outbox() == []
        assert await store.pending_jobs() == []

        health = await shop.client.get("/healthz")
        assert health.status == 200
        assert (await health.json())["set_aside"] == 4


async def test_a_second_start_finds_nothing_left_to_trip_on(
    database_url: str, shop_config: ShopConfig
) -> None:
    await plant_poison(database_url)
    async with running_shop(database_url, shop_config) as shop:
        await shop.settle()
    async with running_shop(database_url, shop_config) as shop:
        await shop.settle()
        assert (await shop.say(ROHAN, "hi")).status == 200
        await shop.settle()
        # The customer whose rows were bad (his conversation too) starts afresh.
        assert "Chai Point" in text_of(shop.last_reply(ROHAN))
        assert len(await shop.app[keys.STORE].dead_letters()) == 4


async def test_the_merchant_lists_what_was_set_aside(
    database_url: str, shop_config: ShopConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    await plant_poison(database_url)
    async with running_shop(database_url, shop_config) as shop:
        await shop.settle()
    env = {"DATABASE_URL": database_url}
    assert await asyncio.to_thread(main, ["set-aside"], env) == 0
    out = capsys.readouterr().out
    assert "4 stored item(s)" in out
    assert "events #1" in out
    assert "unknown job kind 'refund_everything'" in out
