"""`kill -9` of the real bot process in the middle of messages and payment webhooks, then a
restart on the same database: every acknowledged message is answered, every acknowledged
payment is confirmed exactly once, and duplicate sends stay within what can be in flight.

This runs `python -m bot` as a subprocess against the benchmark's stand-ins (bench/), with a
small load (240 messages, 12 payments); `python -m bench --phases kill` runs a larger one.
"""

from pathlib import Path

import pytest

from bench.scenarios import kill_and_recover

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
