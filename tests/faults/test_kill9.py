"""`kill -9` of the real bot process in the middle of messages and payment webhooks, then a
restart on the same database: every acknowledged message is answered, every acknowledged
payment is confirmed exactly once, and duplicate sends stay within what can be in flight.

This runs `python -m bot` as a subprocess against the benchmark's stand-ins (bench/), with a
small load (240 messages, 12 payments); `python -m bench --phases kill` runs a larger one.
"""

from pathlib import Path

import pytest

from bench.database import Setup
from bench.scenarios import kill_and_recover
from tests.support.databases import require_postgres

pytestmark = pytest.mark.timeout(180)


async def test_kill_9_under_load_loses_nothing_and_confirms_each_payment_once(
    tmp_path: Path,
) -> None:
    result = await kill_and_recover(
        tmp_path, messages=240, payments=12, rate=200.0, log=lambda _: None
    )
    print(result)  # the counts, duplicates included, for whoever reads the log
    assert result["acked_before_kill"] > 0
    assert result["not_acked_before_kill"] > 0, "the kill should land during the load"
    assert result["kill_problems"] == []
    assert result["duplicate_sends"] <= result["in_flight_bound"]


@pytest.fixture
def postgres_server_url() -> str:
    """The test server's admin URL: the benchmark's scenario creates its own database there."""
    return require_postgres().admin_url


async def test_kill_9_of_one_of_three_postgres_processes_loses_nothing(
    tmp_path: Path, postgres_server_url: str
) -> None:
    """Three bot processes on one Postgres database, deliveries spread across them at random;
    one is killed mid-load and never comes back: the other two finish its acknowledged work,
    every message answered in order per customer, every payment confirmed once."""
    setup = Setup(db="postgres", processes=3, server=postgres_server_url)
    result = await kill_and_recover(
        tmp_path, messages=240, payments=12, rate=150.0, setup=setup, log=lambda _: None
    )
    print(result)
    assert result["acked_before_kill"] > 0
    assert result["not_acked_before_kill"] > 0, "the kill should land during the load"
    assert result["kill_problems"] == []
    assert result["duplicate_sends"] <= result["in_flight_bound"]
