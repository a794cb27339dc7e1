"""Several processes on one Postgres database: claims, a dead holder, concurrent migrations,
and a database that goes away and comes back."""

import asyncio
import json
import os
import sys
import time
from asyncio.subprocess import PIPE
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bot.keyed import KeyedWorker
from flows.catalog import ShopConfig
from storage import PostgresOptions, migrate
from storage.database_url import PostgresDatabase, parse_database_url
from storage.migrate import Dialect, migrations
from storage.postgres import LOCK_NAMESPACE, AdvisoryLocks, PostgresStore
from storage.repository import Lane, StoredEvent
from tests.storage.store_support import Shop
from tests.support.databases import empty_postgres_url
from tests.support.harness import running_shop, text_of
from tests.support.tcp_proxy import TcpProxy

ASHA = "919812300001"


async def open_as(url: str, name: str) -> PostgresStore:
    database = parse_database_url(url)
    assert not isinstance(database, type(None))
    options = PostgresOptions(application_name=name)
    return await PostgresStore.open(database, options)  # type: ignore[arg-type]


async def test_one_customer_is_held_by_one_process_at_a_time(postgres_url: str) -> None:
    a, b = await open_as(postgres_url, "proc-a"), await open_as(postgres_url, "proc-b")
    try:
        async with a.claim(Lane.EVENTS, "asha") as a_has:
            async with b.claim(Lane.EVENTS, "asha") as b_has:
                assert (a_has, b_has) == (True, False)
            async with b.claim(Lane.EVENTS, "rohan") as other_customer:
                assert other_customer
            async with b.claim(Lane.OUTBOX, "asha") as other_lane:
                assert other_lane
        async with b.claim(Lane.EVENTS, "asha") as after_a_let_go:
            assert after_a_let_go
    finally:
        await a.close()
        await b.close()


async def test_many_claims_at_once_are_each_granted_to_one_process(postgres_url: str) -> None:
    stores = [await open_as(postgres_url, f"proc-{n}") for n in range(3)]
    holders: dict[str, list[int]] = {}
    answered = 0
    all_answered = asyncio.Event()
    release = asyncio.Event()

    async def try_all(n: int) -> None:
        async def one(key: str) -> None:
            nonlocal answered
            async with stores[n].claim(Lane.EVENTS, key) as held:
                answered += 1
                if answered == 3 * 200:
                    all_answered.set()
                if held:
                    holders.setdefault(key, []).append(n)
                    await release.wait()

        await asyncio.gather(*(one(f"customer-{k}") for k in range(200)))

    try:
        tasks = [asyncio.create_task(try_all(n)) for n in range(3)]
        await asyncio.wait_for(all_answered.wait(), timeout=20)  # every attempt, then let go
        release.set()
        await asyncio.gather(*tasks)
        assert sorted(holders) == sorted(f"customer-{k}" for k in range(200))
        assert {k: v for k, v in holders.items() if len(v) != 1} == {}
    finally:
        for store in stores:
            await store.close()


async def test_a_customer_let_go_and_asked_for_again_at_once_stays_held(
    postgres_url: str,
) -> None:
    database = parse_database_url(postgres_url)
    assert isinstance(database, PostgresDatabase)
    here, other = AdvisoryLocks(database, PostgresOptions()), await open_as(postgres_url, "other")
    namespace = LOCK_NAMESPACE[Lane.EVENTS]
    try:
        held = await here.try_lock(namespace, "asha")
        assert held is not None
        # Both go in one round trip: the unlock first, then the lock.
        _, again = await asyncio.gather(here.unlock(held), here.try_lock(namespace, "asha"))
        assert again is not None
        async with other.claim(Lane.EVENTS, "asha") as other_has:
            assert not other_has  # held once, not twice and not by nobody
        await here.unlock(again)
        async with other.claim(Lane.EVENTS, "asha") as other_has:
            assert other_has
    finally:
        await here.close()
        await other.close()


async def test_a_process_that_dies_lets_go_of_its_customers_at_once(postgres_url: str) -> None:
    a, b = await open_as(postgres_url, "proc-dying"), await open_as(postgres_url, "proc-b")
    try:
        async with a.claim(Lane.EVENTS, "asha") as held:
            assert held
            # The process is gone: the server drops its connections, and its locks with them.
            conn = await asyncpg.connect(postgres_url, ssl=False)
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'proc-dying'"
            )
            await conn.close()
            for _ in range(100):
                async with b.claim(Lane.EVENTS, "asha") as taken_over:
                    if taken_over:
                        break
                await asyncio.sleep(0.05)
            assert taken_over
    finally:
        await a.close()
        await b.close()


@pytest.fixture
def empty_database() -> Iterator[str]:
    yield from empty_postgres_url()


async def test_two_releases_migrating_at_once_apply_each_migration_once(
    empty_database: str,
) -> None:
    first, second = await asyncio.gather(migrate(empty_database), migrate(empty_database))
    versions = [m.version for m in migrations(Dialect.POSTGRES)]
    assert sorted(first + second) == versions
    assert await migrate(empty_database) == []


