"""The benchmark and the long fault runs, in one command.

    python -m bench                   # SQLite, one bot process, the full run (~6 minutes)
    python -m bench --quick           # about a minute: fewer rates, shorter phases
    python -m bench --phases load,checkout --rates 500,1000 --duration 10
    python -m bench --db postgres     # Postgres with 1, 2 and 3 bot processes, beside a SQLite
                                      # load sweep for reference (~10 minutes; --quick ~3)
    python -m bench --db postgres --processes 2 --phases kill
    python -m bench --phases efficiency --repeats 5 --knee 1250   # CPU per message, bot ÷ ceiling

Everything runs on 127.0.0.1: the real bot (`python -m bot`, BOT_MODE=live, LOG_LEVEL=WARNING)
on a fresh database per phase (a temporary SQLite file, or a new database on the Postgres
server, migrated with `python -m bot migrate` first), minimal Graph/Razorpay stand-ins in a
process of their own (bench/standins.py) and forked open-loop load generators. With several
bot processes every delivery goes to one of them at random. Results go to
bench/results/<profile>.json, the plot to bench/reply_latency.png, Markdown tables and a
PASS/FAIL line per target to stdout (BENCHMARKS.md quotes them); the exit status is 1 when
a target failed.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import cpu, efficiency, procs, report, scenarios, targets
from bench.database import DEFAULT_SERVER, Setup

HERE = Path(__file__).resolve().parent
DISTURBED_CORES = 0.3  # CPU used by anything else during a measurement, beyond which it is noted

SQLITE_FULL: dict[str, Any] = {
    "rates": [250, 500, 750, 1000, 1250, 1500],
    "duration": 15.0,
    "ceiling_rates": [1000, 1500, 2000, 2500, 3000],
    "checkout_customers": 1000,
    "checkout_rate": 50.0,
    "checkout_background": 500.0,
    "carts": 10_000,
    "carts_rate": 1000.0,
    "kill_messages": 3000,
    "kill_payments": 100,
    "kill_rate": 500.0,
    "fault_customers": 200,
    "razorpay_fault_customers": 200,
    "slow_body_connections": 150,
    "slow_body_seconds": 20.0,
    "efficiency_repeats": 5,
    "efficiency_duration": 8.0,
    "efficiency_receipts": "both",
    "knee_rates": [1000, 1250, 1500, 1750],  # when no --knee and no load sweep in the run
    "knee_duration": 3.0,
}
SQLITE_QUICK: dict[str, Any] = {
    "rates": [500, 1000],
    "duration": 6.0,
    "ceiling_rates": [1500],
    "checkout_customers": 150,
    "checkout_rate": 30.0,
    "checkout_background": 0.0,
    "carts": 3000,
    "carts_rate": 1000.0,
    "kill_messages": 600,
    "kill_payments": 20,
    "kill_rate": 300.0,
    "fault_customers": 30,
    "razorpay_fault_customers": 30,
    "slow_body_connections": 150,
    "slow_body_seconds": 6.0,
    "efficiency_repeats": 2,
    "efficiency_duration": 4.0,
    "efficiency_receipts": "on",
    "knee_rates": [1000, 1250, 1500, 1750],
    "knee_duration": 3.0,
}
# Postgres runs three setups in the time SQLite runs one: shorter steps, a finer grid at the
# low end (where it is today), smaller fault runs. The checkout's background stays well below
# what one process sustains (it measures latency, not a queue); the kill phase runs above what
# the machine sustains (about 300/s), so a backlog builds and the killed process dies with
# acknowledged work in hand that the others must finish.
POSTGRES_FULL: dict[str, Any] = {
    **SQLITE_FULL,
    "rates": [100, 150, 200, 300, 400, 500, 750, 1000, 1250],
    "duration": 10.0,
    "checkout_customers": 300,
    "checkout_rate": 10.0,
    "checkout_background": 50.0,
    "kill_messages": 1500,
    "kill_payments": 50,
    "kill_rate": 400.0,
    "fault_customers": 100,
    "razorpay_fault_customers": 100,
    "knee_rates": [300, 400, 500, 600],
}
POSTGRES_QUICK: dict[str, Any] = {
    **SQLITE_QUICK,
    "rates": [100, 200, 400],
    "duration": 5.0,
    "checkout_customers": 60,
    "checkout_rate": 10.0,
    "kill_messages": 600,
    "kill_payments": 20,
    "kill_rate": 400.0,
    "fault_customers": 30,
    "razorpay_fault_customers": 30,
    "knee_rates": [300, 400, 500, 600],
}
PROFILES: dict[tuple[str, str], dict[str, Any]] = {
    ("full", "sqlite"): SQLITE_FULL,
    ("quick", "sqlite"): SQLITE_QUICK,
    ("full", "postgres"): POSTGRES_FULL,
    ("quick", "postgres"): POSTGRES_QUICK,
}
ALL_PHASES = (
    "load",
    "efficiency",
    "ceiling",
    "checkout",
    "carts",
    "kill",
    "graph-faults",
    "razorpay-faults",
    "slow-body",
    "hostile-input",
)
DEFAULT_PHASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("full", "sqlite"): ALL_PHASES,
    ("quick", "sqlite"): (
        "load",
        "efficiency",
        "ceiling",
        "checkout",
        "carts",
        "kill",
        "slow-body",
        "hostile-input",
    ),
    ("full", "postgres"): (
        "load",
        "efficiency",
        "checkout",
        "kill",
        "graph-faults",
        "razorpay-faults",
    ),
    ("quick", "postgres"): ("load", "efficiency", "checkout", "kill", "graph-faults"),
}


def _processes(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("a number of processes, or several: 1,2,3") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("at least one process")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a short version of each phase")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--processes",
        type=_processes,
        help="bot processes on one database, or a list to run each in turn "
        "(default: 1 on SQLite, 1,2,3 on Postgres; more than 1 needs --db postgres)",
    )
    parser.add_argument(
        "--database-server",
        default=os.environ.get("BENCH_DATABASE_SERVER", DEFAULT_SERVER),
        help="Postgres to create the phases' databases on (a role that may CREATE DATABASE; "
        f"default $BENCH_DATABASE_SERVER or {DEFAULT_SERVER})",
    )
    parser.add_argument(
        "--no-reference",
        action="store_true",
        help="with --db postgres, skip the SQLite load sweep the Postgres rates are held to",
    )
    parser.add_argument("--phases", help=f"comma-separated subset of {','.join(ALL_PHASES)}")
    parser.add_argument("--rates", help="comma-separated offered rates (msg/s) for the sweep")
    parser.add_argument("--duration", type=float, help="seconds per rate")
    parser.add_argument(
        "--generators", type=int, default=1, help="load generator processes (forked)"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each phase, wait up to this long for the rest of the machine to go "
        "(nearly) idle; what else ran is reported either way",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=0,
        help="repeat a load step or checkout disturbed by other work on the machine "
        f"(> {DISTURBED_CORES} cores besides the benchmark's own processes) up to this many "
        "times, keeping the least disturbed",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        help="efficiency phase: runs of the bot and of the ceiling per rate (default 5, quick 2)",
    )
    parser.add_argument(
        "--knee",
        type=float,
        help="efficiency phase: the third rate, beside 400 and 800 msg/s (default: the highest "
        "rate of this run's load sweep with every message answered and reply p99 < 1 s, else "
        "a short sweep finds it)",
    )
    parser.add_argument(
        "--receipts",
        choices=tuple(efficiency.PAIRINGS),
        help="efficiency phase: the bot with read receipts (on, against the ceiling with "
        "--read-receipt), without (off, against the plain ceiling), or both (default both, "
        "quick on)",
    )
    parser.add_argument("--out", type=Path, help="results JSON (default bench/results/...)")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep the processes' logs and SQLite files here (default: a temporary directory)",
    )
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy the (first) bot, and the ceiling, during each load rate: "
        "DIR/bot-<setup>-<rate>.svg (a flame graph) or, with --profile-format raw, .txt "
        "(collapsed stacks), and then the CPU per message by layer (bench/profile_layers.py)",
    )
    parser.add_argument(
        "--profile-format",
        choices=["flamegraph", "raw"],
        default="flamegraph",
        help="flamegraph (default): an SVG per load rate, GIL-holding samples; raw: collapsed "
        "stacks of every thread on the CPU, a table by layer, and the efficiency phase's runs "
        "profiled too (each row then shows the bot's and the ceiling's layers)",
    )
    args = parser.parse_args(argv)

    profile_name = "quick" if args.quick else "full"
    profile = dict(PROFILES[profile_name, args.db])
    if args.rates:
        profile["rates"] = [float(r) for r in args.rates.split(",")]
    if args.duration:
        profile["duration"] = args.duration
    if args.repeats:
        profile["efficiency_repeats"] = args.repeats
    if args.receipts:
        profile["efficiency_receipts"] = args.receipts
    phases = tuple(args.phases.split(",")) if args.phases else DEFAULT_PHASES[profile_name, args.db]
    unknown = set(phases) - set(ALL_PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    counts = args.processes or ([1, 2, 3] if args.db == "postgres" else [1])
    if "efficiency" in phases and 1 not in counts:
        print("efficiency: not measured (it runs one bot process; add 1 to --processes)")
    try:
        setups = [Setup(args.db, n, args.database_server) for n in counts]
    except ValueError as error:
        parser.error(str(error))
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)

    results: dict[str, Any] = {
        "profile": profile_name,
        "db": args.db,
        "settings": profile,
        "phases": phases,
        "bot_version": procs.bot_version(),
        "runs": [],
    }
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if args.workdir:
            args.workdir.mkdir(parents=True, exist_ok=True)
            work = args.workdir
        else:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        if args.db == "postgres" and "load" in phases and not args.no_reference:
            # SQLite's rates, each held as long as Postgres's: like against like, same hour.
            rates = PROFILES[profile_name, "sqlite"]["rates"]
            print("open-loop load sweep: SQLite, 1 process (the reference for Postgres)")
            started_reference = time.monotonic()
            load = _sweep(work, Setup(), rates, profile["duration"], args)
            results["runs"].append(
                {
                    **_describe(Setup()),
                    "reference": True,
                    "load": load,
                    "seconds": {"load": round(time.monotonic() - started_reference, 1)},
                }
            )
        for k, setup in enumerate(setups):
            print(f"\n=== {setup.label} ===")
            run = {**_describe(setup), **_run_phases(work, setup, profile, phases, args)}
            if k == 0 and "ceiling" in phases:
                print("open-loop load sweep: the smallest possible aiohttp bot (the ceiling)")
                run["ceiling"] = [
                    scenarios.load_phase(
                        work,
                        rate,
                        profile["duration"],
                        target="ceiling",
                        generators=args.generators,
                        profile=_profile_path(args, f"ceiling-{rate:g}"),
                    )
                    for rate in profile["ceiling_rates"]
                ]
            results["runs"].append(run)
    checks = targets.evaluate(results["runs"])
    results["targets"] = [check.__dict__ for check in checks]
    results["seconds"] = round(time.monotonic() - started, 1)
    out = (
        args.out
        or HERE / "results" / f"{profile_name}{'-postgres' if args.db == 'postgres' else ''}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nresults: {out} ({results['seconds']} s)\n")
    print(report.markdown(results, with_targets=False))
    if not args.no_plot and any(run.get("load") for run in results["runs"]):
        # The full runs' plots are the ones BENCHMARKS.md shows.
        plot = (
            HERE / ("reply_latency.png" if args.db == "sqlite" else "reply_latency_postgres.png")
            if profile_name == "full" and not args.out
            else out.with_suffix(".png")
        )
        report.plot(results, plot)
        print(f"plot: {plot}")
    print("\n".join(check.line() for check in checks))
    return 1 if any(not check.passed for check in checks) else 0


def _least_disturbed(
    args: argparse.Namespace, measure: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Measure; again (up to --retries times) while other work on the machine took more than
    DISTURBED_CORES during the measurement; the least disturbed attempt counts."""
    attempts = []
    for _ in range(1 + max(0, args.retries)):
        _quiet(args)
        attempts.append(measure())
        if attempts[-1]["cpu_cores"]["other"] <= DISTURBED_CORES:
            break
        print(f"    (other work used {attempts[-1]['cpu_cores']['other']} cores meanwhile)")
    best = min(attempts, key=lambda a: a["cpu_cores"]["other"])
    best["attempts_other_cores"] = [a["cpu_cores"]["other"] for a in attempts]
    return best


