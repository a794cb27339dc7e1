"""Markdown tables and the latency plot from a results JSON.

python -m bench.report bench/results/full.json [--plot bench/reply_latency.png]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any


def _f(value: Any) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:g}"
    return str(value)


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_f(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def load_table(rows: list[dict[str, Any]]) -> str:
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
            ]
            for r in rows
        ],
    )


def sustained(rows: list[dict[str, Any]]) -> float:
    """The highest offered rate with every message acknowledged and answered, reply p99 < 1 s
    and the answered rate within 5% of the offered one."""
    good = [
        r["offered_rate"]
        for r in rows
        if r["not_acked"] == 0
        and r["unanswered"] == 0
        and r["reply_p99_ms"] < 1000
        and r["achieved_rate"] >= 0.95 * r["offered_rate"]
    ]
    return max(good, default=0.0)


def markdown(results: dict[str, Any]) -> str:
    out: list[str] = []
    if results.get("load"):
        out += ["### The bot, open-loop", "", load_table(results["load"]), ""]
    if results.get("ceiling"):
        out += ["### The smallest aiohttp bot (ceiling)", "", load_table(results["ceiling"]), ""]
    if results.get("load") and results.get("ceiling"):
        ours, ceiling = sustained(results["load"]), sustained(results["ceiling"])
        peak = max(r["achieved_rate"] for r in results["ceiling"])
        share = f"{100 * ours / ceiling:.0f}%" if ceiling else "–"
        share_peak = f"{100 * ours / peak:.0f}%" if peak else "–"
        out += [
            f"Sustained (every message acknowledged and answered, reply p99 < 1 s, answered rate "
            f"within 5% of offered): bot {ours:g} msg/s; ceiling {ceiling:g} msg/s at the rates "
            f"tried ({share}), and its highest answered rate at any offered rate was "
            f"{peak:g} msg/s ({share_peak}).",
            "",
        ]
    if results.get("checkout"):
        out += ["### Checkout mix", "", _checkout_table([results["checkout"]]), ""]
    if results.get("carts"):
        c = results["carts"]
        out += [
            "### Open carts",
            "",
            f"{c['open_carts']} open carts after {c['messages']} add-to-cart taps at "
            f"{c['offered_rate']:g}/s (reply p99 {c['reply_p99_ms']} ms, unanswered "
            f"{c['unanswered']}): RSS {c.get('bot_VmRSS_kib', 0) // 1024} MiB, peak "
            f"{c.get('bot_VmHWM_kib', 0) // 1024} MiB.",
            "",
        ]
    if results.get("kill"):
        k = results["kill"]
        out += [
            "### kill -9 under load",
            "",
            _table(
                [
                    "deliveries",
                    "acked before kill",
                    "not acked (redelivered)",
                    "acked msgs unanswered",
                    "acked payments unconfirmed",
                    "payments confirmed twice",
                    "duplicate sends",
                ],
                [
                    [
                        k["messages"] + k["payments"],
                        k["acked_before_kill"],
                        k["not_acked_before_kill"],
                        k["acked_messages_unanswered"],
                        k["acked_payments_not_confirmed"],
                        k["payments_confirmed_more_than_once"],
                        k["duplicate_sends"],
                    ]
                ],
            ),
            "",
        ]
    if results.get("graph_faults"):
        out += [
            "### Graph API faults",
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
                    for g in results["graph_faults"]
                ],
            ),
            "",
        ]
    if results.get("razorpay_faults"):
        out += ["### Razorpay faults", "", _checkout_table([results["razorpay_faults"]]), ""]
    if results.get("slow_body"):
        out += ["### Slow bodies from strangers", "", slow_body_table([results["slow_body"]]), ""]
    if results.get("hostile_input"):
        out += ["### Hostile signed input", "", hostile_table(results["hostile_input"]), ""]
    return "\n".join(out)


def hostile_table(result: dict[str, Any]) -> str:
    return _table(
        ["input (3 MiB, signed)", "ack ms", "longest /healthz ms", "answered"],
        [[r["input"], r["ack_ms"], r["healthz_max_ms"], r["answered"]] for r in result["inputs"]],
    )


def slow_body_table(rows: list[dict[str, Any]]) -> str:
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


def _checkout_table(rows: list[dict[str, Any]]) -> str:
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


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    series = (
        ("load", "shop bot", "o", "tab:blue"),
        ("ceiling", "minimal aiohttp bot", "s", "tab:green"),
    )
    for key, label, marker, color in series:
        rows = results.get(key) or []
        if not rows:
            continue
        rates = [r["offered_rate"] for r in rows]
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
    ax.set_title("Reply latency against offered rate (2 cores, SQLite)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
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
