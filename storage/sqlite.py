"""`Store` on a SQLite file: one group-committing writer, a few readers (see `sqlite_engine`).

Open with `await open_store(settings.database_url)` after `migrate` has run; close with
`await store.close()`, which lets every write already submitted finish first.
"""

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Self

from flows.effects import Effect
from flows.messages import OutgoingMessage
from flows.orders import Order
from flows.state import Conversation, Customer
from storage import sqlite_ops as ops
from storage.database_url import sqlite_path
from storage.errors import SchemaNotMigratedError, StoreClosedError
from storage.migrate import check_schema
from storage.repository import (
    CustomerSnapshot,
    Job,
    NewEvent,
    OutboxMessage,
    StepResult,
    Store,
    StoredEvent,
)
from storage.sqlite_engine import (
    DEFAULT_MAX_BATCH,
    DEFAULT_READERS,
    GroupCommitWriter,
    ReaderPool,
    WriteStats,
)


async def open_store(url: str) -> Store:
    """Open the database `DATABASE_URL` names. Does not migrate: raises
    `SchemaNotMigratedError` if migrations are missing, `DatabaseUrlError` for a bad URL."""
    return await SqliteStore.open(sqlite_path(url))


class SqliteStore:
    def __init__(self, writer: GroupCommitWriter, readers: ReaderPool) -> None:
        self._writer = writer
        self._readers = readers

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        readers: int = DEFAULT_READERS,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> Self:
        path = Path(path)
        # Checked first: connecting would silently create an empty file.
        if not path.is_file():
            raise SchemaNotMigratedError(
                f"no database at {path}: run `python -m bot migrate` first"
            )
        pool = ReaderPool(path, readers)
        try:
            await pool.run(check_schema)
            writer = await GroupCommitWriter.start(path, max_batch)
        except BaseException:
            await pool.close()
            raise
        return cls(writer, pool)

    @property
    def write_stats(self) -> WriteStats:
        """Batches and units committed so far; units/batches > 1 means group commit works."""
        return self._writer.stats

    async def ping(self) -> None:
        if not self._writer.alive:
            raise StoreClosedError("the store's writer is not running")
        await self._readers.run(ops.ping)

    async def close(self) -> None:
        await self._writer.close()
        await self._readers.close()

    # --- inbound events ----------------------------------------------------------------------

    async def record_events(self, events: Sequence[NewEvent], now: int) -> list[int]:
        return await self._writer.submit(partial(ops.record_events, events=tuple(events), now=now))

    async def unprocessed_events(self) -> list[StoredEvent]:
        return await self._readers.run(ops.unprocessed_events)

    async def get_event(self, event_id: int) -> StoredEvent | None:
        return await self._readers.run_inline(partial(ops.get_event, event_id=event_id))

    async def mark_event_processed(self, event_id: int, outcome: str, now: int) -> None:
        await self._writer.submit(
            partial(ops.mark_event_processed, event_id=event_id, outcome=outcome, now=now)
        )

    # --- one step -------------------------------------------------------------------------------

    async def load_snapshot(self, customer_key: str, order_id: str | None) -> CustomerSnapshot:
        return await self._readers.run_inline(
            partial(ops.load_snapshot, customer_key=customer_key, order_id=order_id)
        )

    async def commit_step(
        self,
        *,
        event_id: int,
        customer: Customer,
        conversation: Conversation,
        messages: Sequence[OutgoingMessage],
        effects: Sequence[Effect],
        now: int,
    ) -> StepResult:
        """Raises `UnknownEventError` for an event id never recorded, and the driver's
        `sqlite3.IntegrityError` for an impossible step (e.g. an order id placed twice);
        either way nothing of the step is saved."""
        step = ops.Step(event_id, customer, conversation, tuple(messages), tuple(effects), now)
        return await self._writer.submit(partial(ops.commit_step, step=step))

    # --- outbox ---------------------------------------------------------------------------------

    async def pending_outbox(self) -> list[OutboxMessage]:
        return await self._readers.run(ops.pending_outbox)

    async def get_outbox(self, outbox_id: int) -> OutboxMessage | None:
        """The message while it is still pending; None once sent or failed (or unknown), so
        a sender that re-reads it never sends it twice."""
        return await self._readers.run_inline(partial(ops.get_outbox, outbox_id=outbox_id))

    async def mark_sent(self, outbox_id: int, wamid: str, now: int) -> None:
        await self._writer.submit(partial(ops.mark_sent, outbox_id=outbox_id, wamid=wamid, now=now))

    async def mark_failed(self, outbox_id: int, error: str, now: int) -> None:
        await self._writer.submit(
            partial(ops.mark_failed, outbox_id=outbox_id, error=error, now=now)
        )

    async def record_attempt(self, outbox_id: int, error: str) -> None:
        await self._writer.submit(partial(ops.record_attempt, outbox_id=outbox_id, error=error))

    # --- jobs -----------------------------------------------------------------------------------

    async def pending_jobs(self) -> list[Job]:
        return await self._readers.run(ops.pending_jobs)

    async def get_job(self, job_id: int) -> Job | None:
        """The job while it is still pending; None once done (or unknown)."""
        return await self._readers.run_inline(partial(ops.get_job, job_id=job_id))

    async def finish_job(self, job_id: int, outcome: NewEvent | None, now: int) -> int | None:
        return await self._writer.submit(
            partial(ops.finish_job, job_id=job_id, outcome=outcome, now=now)
        )

    # --- orders ---------------------------------------------------------------------------------

    async def get_order(self, order_id: str) -> Order | None:
        return await self._readers.run_inline(partial(ops.get_order, order_id=order_id))

    async def list_orders(self, limit: int = 100) -> list[Order]:
        return await self._readers.run(partial(ops.list_orders, limit=limit))

    async def order_history(self, order_id: str) -> list[tuple[str, int, str]]:
        return await self._readers.run(partial(ops.order_history, order_id=order_id))