def _quiet(args: argparse.Namespace) -> None:
    if args.wait_quiet > 0:
        busy, waited = cpu.wait_for_quiet(args.wait_quiet)
        if waited >= 2.5:
            print(f"  (waited {waited:.0f} s for the machine to quieten: {busy:.2f} cores busy)")


def _describe(setup: Setup) -> dict[str, Any]:
    return {"db": setup.db, "processes": setup.processes, "label": setup.label}


def _profile_path(args: argparse.Namespace, name: str) -> Path | None:
    if args.profile is None:
        return None
    return args.profile / f"{name}.{'txt' if args.profile_format == 'raw' else 'svg'}"


def _sweep(
    work: Path, setup: Setup, rates: list[float], duration: float, args: argparse.Namespace
) -> list[dict[str, Any]]:
    """The load phase at each rate in turn, up to the first one the bot cannot keep up with
    (beyond it only the queue grows, and each step would take longer for nothing)."""
    rows = []
    for rate in rates:
        row = _least_disturbed(
            args,
            lambda rate=rate: scenarios.load_phase(
                work,
                rate,
                duration,
                setup=setup,
                generators=args.generators,
                profile=_profile_path(args, f"bot-{setup.key}-{rate:g}"),
            ),
        )
        rows.append(row)
        if targets.sustained_row([row]) is None:
            break
    return rows


