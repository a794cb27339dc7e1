"""The group-commit writer on its own, with a scratch table."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from storage import CommitFailedError
from storage.sqlite_engine import GroupCommitWriter, ReaderPool


@pytest.fixture
async def writer(tmp_path: Path) -> AsyncIterator[GroupCommitWriter]:
    writer = await GroupCommitWriter.start(tmp_path / "scratch.sqlite3")
    await writer.submit(_run("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
    await writer.submit(
        _run("CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent (id))")
    )
    yield writer
    await writer.close()


def _run(sql: str, *params: object) -> Callable[[sqlite3.Connection], None]:
    def unit(conn: sqlite3.Connection) -> None:
        conn.execute(sql, params)

    return unit


def _orphan_checked_at_commit(conn: sqlite3.Connection) -> None:
    # A deferred foreign key is only checked by COMMIT, so this unit succeeds on its own
    # and makes the whole batch's COMMIT fail.
    conn.execute("PRAGMA defer_foreign_keys = ON")
    conn.execute("INSERT INTO child (id, parent) VALUES (1, 999)")


def _count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM parent").fetchone()[0])


async def test_failed_commit_fails_every_unit_of_the_batch(
    writer: GroupCommitWriter, tmp_path: Path
) -> None:
    results = await asyncio.gather(
        writer.submit(_run("INSERT INTO parent (id) VALUES (1)")),
        writer.submit(_orphan_checked_at_commit),
        return_exceptions=True,
    )
    assert all(isinstance(r, CommitFailedError) for r in results)
    assert writer.stats.failed_batches == 1
    # Nothing of the batch was saved, and the writer carries on.
    await writer.submit(_run("INSERT INTO parent (id) VALUES (2)"))
    readers = ReaderPool(tmp_path / "scratch.sqlite3", size=1)
    assert await readers.run(_count) == 1
    await readers.close()


async def test_a_failing_unit_fails_alone(writer: GroupCommitWriter) -> None:
    results = await asyncio.gather(
        writer.submit(_run("INSERT INTO parent (id) VALUES (1)")),
        writer.submit(_run("INSERT INTO parent (id) VALUES (1)")),
        writer.submit(_run("INSERT INTO parent (id) VALUES (2)")),
        return_exceptions=True,
    )
    assert results[0] is None
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert results[2] is None
    assert writer.stats.batches == 3  # two CREATE TABLE batches, then one for all three
    assert await writer.submit(_count) == 2


async def test_a_cancelled_caller_is_skipped(writer: GroupCommitWriter) -> None:
    task = asyncio.create_task(writer.submit(_run("INSERT INTO parent (id) VALUES (1)")))
    await asyncio.sleep(0)  # submitted, not yet run
    task.cancel()
    await asyncio.sleep(0)
    assert await writer.submit(_count) == 0


async def test_a_write_waits_for_another_writer_off_the_event_loop(
    writer: GroupCommitWriter, tmp_path: Path
) -> None:
    """Batches run on the loop's thread only when the write lock is free; while an outside
    connection (an admin script, a backup) holds it, the batch waits on the writer's thread
    and the event loop keeps serving everyone else."""
    outsider = sqlite3.connect(tmp_path / "scratch.sqlite3", isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    write = asyncio.create_task(writer.submit(_run("INSERT INTO parent (id) VALUES (7)")))
    ticks = 0
    for _ in range(20):
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks == 20
    assert not write.done()  # still waiting for the lock, without holding up the loop
    outsider.execute("COMMIT")
    outsider.close()
    await asyncio.wait_for(write, timeout=5)
    readers = ReaderPool(tmp_path / "scratch.sqlite3", size=1)
    assert await readers.run_inline(_count) == 1
    await readers.close()


async def test_the_wal_is_checkpointed_as_rows_are_written(
    writer: GroupCommitWriter, tmp_path: Path
) -> None:
    """Automatic checkpoints are off on the writer (they would fsync on the event loop); the
    writer's own checkpoints must still keep the WAL from growing without bound."""
    wal = tmp_path / "scratch.sqlite3-wal"
    largest = 0
    for start in range(0, 30000, 200):
        await asyncio.gather(
            *(
                writer.submit(_run("INSERT INTO parent (id) VALUES (?)", i))
                for i in range(start, start + 200)
            )
        )
        await asyncio.sleep(0.01)  # room for a checkpoint in flight on the writer's thread
        largest = max(largest, wal.stat().st_size)
    # Never checkpointed, these 30,000 rows leave a WAL of about 1.3 MB; checkpointed frames
    # are reused from the start of the file, which stays near 0.25 MB. Half the first is a
    # bound that does not depend on exactly when the checkpoint thread gets to run.
    assert largest < 650_000
    readers = ReaderPool(tmp_path / "scratch.sqlite3", size=1)
    assert await readers.run(_count) == 30000
    await readers.close()
