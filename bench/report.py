"""Markdown tables, target lines and the latency plot from a results JSON.

python -m bench.report bench/results/full.json [--plot bench/reply_latency.png]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.targets import Check, evaluate, sustained, sustained_row

Row = Mapping[str, Any]


def _f(value: Any) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:g}"
    return str(value)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_f(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _cores(row: Row, role: str) -> Any:
    return row.get("cpu_cores", {}).get(role, math.nan)


def load_table(rows: Sequence[Row]) -> str:
    return _table(
        [
            "offered msg/s",
            "generator sent/s",
            "answered/s",
            "ack p50 ms",
            "ack p99 ms",
            "reply p50 ms",
            "reply p99 ms",
            "not acked",
            "unanswered",
            "dup replies",
            "peak RSS MiB",
            "bot CPU µs/msg",
            "DB CPU µs/msg",
            "cores: bots / DB / other",
        ],
        [
            [
                r["offered_rate"],
                r["generator_send_rate"],
                r["achieved_rate"],
                r["ack_p50_ms"],
                r["ack_p99_ms"],
                r["reply_p50_ms"],
                r["reply_p99_ms"],
                r["not_acked"],
                r["unanswered"],
                r["duplicate_replies"],
                r.get("bot_VmHWM_kib", 0) // 1024,
                r.get("bot_cpu_us_per_message", math.nan),
                r.get("db_cpu_us_per_message", math.nan),
                " / ".join(_f(_cores(r, k)) for k in ("bots", "db", "other")),
            ]
            for r in rows
        ],
    )


def comparison_table(runs: Sequence[Row]) -> str:
    """One line per setup: the sustained rate and what it cost, the checkout's confirmation
    latency, the kill -9 outcome."""
    lines = []
    for run in runs:
        rows = run.get("load") or []
        row = sustained_row(rows) if rows else None
        # CPU per message at the sustained rate (or the lowest rate tried, if none was).
        costed = row or (rows[0] if rows else {})
        checkout = run.get("checkout") or {}
        kill = run.get("kill") or {}
        lines.append(
            [
                run["label"] + (" (reference)" if run.get("reference") else ""),
                sustained(rows) if rows else math.nan,
                row["reply_p99_ms"] if row else math.nan,
                row["ack_p99_ms"] if row else math.nan,
                costed.get("bot_cpu_us_per_message", math.nan),
                costed.get("db_cpu_us_per_message", math.nan)
                if run["db"] == "postgres"
                else "in the bot",
                costed.get("db_transactions_per_message", math.nan),
                checkout.get("confirm_p99_ms", math.nan),
                _kill_summary(kill) if kill else "–",
            ]
        )
    return _table(
        [
            "setup",
            "sustained msg/s",
            "reply p99 ms",
            "ack p99 ms",
            "bot CPU µs/msg",
            "DB CPU µs/msg",
            "DB commits/msg",
            "payment→confirmation p99 ms",
            "kill -9: lost / confirmed twice / out of order; left by the killed one, finished in",
        ],
        lines,
    )


def _kill_summary(kill: Row) -> str:
    lost = kill["acked_messages_unanswered"] + kill["acked_payments_not_confirmed"]
    return (
        f"{lost} / {kill['payments_confirmed_more_than_once']} / "
        f"{kill.get('customers_answered_out_of_order', 0)}; "
        f"{kill.get('left_unanswered_by_killed_process', '–')} in "
        f"{_f(kill.get('victim_work_done_s', math.nan))} s"
        + (" (restarted)" if kill.get("restarted", True) else "")
    )


def markdown(results: Mapping[str, Any], *, with_targets: bool = True) -> str:
    runs = results.get("runs") or []
    out: list[str] = []
    if len(runs) > 1:
        out += ["### Setups side by side", "", comparison_table(runs), ""]
    for run in runs:
        out += _run_markdown(run, several=len(runs) > 1)
    checks = [Check(**c) for c in results["targets"]] if "targets" in results else evaluate(runs)
    if checks and with_targets:
        out += ["### Targets", "", *[f"- {check.line()}" for check in checks], ""]
    return "\n".join(out)


def _run_markdown(run: Row, *, several: bool) -> list[str]:
    label = run["label"] + (" (reference)" if run.get("reference") else "")
    h = f"### {label}: " if several else "### "
    out: list[str] = []
    if run.get("load"):
        out += [f"{h}the bot, open-loop", "", load_table(run["load"]), ""]
    if run.get("efficiency"):
        out += [
            f"{h}efficiency: CPU per answered message against the ceiling",
            "",
            efficiency_note(run["efficiency"]),
            "",
            efficiency_table(run["efficiency"], with_db=run["db"] == "postgres"),
            "",
        ]
        layers = efficiency_layers_table(run["efficiency"])
        if layers:
            out += [f"{h}where the CPU goes, by layer (profiled runs)", "", layers, ""]
    if run.get("ceiling"):
        out += [f"{h}the smallest aiohttp bot (ceiling)", "", load_table(run["ceiling"]), ""]
    if run.get("load") and run.get("ceiling"):
        ours, ceiling = sustained(run["load"]), sustained(run["ceiling"])
        peak = max(r["achieved_rate"] for r in run["ceiling"])
        share = f"{100 * ours / ceiling:.0f}%" if ceiling else "–"
        share_peak = f"{100 * ours / peak:.0f}%" if peak else "–"
        out += [
            f"Sustained (every message acknowledged and answered, reply p99 < 1 s, answered rate "
            f"within 5% of offered): bot {ours:g} msg/s; ceiling {ceiling:g} msg/s at the rates "
            f"tried ({share}), and its highest answered rate at any offered rate was "
            f"{peak:g} msg/s ({share_peak}).",
            "",
        ]
    if run.get("checkout"):
        out += [f"{h}checkout mix", "", _checkout_table([run["checkout"]]), ""]
    if run.get("carts"):
        c = run["carts"]
        out += [
            f"{h}open carts",
            "",
            f"{c['open_carts']} open carts after {c['messages']} add-to-cart taps at "
            f"{c['offered_rate']:g}/s (reply p99 {c['reply_p99_ms']} ms, unanswered "
            f"{c['unanswered']}): RSS {c.get('bot_VmRSS_kib', 0) // 1024} MiB, peak "
            f"{c.get('bot_VmHWM_kib', 0) // 1024} MiB.",
            "",
        ]
    if run.get("kill"):
        out += [f"{h}kill -9 under load", "", kill_table([run["kill"]]), ""]
    if run.get("graph_faults"):
        out += [
            f"{h}Graph API faults",
            "",
            _table(
                [
                    "faults",
                    "messages",
                    "replies delivered",
                    "customers missing replies",
                    "out of order",
                    "seconds until all delivered",
                ],
                [
                    [
                        json.dumps(g["faults"]),
                        g["messages"],
                        g["replies_delivered"],
                        g["customers_missing_replies"],
                        g["customers_out_of_order"],
                        g["seconds_until_all_delivered"],
                    ]
                    for g in run["graph_faults"]
                ],
            ),
            "",
        ]
    if run.get("razorpay_faults"):
        out += [f"{h}Razorpay faults", "", _checkout_table([run["razorpay_faults"]]), ""]
    if run.get("slow_body"):
        out += [f"{h}slow bodies from strangers", "", slow_body_table([run["slow_body"]]), ""]
    if run.get("hostile_input"):
        out += [f"{h}hostile signed input", "", hostile_table(run["hostile_input"]), ""]
    return out


def efficiency_note(result: Row) -> str:
    knee = result["knee"]
    rate = "none found" if knee["rate"] is None else f"{knee['rate']:g} msg/s"
    return (
        f"Medians of {result['repeats']} runs of {result['duration']:g} s each of the bot and "
        f"of the ceiling bot per row, interleaved (which goes first alternates), every run on "
        f"fresh processes and a fresh database; efficiency = ceiling µs ÷ bot µs. Pinning: "
        f"{result['pinning']['described']}. The knee: {rate} ({knee['source']})."
    )


def efficiency_table(result: Row, *, with_db: bool) -> str:
    headers = ["msg/s", "pairing", "bot µs/msg", "ceiling µs/msg", "efficiency"]
    headers += ["DB server µs/msg"] if with_db else []
    headers += [
        "runs",
        "spread µs: bot; ceiling",
        "reply p99 ms: bot; ceiling",
        "answered/offered: bot; ceiling",
        "other cores (max)",
    ]
    rows = []
    for r in result["rows"]:
        bot, ceiling = r["bot_answered"], r["ceiling_answered"]
        rows.append(
            [
                r["rate"],
                r["pairing"],
                _us(r["bot_us"]),
                _us(r["ceiling_us"]),
                r["efficiency"],
                *([_us(r["db_us"])] if with_db else []),
                r["runs"],
                f"{_range(r['bot_us_range'])}; {_range(r['ceiling_us_range'])}",
                f"{_f(r['bot_reply_p99_ms'])}; {_f(r['ceiling_reply_p99_ms'])}",
                f"{bot[0]}/{bot[1]}; {ceiling[0]}/{ceiling[1]}",
                r["other_cores_max"],
            ]
        )
    return _table(headers, rows)


def efficiency_layers_table(result: Row) -> str:
    """Median µs per message of each layer, the bot beside the ceiling, per rate and pairing
    (from `--profile DIR --profile-format raw`); empty when no run was profiled."""
    rows = []
    for r in result["rows"]:
        bot, ceiling = r.get("bot_layers") or {}, r.get("ceiling_layers") or {}
        for layer in dict.fromkeys([*bot, *ceiling]):
            rows.append(
                [r["rate"], r["pairing"], layer, _us(bot.get(layer, 0)), _us(ceiling.get(layer, 0))]
            )
    if not rows:
        return ""
    headers = ["msg/s", "pairing", "layer", "bot µs/msg", "ceiling µs/msg"]
    return _table(headers, rows)


def _us(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:,.0f}"


def _range(bounds: Sequence[float]) -> str:
    low, high = bounds
    return "–" if math.isnan(low) else f"{low:,.0f}–{high:,.0f}"


def hostile_table(result: Row) -> str:
    return _table(
        ["input (3 MiB, signed)", "ack ms", "longest /healthz ms", "answered"],
        [[r["input"], r["ack_ms"], r["healthz_max_ms"], r["answered"]] for r in result["inputs"]],
    )


def slow_body_table(rows: Sequence[Row]) -> str:
    return _table(
        [
            "stalled 3 MiB bodies",
            "seconds",
            "RSS before → peak MiB",
            "growth MiB",
            "/healthz p50 / p99 / max ms",
            "signed webhooks acked / answered",
            "bot's answers to the attacker",
        ],
        [
            [
                r["connections"],
                r["seconds"],
                f"{r['baseline_rss_mib']} → {r['peak_rss_mib']}",
                r["rss_growth_mib"],
                f"{r['healthz_p50_ms']} / {r['healthz_p99_ms']} / {r['healthz_max_ms']}",
                f"{r['webhooks_200']}/{r['webhooks_sent']} / {r['webhooks_answered']}",
                ", ".join(f"{k} {v}" for k, v in sorted(r["attack"].items()) if k != "bytes_sent"),
            ]
            for r in rows
        ],
    )


def kill_table(rows: Sequence[Row]) -> str:
    return _table(
        [
            "processes",
            "deliveries",
            "acked before kill (by the killed one)",
            "not acked (redelivered)",
            "acked msgs unanswered",
            "acked payments unconfirmed",
            "payments confirmed twice",
            "customers out of order",
            "duplicate sends",
            "acked by the killed one, unanswered at the kill",
            "all answered after s",
        ],
        [
            [
                f"{k.get('processes', 1)}" + (" (restarted)" if k.get("restarted", True) else ""),
                k["messages"] + k["payments"],
                f"{k['acked_before_kill']} ({k.get('acked_by_killed_process', '–')})",
                k["not_acked_before_kill"],
                k["acked_messages_unanswered"],
                k["acked_payments_not_confirmed"],
                k["payments_confirmed_more_than_once"],
                k.get("customers_answered_out_of_order", "–"),
                k["duplicate_sends"],
                k.get("left_unanswered_by_killed_process", "–"),
                k.get("victim_work_done_s", math.nan),
            ]
            for k in rows
        ],
    )


def _checkout_table(rows: Sequence[Row]) -> str:
    return _table(
        [
            "customers",
            "background msg/s",
            "faults",
            "reached Pay now",
            "confirmed",
            "pay ack p99 ms",
            "payment→confirmation p50 ms",
            "p99 ms",
            "confirmations per paid order",
            "orders with >1 link",
            "errors",
        ],
        [
            [
                r["customers"],
                r["background_rate"],
                json.dumps(r["faults"]) if r["faults"] else "none",
                r["reached_pay_now"],
                r["confirmed"],
                r["pay_ack_p99_ms"],
                r["confirm_p50_ms"],
                r["confirm_p99_ms"],
                r["confirmations_per_paid_order"],
                r["orders_with_more_than_one_link"],
                r["error_count"],
            ]
            for r in rows
        ],
    )


def plot(results: Mapping[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    series: list[tuple[str, Sequence[Row]]] = []
    for run in results.get("runs") or []:
        if run.get("load"):
            series.append((run["label"], run["load"]))
        if run.get("ceiling"):
            series.append(("minimal aiohttp bot", run["ceiling"]))
    markers = "osD^vP*X"
    for k, (label, rows) in enumerate(series):
        rates = [r["offered_rate"] for r in rows]
        color = f"C{k}"
        marker = markers[k % len(markers)]
        ax.plot(
            rates,
            [r["reply_p99_ms"] for r in rows],
            marker=marker,
            color=color,
            label=f"{label} p99",
        )
        ax.plot(
            rates,
            [r["reply_p50_ms"] for r in rows],
            marker=marker,
            color=color,
            linestyle="--",
            alpha=0.5,
            label=f"{label} p50",
        )
    ax.axhline(1000, color="grey", linewidth=0.8, linestyle=":")
    ax.text(ax.get_xlim()[0], 1000, " 1 s target", va="bottom", fontsize=8, color="grey")
    ax.set_yscale("log")
    ax.set_xlabel("offered rate (inbound messages per second, open loop)")
    ax.set_ylabel("inbound → reply at Graph stand-in (ms)")
    ax.set_title("Reply latency against offered rate (2 cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument("results", type=Path)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    print(markdown(results))
    if args.plot:
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