def _efficiency(
    work: Path,
    setup: Setup,
    profile: dict[str, Any],
    load: list[dict[str, Any]] | None,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """The efficiency phase on this setup: pinned where the machine allows, at 400, 800 msg/s
    and the knee (from --knee, else this run's load sweep, else a short sweep of its own)."""
    pinning = procs.pinning_plan(os.sched_getaffinity(0))
    print(f"  {pinning.describe()}")
    plan = efficiency.Plan(
        setup,
        efficiency.FIXED_RATES,
        profile["efficiency_repeats"],
        profile["efficiency_duration"],
        efficiency.PAIRINGS[profile["efficiency_receipts"]],
        pinning,
        args.generators,
    )
    with procs.pinned_here(pinning.rest):
        knee = _knee(work, plan, profile, load, args)
        print(f"  the knee: {_f(knee['rate'])} msg/s ({knee['source']})")
        plan = dataclasses.replace(
            plan,
            rates=efficiency.rates_with(knee["rate"]),
            # Only raw stacks give layers; a flame graph per run would be dozens of files.
            profile_dir=args.profile if args.profile_format == "raw" else None,
        )
        rows = efficiency.measure(work, plan, before_run=lambda: _quiet(args))
    return {
        "setup": setup.key,
        "pinning": {
            "applied": pinning.applied,
            "server_cpus": sorted(pinning.server or []),
            "other_cpus": sorted(pinning.rest or []),
            "described": pinning.describe(),
        },
        "knee": knee,
        "repeats": plan.repeats,
        "duration": plan.duration,
        "rows": rows,
    }


def _knee(
    work: Path,
    plan: efficiency.Plan,
    profile: dict[str, Any],
    load: list[dict[str, Any]] | None,
    args: argparse.Namespace,
) -> dict[str, Any]:
    if args.knee:
        return {"rate": args.knee, "source": "--knee"}
    if load and efficiency.knee_of(load):
        return {"rate": efficiency.knee_of(load), "source": "this run's load sweep"}
    candidates = profile["knee_rates"]
    print(f"  a short sweep for the knee: {', '.join(f'{r:g}' for r in candidates)} msg/s")
    rate, sweep = efficiency.find_knee(work, plan, candidates, profile["knee_duration"])
    if rate is None:
        source = f"a short sweep: kept up with none from {candidates[0]:g}"
    elif rate == max(candidates):
        source = "a short sweep: kept up with every rate tried, so the knee is at least this"
    else:
        source = "a short sweep"
    return {"rate": rate, "source": source, "sweep": sweep}


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _run_phases(
    work: Path,
    setup: Setup,
    profile: dict[str, Any],
    phases: tuple[str, ...],
    args: argparse.Namespace,
) -> dict[str, Any]:
    run: dict[str, Any] = {"seconds": {}}

    def timed(phase: str, key: str, title: str, measure: Callable[[], Any]) -> None:
        if phase not in phases:
            return
        print(title)
        if phase not in ("load", "checkout"):  # those wait before each attempt
            _quiet(args)
        started = time.monotonic()
        run[key] = measure()
        run["seconds"][phase] = round(time.monotonic() - started, 1)

    timed(
        "load",
        "load",
        "open-loop load sweep: the bot",
        lambda: _sweep(work, setup, profile["rates"], profile["duration"], args),
    )
    if setup.processes == 1:
        timed(
            "efficiency",
            "efficiency",
            "efficiency: CPU per answered message, the bot against the ceiling bot",
            lambda: _efficiency(work, setup, profile, run.get("load"), args),
        )
    timed(
        "checkout",
        "checkout",
        "checkout mix: hi → catalog order → address → Pay now → paid webhook",
        lambda: _least_disturbed(
            args,
            lambda: scenarios.checkout_phase(
                work,
                profile["checkout_customers"],
                profile["checkout_rate"],
                setup=setup,
                background_rate=profile["checkout_background"],
            ),
        ),
    )
    timed(
        "carts",
        "carts",
        "open carts and memory",
        lambda: scenarios.carts_phase(work, profile["carts"], profile["carts_rate"], setup=setup),
    )
    timed(
        "kill",
        "kill",
        "kill -9 in the middle of messages and payments",
        lambda: scenarios.kill_phase(
            work,
            messages=profile["kill_messages"],
            payments=profile["kill_payments"],
            rate=profile["kill_rate"],
            setup=setup,
        ),
    )
    timed(
        "graph-faults",
        "graph_faults",
        "Graph API faults: 30% 500, 10% 429; then 2 s answers",
        lambda: [
            scenarios.graph_faults_phase(
                work,
                profile["fault_customers"],
                faults={"graph_error_rate": 0.3, "graph_429_rate": 0.1},
                setup=setup,
            ),
            scenarios.graph_faults_phase(
                work, profile["fault_customers"], faults={"graph_latency": 2.0}, setup=setup
            ),
        ],
    )
    timed(
        "razorpay-faults",
        "razorpay_faults",
        "Razorpay faults: 20% 500 and 20% time out after creating the link",
        lambda: scenarios.checkout_phase(
            work,
            profile["razorpay_fault_customers"],
            20.0,
            setup=setup,
            faults={
                "razorpay_error_rate": 0.2,
                "razorpay_timeout_after_create": 0.2,
                "razorpay_hang": 4.0,
            },
            bot_env={"HTTP_TIMEOUT_SECONDS": "2", "RETRY_BASE_SECONDS": "0.2"},
        ),
    )
    timed(
        "slow-body",
        "slow_body",
        "slow bodies: strangers hold connections with 3 MiB bodies (asserts bounds)",
        lambda: scenarios.slow_body_phase(
            work, profile["slow_body_connections"], profile["slow_body_seconds"], setup=setup
        ),
    )
    timed(
        "hostile-input",
        "hostile_input",
        "hostile signed input: 3 MiB catalog orders, texts and names, one at a time",
        lambda: scenarios.hostile_input_phase(work, setup=setup),
    )
    return run


if __name__ == "__main__":
    sys.exit(main())
