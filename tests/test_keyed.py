"""One customer's work runs in order, one at a time; different customers run side by side."""

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bot.keyed import KeyedSerialExecutor, KeyedWorker
from storage import migrate, open_store
from storage.repository import Lane, Store


async def test_items_of_one_key_run_in_order_and_never_overlap() -> None:
    running: dict[str, int] = {}
    seen: list[tuple[str, int]] = []
    overlap = False

    async def handle(key: str, item: tuple[str, int]) -> None:
        nonlocal overlap
        key, _ = item
        running[key] = running.get(key, 0) + 1
        overlap = overlap or running[key] > 1
        await asyncio.sleep(0)
        seen.append(item)
        running[key] -= 1

    executor: KeyedSerialExecutor[tuple[str, int]] = KeyedSerialExecutor(
        handle, concurrency=8, name="test"
    )
    for n in range(20):
        for key in ("asha", "rohan", "priya"):
            executor.submit(key, (key, n))
    await executor.idle()
    assert not overlap
    for key in ("asha", "rohan", "priya"):
        assert [n for k, n in seen if k == key] == list(range(20))


async def test_different_keys_run_concurrently() -> None:
    started = asyncio.Event()
    both = asyncio.Event()
    count = 0

    async def handle(key: str, item: str) -> None:
        nonlocal count
        count += 1
        if count == 2:
            both.set()
        await asyncio.wait_for(both.wait(), timeout=5)
        started.set()

    executor: KeyedSerialExecutor[str] = KeyedSerialExecutor(handle, concurrency=4, name="t")
    executor.submit("a", "x")
    executor.submit("b", "y")
    await executor.idle()
    assert started.is_set()


async def test_a_failing_item_does_not_stop_the_queue() -> None:
    handled: list[int] = []

    async def handle(key: str, item: int) -> None:
        if item == 1:
            raise RuntimeError("boom")
        handled.append(item)

    executor: KeyedSerialExecutor[int] = KeyedSerialExecutor(handle, concurrency=1, name="t")
    for item in range(3):
        executor.submit("k", item)
    await executor.idle()
    assert handled == [0, 2]


async def test_close_cancels_what_outlives_the_grace_period() -> None:
    async def handle(key: str, item: int) -> None:
        await asyncio.sleep(30)

    executor: KeyedSerialExecutor[int] = KeyedSerialExecutor(handle, concurrency=1, name="t")
    executor.submit("k", 1)
    executor.submit("k", 2)
    await asyncio.sleep(0)
    left = await executor.close(grace_seconds=0.05)
    assert left == 2
    executor.submit("k", 3)  # refused quietly after close: it is durable elsewhere
    assert executor.busy == 0


async def test_an_item_submitted_twice_before_it_ran_is_handled_once(tmp_path: Path) -> None:
    """Recovery can list a message that a step committed and handed over a moment before."""
    store = await open_store_for(tmp_path)
    handled: list[int] = []

    class Recorder(KeyedWorker[Item]):
        lane = Lane.OUTBOX

        def _key(self, item: Item) -> str:
            return item.key

        async def _pending(self, key: str | None) -> list[Item]:
            return []

        async def _handle(self, item: Item) -> None:
            handled.append(item.id)

    worker = Recorder(store=store, clock=lambda: 0.0, concurrency=4, name="recorder")
    try:
        for item in (Item(1, "asha"), Item(1, "asha"), Item(2, "asha")):
            worker.submit(item)
        await worker.idle()
        worker.submit(Item(1, "asha"))  # handled and done: a later submission runs again
        await worker.idle()
        assert handled == [1, 2, 1]
    finally:
        await store.close()


@dataclass(frozen=True)
class Item:
    id: int
    key: str


async def open_store_for(tmp_path: Path) -> Store:
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    await migrate(url)
    return await open_store(url)


async def test_a_held_key_runs_what_was_submitted_meanwhile_once_released() -> None:
    seen: list[str] = []

    async def handle(key: str, item: str) -> None:
        seen.append(item)

    executor: KeyedSerialExecutor[str] = KeyedSerialExecutor(handle, concurrency=4, name="test")
    assert executor.hold("asha")
    assert not executor.hold("asha")  # one holder at a time
    executor.submit("asha", "second")
    executor.submit("rohan", "other")
    await asyncio.sleep(0.01)
    assert seen == ["other"]  # asha's waits for the holder

    executor.release("asha")
    await executor.idle()
    assert seen == ["other", "second"]
    assert executor.hold("asha")  # free again
    executor.release("asha")


async def test_a_key_with_work_queued_cannot_be_held() -> None:
    gate = asyncio.Event()

    async def handle(key: str, item: str) -> None:
        await gate.wait()

    executor: KeyedSerialExecutor[str] = KeyedSerialExecutor(handle, concurrency=4, name="test")
    executor.submit("asha", "first")
    await asyncio.sleep(0)
    assert not executor.hold("asha")
    gate.set()
    await executor.idle()
    assert executor.hold("asha")
    executor.release("asha")
