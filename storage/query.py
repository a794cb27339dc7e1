"""Operations as data: one SQL text for both backends, run by either driver.

An operation (`Op`) is a generator that yields `Query` objects and is sent back each query's
rows (h11's sans-I/O idea applied to SQL). It holds the logic of a unit of work — which
statements, in which order, depending on what the previous ones returned — and no driver:
`run_sqlite` runs it synchronously on a `sqlite3` connection inside the SQLite writer's batch,
`run_postgres` awaits each statement on an asyncpg connection. So the SQL and the control
flow around it are written once.

SQL is written with `?` placeholders (SQLite's); `postgres_sql` numbers them `$1, $2, …` for
asyncpg. Rows are read by column name or position, which both `sqlite3.Row` and asyncpg's
`Record` support.
"""

import sqlite3
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Row(Protocol):
    def __getitem__(self, key: str | int, /) -> Any: ...


Rows = Sequence[Row]


@dataclass(frozen=True, slots=True)
class Query:
    sql: str  # `?` placeholders; values only ever travel as parameters
    params: tuple[Any, ...] = ()


Op = Generator[Query, Rows, T]
"""Yields queries, receives their rows, returns its result."""

OpFactory = Callable[[], Op[T]]
"""Makes a fresh operation: a generator runs once, a factory as often as a backend retries."""


def run_sqlite(make_op: OpFactory[T], conn: sqlite3.Connection) -> T:
    """Run an operation on a SQLite connection (inside whatever transaction the caller holds).
    Every statement is read to the end: an unfinished one would block a later RELEASE or
    COMMIT."""
    op = make_op()
    try:
        query = next(op)
        while True:
            query = op.send(conn.execute(query.sql, query.params).fetchall())
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


# Functions the two dialects spell differently; the SQL is written in SQLite's spelling.
# json_group_object over no rows is '{}' in SQLite and NULL in Postgres: readers take both.
_POSTGRES_SPELLING = {"json_group_object(": "json_object_agg("}


@lru_cache(maxsize=512)
def postgres_sql(sql: str) -> str:
    """Number the `?` placeholders `$1, $2, …` for Postgres, leaving string literals alone,
    and respell the functions in `_POSTGRES_SPELLING`."""
    for sqlite_name, postgres_name in _POSTGRES_SPELLING.items():
        sql = sql.replace(sqlite_name, postgres_name)
    out: list[str] = []
    number = 0
    in_literal = False
    for char in sql:
        if char == "'":
            in_literal = not in_literal
        elif char == "?" and not in_literal:
            number += 1
            out.append(f"${number}")
            continue
        out.append(char)
    return "".join(out)
