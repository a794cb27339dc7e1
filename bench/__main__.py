"""The benchmark and the long fault runs, in one command.

    python -m bench            # the full run (~6 minutes on 2 cores)
    python -m bench --quick    # about a minute: fewer rates, shorter phases
    python -m bench --phases load,checkout --rates 500,1000 --duration 10

Everything runs on 127.0.0.1: the real bot (`python -m bot`, BOT_MODE=live, a temporary
SQLite file, LOG_LEVEL=WARNING), minimal Graph/Razorpay stand-ins in a process of their own
(bench/standins.py) and forked open-loop load generators. Results go to
bench/results/<profile>.json, the plot to bench/reply_latency.png, and a Markdown table to
stdout (BENCHMARKS.md quotes it).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import report, scenarios

HERE = Path(__file__).resolve().parent

PROFILES: dict[str, dict[str, Any]] = {
    "full": {
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
    },
    "quick": {
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
    },
}
ALL_PHASES = (
    "load",
    "ceiling",
    "checkout",
    "carts",
    "kill",
    "graph-faults",
    "razorpay-faults",
    "slow-body",
    "hostile-input",
)
QUICK_PHASES = ("load", "ceiling", "checkout", "carts", "kill", "slow-body", "hostile-input")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="about a minute")
    parser.add_argument("--phases", help=f"comma-separated subset of {','.join(ALL_PHASES)}")
    parser.add_argument("--rates", help="comma-separated offered rates (msg/s) for the sweep")
    parser.add_argument("--duration", type=float, help="seconds per rate")
    parser.add_argument("--processes", type=int, default=1, help="load generator processes")
    parser.add_argument("--out", type=Path, help="results JSON (default bench/results/...)")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy the bot during each load rate: DIR/bot-<rate>.svg and .txt (collapsed)",
    )
    args = parser.parse_args(argv)

    profile_name = "quick" if args.quick else "full"
    profile = dict(PROFILES[profile_name])
    if args.rates:
        profile["rates"] = [float(r) for r in args.rates.split(",")]
    if args.duration:
        profile["duration"] = args.duration
    phases = (
        tuple(args.phases.split(",")) if args.phases else QUICK_PHASES if args.quick else ALL_PHASES
    )
    unknown = set(phases) - set(ALL_PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")

    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"profile": profile_name, "settings": profile, "phases": phases}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = Path(tmp)
        log = print
        if "load" in phases:
            log("open-loop load sweep: the bot")
            results["load"] = [
                scenarios.load_phase(
                    work,
                    rate,
                    profile["duration"],
                    processes=args.processes,
                    log=log,
                    profile=args.profile / f"bot-{rate:g}.svg" if args.profile else None,
                )
                for rate in profile["rates"]
            ]
        if "ceiling" in phases:
            log("open-loop load sweep: the smallest possible aiohttp bot (the machine's ceiling)")
            results["ceiling"] = [
                scenarios.load_phase(
                    work,
                    rate,
                    profile["duration"],
                    target="ceiling",
                    processes=args.processes,
                    log=log,
                )
                for rate in profile["ceiling_rates"]
            ]
        if "checkout" in phases:
            log("checkout mix: hi → catalog order → address → Pay now → paid webhook")
            results["checkout"] = scenarios.checkout_phase(
                work,
                profile["checkout_customers"],
                profile["checkout_rate"],
                background_rate=profile["checkout_background"],
                log=log,
            )
        if "carts" in phases:
            log("open carts and memory")
            results["carts"] = scenarios.carts_phase(
                work, profile["carts"], profile["carts_rate"], log=log
            )
        if "kill" in phases:
            log("kill -9 in the middle of messages and payments")
            results["kill"] = scenarios.kill_phase(
                work,
                messages=profile["kill_messages"],
                payments=profile["kill_payments"],
                rate=profile["kill_rate"],
                log=log,
            )
        if "graph-faults" in phases:
            log("Graph API faults: 30% 500, 10% 429; then 2 s answers")
            results["graph_faults"] = [
                scenarios.graph_faults_phase(
                    work,
                    profile["fault_customers"],
                    faults={"graph_error_rate": 0.3, "graph_429_rate": 0.1},
                    log=log,
                ),
                scenarios.graph_faults_phase(
                    work, profile["fault_customers"], faults={"graph_latency": 2.0}, log=log
                ),
            ]
        if "razorpay-faults" in phases:
            log("Razorpay faults: 20% 500 and 20% time out after creating the link")
            results["razorpay_faults"] = scenarios.checkout_phase(
                work,
                profile["razorpay_fault_customers"],
                20.0,
                faults={
                    "razorpay_error_rate": 0.2,
                    "razorpay_timeout_after_create": 0.2,
                    "razorpay_hang": 4.0,
                },
                bot_env={"HTTP_TIMEOUT_SECONDS": "2", "RETRY_BASE_SECONDS": "0.2"},
                log=log,
            )
        if "slow-body" in phases:
            log("slow bodies: strangers hold connections with 3 MiB bodies (asserts bounds)")
            results["slow_body"] = scenarios.slow_body_phase(
                work, profile["slow_body_connections"], profile["slow_body_seconds"], log=log
            )
        if "hostile-input" in phases:
            log("hostile signed input: 3 MiB catalog orders, texts and names, one at a time")
            results["hostile_input"] = scenarios.hostile_input_phase(work, log=log)
    results["seconds"] = round(time.monotonic() - started, 1)
    out = args.out or HERE / "results" / f"{profile_name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nresults: {out} ({results['seconds']} s)\n")
    print(report.markdown(results))
    if not args.no_plot and results.get("load"):
        plot = HERE / "reply_latency.png" if profile_name == "full" else out.with_suffix(".png")
        report.plot(results, plot)
        print(f"plot: {plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
