"""The efficiency phase's own pieces (bench/efficiency.py, issue 13): medians and the ratio, the
knee taken from a sweep, where processes are pinned, the target line, the report's table, and
the ceiling bot making the same read-receipt call as the bot. The phase itself runs in
`python -m bench --phases efficiency`, not here."""

import asyncio
import math
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bench import ceiling_bot, payloads, procs, standins
from bench.efficiency import knee_of, rates_with, summarize
from bench.report import markdown
from bench.targets import evaluate
from bot.whatsapp.render import render_mark_read


def run(
    us: float, *, p99: float = 10.0, answered: int = 3200, other: float = 0.1
) -> dict[str, Any]:
    """One run's figures as the load phase reports them."""
    return {
        "bot_cpu_us_per_message": us,
        "db_cpu_us_per_message": math.nan,
        "reply_p99_ms": p99,
        "answered": answered,
        "messages": 3200,
        "cpu_cores": {"other": other},
    }


def test_efficiency_is_the_median_ceiling_over_the_median_bot() -> None:
    bots = [run(1100, p99=30), run(1000, p99=20), run(1300, p99=90)]
    ceilings = [run(520), run(450, other=0.6), run(500, p99=7)]

    row = summarize(800, "as shipped", bots, ceilings)

    assert (row["bot_us"], row["ceiling_us"]) == (1100, 500)
    assert row["efficiency"] == 0.45
    assert row["bot_us_range"] == [1000, 1300]
    assert row["ceiling_us_range"] == [450, 520]
    # Latency comes from the median runs, not from the worst.
    assert (row["bot_reply_p99_ms"], row["ceiling_reply_p99_ms"]) == (30, 7)
    assert row["other_cores_max"] == 0.6
    assert row["runs"] == 3
    assert row["bot_runs"] == bots  # every run's raw numbers are kept


def test_a_run_that_answered_nothing_does_not_count_towards_the_median() -> None:
    row = summarize(400, "no receipts", [run(1600), run(math.nan, answered=0)], [run(700)] * 2)

    assert row["bot_us"] == 1600
    assert row["efficiency"] == round(700 / 1600, 2)


def test_profiled_runs_give_each_layers_median_for_the_bot_and_the_ceiling() -> None:
    bots = [
        {**run(1000), "profile_layers": {"aiohttp": 500, "storage": 200}},
        {**run(1100), "profile_layers": {"aiohttp": 520, "storage": 240, "bot": 30}},
        {**run(1050), "profile_layers": {"aiohttp": 480, "storage": 220}},
    ]
    ceilings = [{**run(500), "profile_layers": {"aiohttp": 400}}, run(520)]

    row = summarize(800, "as shipped", bots, ceilings)

    # A layer a run did not show counts as 0 there; a run without a profile does not count.
    assert row["bot_layers"] == {"aiohttp": 500, "storage": 220, "bot": 0}
    assert list(row["bot_layers"]) == ["aiohttp", "storage", "bot"]
    assert row["ceiling_layers"] == {"aiohttp": 400}
    assert summarize(800, "as shipped", [run(1000)], [run(500)])["bot_layers"] == {}


def load_row(
    rate: float, *, reply_p99_ms: float = 20.0, unanswered: int = 0, achieved: float | None = None
) -> dict[str, Any]:
    return {
        "offered_rate": rate,
        "achieved_rate": rate if achieved is None else achieved,
        "not_acked": 0,
        "unanswered": unanswered,
        "reply_p99_ms": reply_p99_ms,
        "ack_p99_ms": 5.0,
    }


def test_the_knee_is_the_highest_rate_the_bot_kept_up_with() -> None:
    sweep = [load_row(1000), load_row(1250), load_row(1500, reply_p99_ms=1800)]
    assert knee_of(sweep) == 1250
    assert knee_of([load_row(1000, unanswered=3)]) is None
    # A short step's answered rate trails the offered one by its last replies' latency.
    assert knee_of([load_row(300, reply_p99_ms=600, achieved=265)]) == 300

    assert rates_with(1250) == (400, 800, 1250)
    assert rates_with(800) == (400, 800)  # measured once
    assert rates_with(None) == (400, 800)


def test_with_two_cpus_the_bot_gets_one_to_itself() -> None:
    plan = procs.pinning_plan({0, 1})
    assert plan.applied
    assert (plan.server, plan.rest) == (frozenset({0}), frozenset({1}))
    assert procs.pinning_plan({2, 3, 5}).rest == frozenset({3, 5})


def test_with_one_cpu_nothing_is_pinned_and_the_report_says_so() -> None:
    plan = procs.pinning_plan({3})
    assert not plan.applied
    assert (plan.server, plan.rest) == (None, None)
    assert "not pinned" in plan.describe()


