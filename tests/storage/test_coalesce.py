"""Writes that arrive while one is under way go together in the next; each caller gets its
own outcome."""

import asyncio
from collections.abc import Sequence

from storage.coalesce import Coalescer


async def test_calls_during_a_write_share_the_next_one() -> None:
    writes: list[list[int]] = []
    gate = asyncio.Event()

    async def write(items: Sequence[int]) -> None:
        writes.append(list(items))
        await gate.wait()

    marks = Coalescer(write)
    first = asyncio.create_task(marks.add(1))
    await asyncio.sleep(0)  # the first write starts at once, alone
    others = [asyncio.create_task(marks.add(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(first, *others)

    assert writes == [[1], [2, 3, 4]]


async def test_a_failed_write_fails_each_of_its_callers_and_not_the_next() -> None:
    calls = 0

    async def write(items: Sequence[str]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database went away")

    marks = Coalescer(write)
    failing = [asyncio.create_task(marks.add(x)) for x in ("a", "b")]
    outcomes = await asyncio.gather(*failing, return_exceptions=True)
    assert [type(o) for o in outcomes] == [RuntimeError, RuntimeError]

    await marks.add("c")  # the next write goes through
    assert calls == 2