def test_both_dialects_ship_the_same_migrations() -> None:
    sqlite = [m.name for m in migrations(Dialect.SQLITE)]
    postgres = [m.name for m in migrations(Dialect.POSTGRES)]
    assert sqlite == postgres


def through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = (
        f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else f"127.0.0.1:{proxy.port}"
    )
    return urlunsplit(parts._replace(netloc=netloc))


async def test_the_shop_rides_out_a_database_failover(
    postgres_url: str, shop_config: ShopConfig
) -> None:
    upstream = urlsplit(postgres_url)
    proxy = TcpProxy(upstream.hostname or "127.0.0.1", upstream.port or 5432)
    async with proxy, running_shop(through(proxy, postgres_url), shop_config) as shop:
        assert (await shop.say(ASHA, "hi")).status == 200
        await shop.settle()
        assert "Chai Point" in text_of(shop.last_reply(ASHA))

        proxy.cut()
        health = await shop.client.get("/healthz")
        assert health.status == 503
        assert (await health.json())["status"] == "degraded"
        # Not stored: the 500 makes Meta deliver it again.
        message = {"type": "text", "text": {"body": "cart"}}
        refused = await shop.send(ASHA, message, wamid="wamid.during-failover")
        assert refused.status == 500

        proxy.restore()
        for _ in range(100):  # the pool reconnects on the next use
            if (await shop.client.get("/healthz")).status == 200:
                break
            await asyncio.sleep(0.05)
        redelivered = await shop.send(ASHA, message, wamid="wamid.during-failover")
        assert redelivered.status == 200
        await shop.settle()
        assert "cart" in text_of(shop.last_reply(ASHA)).lower()
        assert json.dumps(shop.replies(ASHA)).count("Chai Point") >= 1


async def test_two_migrate_commands_at_once_both_succeed(empty_database: str) -> None:
    """The release phase of two deploys (or a release and a manual run) at the same time."""
    env = {**os.environ, "DATABASE_URL": empty_database, "BOT_MODE": "sandbox"}
    command = [sys.executable, "-m", "bot", "migrate"]
    runs = [
        await asyncio.create_subprocess_exec(*command, env=env, stdout=PIPE, stderr=PIPE)
        for _ in range(2)
    ]
    outputs = [await run.communicate() for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    store = await open_as(empty_database, "check")
    await store.close()  # opening checks that every migration is there


class Recorder(KeyedWorker[StoredEvent]):
    """A worker that only notes which events it handled (after `gate` opens)."""

    lane = Lane.EVENTS

    def __init__(self, store: PostgresStore, name: str) -> None:
        super().__init__(store=store, clock=time.time, concurrency=4, name=name)
        self.gate = asyncio.Event()
        self.gate.set()
        self.handled: list[int] = []

    def _key(self, item: StoredEvent) -> str:
        return item.customer_key or ""

    async def _pending(self, key: str | None) -> list[StoredEvent]:
        return await self._store.unprocessed_events(key)

    async def _handle(self, item: StoredEvent) -> None:
        await self.gate.wait()
        await self._store.mark_event_processed(item.id, "done", int(time.time()))
        self.handled.append(item.id)  # once done: a test that saw it may read the store


async def _stored(store: PostgresStore, text: str) -> StoredEvent:
    shop = Shop(store)
    event_id = await shop.record(shop.text(shop.customer(1), text, wamid=f"wamid.{text}"))
    (stored,) = [e for e in await store.unprocessed_events("CC.user1") if e.id == event_id]
    return stored


async def _until(condition: Callable[[], bool], seconds: float) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


@pytest.mark.parametrize("holder_busy_seconds", [0.1, 2.5])
async def test_a_message_received_while_another_process_holds_the_customer_is_not_left_waiting(
    postgres_url: str, holder_busy_seconds: float
) -> None:
    """Process A is handling Asha's first message when B receives her second. B cannot claim
    her, so it asks again shortly; a holder busy for longer than B keeps asking looks for new
    work itself after letting go. Either way the second message is handled in order, at
    once, with no sweep running."""
    a, b = await open_as(postgres_url, "proc-a"), await open_as(postgres_url, "proc-b")
    worker_a, worker_b = Recorder(a, "worker-a"), Recorder(b, "worker-b")
    try:
        worker_a.gate.clear()
        first = await _stored(a, "hi")
        worker_a.submit(first)
        await asyncio.sleep(0.05)  # A holds Asha, waiting at the gate
        second = await _stored(b, "cart")
        worker_b.submit(second)
        await asyncio.sleep(holder_busy_seconds)
        worker_a.gate.set()

        await _until(lambda: len(worker_a.handled + worker_b.handled) == 2, seconds=15)
        assert worker_a.handled[0] == first.id
        assert worker_a.handled + worker_b.handled == [first.id, second.id]
        assert await a.unprocessed_events("CC.user1") == []
    finally:
        await worker_a.close(1)
        await worker_b.close(1)
        await a.close()
        await b.close()