def test_a_pinned_server_starts_on_its_cpu(tmp_path: Path) -> None:
    cpu = min(os.sched_getaffinity(0))
    ceiling = procs.start_ceiling(tmp_path, "http://127.0.0.1:9", cpus=frozenset({cpu}))
    try:
        assert os.sched_getaffinity(ceiling.pid) == {cpu}
    finally:
        ceiling.stop()


def efficiency_run(db: str, ratio: float) -> dict[str, Any]:
    row = {
        **summarize(800, "as shipped", [run(1000)], [run(1000 * ratio)]),
        "db_us": 400.0 if db == "postgres" else math.nan,
    }
    return {
        "db": db,
        "processes": 1,
        "label": f"{db}, 1 process",
        "efficiency": {
            "setup": f"{db}-1",
            "pinning": {"described": procs.pinning_plan({0, 1}).describe()},
            "knee": {"rate": 1250.0, "source": "--knee"},
            "repeats": 1,
            "duration": 8.0,
            "rows": [row],
        },
    }


def test_sqlite_as_shipped_is_held_to_eighty_percent_of_the_ceiling() -> None:
    [slow] = evaluate([efficiency_run("sqlite", 0.45)])
    [fast] = evaluate([efficiency_run("sqlite", 0.85)])

    assert "efficiency ≥ 0.8 at 800 msg/s (SQLite, as shipped)" in slow.target
    assert not slow.passed
    assert "ceiling 450 µs ÷ bot 1000 µs" in slow.measured
    assert fast.passed


def test_postgres_efficiency_is_reported_with_its_database_share_and_no_target() -> None:
    [check] = evaluate([efficiency_run("postgres", 0.3)])

    assert check.passed
    assert "(information)" in check.target
    assert "database server 400 µs" in check.measured


def test_the_report_shows_the_efficiency_table() -> None:
    text = markdown({"runs": [efficiency_run("postgres", 0.5)]})

    assert "efficiency: CPU per answered message against the ceiling" in text
    assert "pinned to CPU 0" in text
    assert "The knee: 1250 msg/s (--knee)" in text
    assert "| 800 | as shipped | 1,000 | 500 | 0.5 | 400 | 1 | 1,000–1,000; 500–500 |" in text
    assert "by layer" not in text  # nothing was profiled


def test_the_report_shows_the_layers_of_profiled_runs_bot_beside_ceiling() -> None:
    profiled = efficiency_run("sqlite", 0.5)
    [row] = profiled["efficiency"]["rows"]
    row["bot_layers"] = {"aiohttp": 560.0, "storage": 210.0}
    row["ceiling_layers"] = {"aiohttp": 470.0}

    text = markdown({"runs": [profiled]})

    assert "where the CPU goes, by layer (profiled runs)" in text
    assert "| 800 | as shipped | aiohttp | 560 | 470 |" in text
    assert "| 800 | as shipped | storage | 210 | 0 |" in text


@pytest.fixture
async def graph() -> AsyncIterator[str]:
    server = TestServer(standins.build_app(standins.Faults()), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url(""))
    await server.close()


async def ceiling_answers_one_hi(graph: str, *, read_receipt: bool) -> dict[str, Any]:
    """One signed "hi" to the ceiling bot; the Graph stand-in's counts once its reply came."""
    ceiling = TestServer(
        ceiling_bot.build_app(f"{graph}/v25.0", read_receipt=read_receipt), host="127.0.0.1"
    )
    await ceiling.start_server()
    body = payloads.whatsapp_body(
        "919800000001", "Asha", [payloads.message("919800000001", "wamid.hi", payloads.text("hi"))]
    )
    try:
        async with aiohttp.ClientSession() as session:
            webhook = ceiling.make_url("/webhooks/whatsapp")
            async with session.post(
                webhook, data=body, headers=payloads.whatsapp_headers(body)
            ) as response:
                assert response.status == 200
            for _ in range(200):
                async with session.get(f"{graph}/bench/stats") as response:
                    stats: dict[str, Any] = await response.json()
                if stats["graph_accepted"] and stats["graph_reads"] >= read_receipt:
                    return stats
                await asyncio.sleep(0.05)
            return stats
    finally:
        await ceiling.close()


async def test_the_ceiling_with_read_receipts_marks_read_and_replies(graph: str) -> None:
    stats = await ceiling_answers_one_hi(graph, read_receipt=True)

    assert stats["graph_accepted"] == 1  # the reply, the only thing counted as one
    assert stats["graph_reads"] == 1
    assert ceiling_bot.read_receipt("wamid.hi") == render_mark_read("wamid.hi", typing=True)


async def test_the_plain_ceiling_only_replies(graph: str) -> None:
    stats = await ceiling_answers_one_hi(graph, read_receipt=False)

    assert (stats["graph_accepted"], stats["graph_reads"]) == (1, 0)
