"""The efficiency phase (issue 13): CPU per answered message of the bot against the ceiling bot
(bench/ceiling_bot.py), at the same fixed rates, as medians of interleaved repeated runs.

Method (BENCHMARKS.md, "Efficiency"): every run starts fresh stand-ins, a fresh bot (or
ceiling) and a fresh database, and sends one "hi" from each of `rate × duration` new customers,
open loop. The server's utime + stime from /proc, from just before the first send until the last
reply arrived, divided by the messages answered, is its µs per message (on Postgres the
database server's share is counted apart, bench/cpu.py). With two CPUs or more the bot (or the
ceiling) runs alone on one and the stand-ins and load generator on the others; the database
server is left where the kernel puts it. Each repeat runs the bot and the ceiling back to back,
which one first alternating from repeat to repeat, so that a machine that drifts moves both.
Efficiency is the median ceiling µs ÷ the median bot µs: 1.0 would be a bot that costs no
more than one that stores nothing.

Two pairings keep it like for like: "as shipped" is the bot with its defaults (a read receipt
with the typing indicator for each message, one more Graph call) against the ceiling with
`--read-receipt`; "no receipts" is the bot with READ_RECEIPTS=0 against the plain ceiling.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import procs, scenarios
from bench.database import Setup

Row = Mapping[str, Any]
Log = Callable[[str], None]

FIXED_RATES = (400.0, 800.0)


@dataclass(frozen=True)
class Pairing:
    """The bot's settings and the ceiling's matching behaviour, compared with each other."""

    name: str
    bot_env: Mapping[str, str]
    ceiling_read_receipt: bool


AS_SHIPPED = Pairing("as shipped", {}, ceiling_read_receipt=True)
NO_RECEIPTS = Pairing("no receipts", {"READ_RECEIPTS": "0"}, ceiling_read_receipt=False)
PAIRINGS: dict[str, tuple[Pairing, ...]] = {
    "on": (AS_SHIPPED,),
    "off": (NO_RECEIPTS,),
    "both": (AS_SHIPPED, NO_RECEIPTS),
}


@dataclass(frozen=True)
class Plan:
    """What one efficiency phase measures, and how."""

    setup: Setup
    rates: tuple[float, ...]
    repeats: int
    duration: float
    pairings: tuple[Pairing, ...]
    pinning: procs.Pinning
    generators: int = 1
    # With a folder: every run sampled by py-spy into it (raw stacks), and each row gets the
    # median CPU per message by layer for the bot and the ceiling (bench/profile_layers.py).
    # Sampling costs the profiled process about 5-10% more CPU, on both sides alike.
    profile_dir: Path | None = None


def rates_with(knee: float | None) -> tuple[float, ...]:
    """The fixed rates, and the knee when there is one (each rate once)."""
    return tuple(sorted({*FIXED_RATES, *([knee] if knee else [])}))


def kept_up(row: Row) -> bool:
    """Every message acknowledged and answered, reply p99 < 1 s. (The load phase's "sustained"
    also wants the answered rate within 5% of the offered one, which a sweep of a few seconds
    misses by its last replies' latency alone.)"""
    return bool(row["not_acked"] == 0 and row["unanswered"] == 0 and row["reply_p99_ms"] < 1000)


def knee_of(sweep: Sequence[Row]) -> float | None:
    """The highest rate of a load sweep the bot kept up with; None when it kept up with none."""
    return max((float(r["offered_rate"]) for r in sweep if kept_up(r)), default=None)


def find_knee(
    work: Path, plan: Plan, candidates: Sequence[float], duration: float, log: Log = print
) -> tuple[float | None, list[dict[str, Any]]]:
    """A short sweep of the bot (with the first pairing's settings) over `candidates`, up to
    the first rate it falls behind at."""
    rows: list[dict[str, Any]] = []
    for rate in candidates:
        rows.append(_run(work, plan, "bot", rate, duration, plan.pairings[0], log))
        if not kept_up(rows[-1]):
            break
    return knee_of(rows), rows


def measure(
    work: Path, plan: Plan, before_run: Callable[[], None] = lambda: None, log: Log = print
) -> list[dict[str, Any]]:
    """Every rate and pairing of the plan: `plan.repeats` pairs of runs each, summarized."""
    rows = []
    for rate in plan.rates:
        for pairing in plan.pairings:
            log(f"  {rate:g} msg/s, {pairing.name}: {plan.repeats} × (bot, ceiling)")
            runs: dict[str, list[dict[str, Any]]] = {"bot": [], "ceiling": []}
            for repeat in range(plan.repeats):
                for target in ("bot", "ceiling") if repeat % 2 == 0 else ("ceiling", "bot"):
                    before_run()
                    result = _run(
                        work, plan, target, rate, plan.duration, pairing, log, repeat=repeat
                    )
                    result["repeat"] = repeat
                    runs[target].append(result)
            rows.append(summarize(rate, pairing.name, runs["bot"], runs["ceiling"]))
            log(_summary_line(rows[-1]))
    return rows


def _run(
    work: Path,
    plan: Plan,
    target: str,
    rate: float,
    duration: float,
    pairing: Pairing,
    log: Log,
    *,
    repeat: int = 0,
) -> dict[str, Any]:
    profile = None
    if plan.profile_dir is not None:
        slug = pairing.name.replace(" ", "-")
        profile = plan.profile_dir / f"efficiency-{target}-{slug}-{rate:g}-{repeat}.txt"
    return scenarios.load_phase(
        work,
        rate,
        duration,
        setup=plan.setup,
        target=target,
        generators=plan.generators,
        bot_env=dict(pairing.bot_env),
        cpus=plan.pinning.server,
        read_receipt=pairing.ceiling_read_receipt,
        profile=profile,
        log=log,
    )


def _median(values: Sequence[float]) -> float:
    known = [v for v in values if not math.isnan(v)]
    return float(statistics.median(known)) if known else math.nan


def median_run(runs: Sequence[Row], key: str) -> Row:
    """The run whose `key` is the median (the lower of the middle two, for an even count)."""
    return sorted(runs, key=lambda r: _known(r[key]))[(len(runs) - 1) // 2]


def _known(value: float) -> float:
    return math.inf if math.isnan(value) else value


def _spread(values: Sequence[float]) -> list[float]:
    known = [v for v in values if not math.isnan(v)]
    return [min(known), max(known)] if known else [math.nan, math.nan]


def summarize(
    rate: float, pairing: str, bot_runs: Sequence[Row], ceiling_runs: Sequence[Row]
) -> dict[str, Any]:
    """Medians, spreads and the efficiency of one rate and pairing, every run kept beside."""
    us = "bot_cpu_us_per_message"
    bot = [float(r[us]) for r in bot_runs]
    ceiling = [float(r[us]) for r in ceiling_runs]
    bot_us, ceiling_us = _median(bot), _median(ceiling)
    typical_bot, typical_ceiling = median_run(bot_runs, us), median_run(ceiling_runs, us)
    return {
        "rate": rate,
        "pairing": pairing,
        "runs": min(len(bot_runs), len(ceiling_runs)),
        "bot_us": bot_us,
        "ceiling_us": ceiling_us,
        "efficiency": round(ceiling_us / bot_us, 2) if bot_us else math.nan,
        "bot_us_range": _spread(bot),
        "ceiling_us_range": _spread(ceiling),
        "db_us": _median([float(r.get("db_cpu_us_per_message", math.nan)) for r in bot_runs]),
        "bot_reply_p99_ms": typical_bot["reply_p99_ms"],
        "ceiling_reply_p99_ms": typical_ceiling["reply_p99_ms"],
        "bot_answered": [typical_bot["answered"], typical_bot["messages"]],
        "ceiling_answered": [typical_ceiling["answered"], typical_ceiling["messages"]],
        "other_cores_max": max(
            (r["cpu_cores"]["other"] for r in [*bot_runs, *ceiling_runs]), default=math.nan
        ),
        "bot_layers": median_layers(bot_runs),
        "ceiling_layers": median_layers(ceiling_runs),
        "bot_runs": list(bot_runs),
        "ceiling_runs": list(ceiling_runs),
    }


def median_layers(runs: Sequence[Row]) -> dict[str, float]:
    """Each layer's median µs per message over the profiled runs (a layer a run did not show
    counts as 0 there); empty when no run was profiled."""
    profiled = [r["profile_layers"] for r in runs if r.get("profile_layers")]
    layers = {layer for run in profiled for layer in run}
    medians = {layer: _median([run.get(layer, 0) for run in profiled]) for layer in layers}
    return dict(sorted(medians.items(), key=lambda item: -item[1]))


def _summary_line(row: Row) -> str:
    db = "" if math.isnan(row["db_us"]) else f" (+ database {row['db_us']:g} µs)"
    line = (
        f"    median bot {row['bot_us']:g} µs/msg{db}, ceiling {row['ceiling_us']:g} µs/msg: "
        f"efficiency {row['efficiency']:g}"
    )
    for side in ("bot", "ceiling"):
        if row.get(f"{side}_layers"):
            layers = ", ".join(f"{k} {v:g}" for k, v in row[f"{side}_layers"].items())
            line += f"\n      {side} by layer (µs/msg, py-spy): {layers}"
    return line
