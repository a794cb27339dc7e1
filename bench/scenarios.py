"""The benchmark's phases. Each starts its own processes on a fresh database, runs bounded in
count and time, and returns a plain dict of results (written to JSON and tabulated by
`bench.report`).

Every phase takes a `Setup` (bench/database.py): SQLite with one bot process (the default), or
Postgres with N processes on one database, each delivery posted to one of them at random.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench import payloads, procs
from bench.cpu import CpuMeter
from bench.customers import ORDER_ITEMS, Shopper, body_text, is_confirmation, run_checkouts
from bench.database import PhaseDatabase, Setup, fresh_database
from bench.loadgen import Timings, render_request, run_open_loop, run_processes
from bench.profile_layers import layer_shares

Log = Callable[[str], None]
SQLITE = Setup()
WORDS = ("hi", "help", "cart")  # a customer's three messages where order is checked
# How long the bot processes may take to stop at the end of a phase (they are told to drain
# what they hold; an overloaded one would take its whole grace period for nothing measured).
STOP_SECONDS = 10.0


def percentile(values: Sequence[float], q: float) -> float:
    data = sorted(v for v in values if not math.isnan(v))
    if not data:
        return math.nan
    k = min(len(data) - 1, max(0, math.ceil(q / 100 * len(data)) - 1))
    return data[k]


def ms(value: float) -> float:
    return round(value * 1000, 1) if not math.isnan(value) else math.nan


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def post_json(url: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body or {}).encode()
    request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310 - loopback
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())


def first_replies(
    standins_url: str,
    phones: set[str],
    *,
    wait_seconds: float,
    since: int = 0,
    give_up_after: float = math.inf,
) -> tuple[dict[str, float], dict[str, int], int]:
    """Arrival time of the first reply to each phone, and how many each received; polls until
    every phone has one, nothing new arrived for `wait_seconds`, or `give_up_after` seconds
    passed (an overloaded bot would otherwise keep the phase going for minutes)."""
    first: dict[str, float] = {}
    count: dict[str, int] = defaultdict(int)
    quiet_since = started = time.monotonic()
    while True:
        data = get_json(f"{standins_url}/bench/arrivals?since={since}")
        since = data["next"]
        for t, to in data["arrivals"]:
            if to in phones:
                count[to] += 1
                first.setdefault(to, t)
        now = time.monotonic()
        if data["arrivals"]:
            quiet_since = now
        if (
            len(first) >= len(phones)
            or now - quiet_since > wait_seconds
            or now - started > give_up_after
        ):
            return first, dict(count), since
        time.sleep(0.2)


@dataclass
class Deployment:
    """One phase's processes: the stand-ins, the bot processes, their database."""

    standins: procs.Proc
    bots: procs.Bots
    database: PhaseDatabase


@contextlib.contextmanager
def deployed(
    setup: Setup,
    workdir: Path,
    name: str,
    *,
    faults: Mapping[str, float] | None = None,
    bot_env: Mapping[str, str] | None = None,
    bot_cpus: frozenset[int] | None = None,
) -> Iterator[Deployment]:
    """Fresh stand-ins, a fresh database migrated once, and `setup.processes` bots on it
    (on `bot_cpus`, when given)."""
    logdir = workdir / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    standins = procs.start_standins(logdir, faults=faults)
    try:
        with fresh_database(setup, workdir, name) as database:
            bots = procs.start_bots(
                logdir, standins.url, database.url, setup.processes, env=bot_env, cpus=bot_cpus
            )
            try:
                yield Deployment(standins, bots, database)
            finally:
                bots.stop(STOP_SECONDS)
    finally:
        standins.stop()


# --- open-loop load -----------------------------------------------------------------------------


def build_messages(
    host: str, port: int, tag: str, n: int, content: dict[str, Any]
) -> tuple[list[str], list[bytes]]:
    phones = [f"9{tag}{i:08d}" for i in range(n)]
    requests = []
    for i, phone in enumerate(phones):
        msg = payloads.message(phone, f"wamid.bench.{tag}.{i}", content)
        body = payloads.whatsapp_body(phone, "Load", [msg])
        requests.append(
            render_request(host, port, "/webhooks/whatsapp", body, payloads.whatsapp_headers(body))
        )
    return phones, requests


def build_conversations(
    host: str, port: int, tag: str, phones: Sequence[str]
) -> list[tuple[str, str, bytes]]:
    """Each customer says hi, help, cart: all the his first, then all the helps, then all the
    carts, so one customer's messages are len(phones) deliveries apart (acknowledged long
    before the next is sent: the order the bot received them in is clear). Returns
    (phone, word, rendered request) in sending order."""
    out = []
    for k, word in enumerate(WORDS):
        for i, phone in enumerate(phones):
            msg = payloads.message(phone, f"wamid.{tag}.{i}.{k}", payloads.text(word))
            body = payloads.whatsapp_body(phone, "Talker", [msg])
            request = render_request(
                host, port, "/webhooks/whatsapp", body, payloads.whatsapp_headers(body)
            )
            out.append((phone, word, request))
    return out


def reply_kind(message: dict[str, Any]) -> str:
    """Which of the three words a reply answers: hi → the welcome, help → the help text,
    cart → "Your cart is empty"."""
    text = body_text(message)
    if text.startswith("Welcome to"):
        return "hi"
    if "*help*" in text and "didn't get that" not in text:
        return "help"
    if "cart is empty" in text:
        return "cart"
    return "other"


def answered_out_of_order(
    sent_in_order: Sequence[tuple[float, float]], answered_at: Sequence[float | None]
) -> tuple[bool, bool]:
    """Did a customer's replies arrive in the order the bot received their messages?
    `sent_in_order` holds (sent, acknowledged) per message in sending order, `answered_at`
    when each one's reply arrived (None: never). The bot received message i before j for
    sure only when i was acknowledged before j was sent; two messages in flight at once (to
    two processes, say) may be received either way round, and either order is right.
    Returns (out of order, some pair was in flight at once)."""
    wrong = overlapped = False
    for i, (_, acked_i) in enumerate(sent_in_order):
        for j in range(i + 1, len(sent_in_order)):
            sent_j = sent_in_order[j][0]
            if not acked_i < sent_j:
                overlapped = True
                continue
            t_i, t_j = answered_at[i], answered_at[j]
            if t_i is not None and t_j is not None and t_j < t_i:
                wrong = True
    return wrong, overlapped


def statuses(timings: Timings) -> dict[str, int]:
    """How many requests got each HTTP status (0: no answer at all)."""
    found: dict[str, int] = defaultdict(int)
    for status in timings.status:
        found[str(status)] += 1
    return dict(found)


def summarize_load(
    rate: float,
    phones: list[str],
    timings: Timings,
    first: dict[str, float],
    counts: dict[str, int],
) -> dict[str, Any]:
    n = len(phones)
    acked = [i for i in range(n) if timings.status[i] == 200]
    ack_lat = [timings.acked[i] - timings.scheduled[i] for i in acked]
    lag = [timings.sent[i] - timings.scheduled[i] for i in range(n)]
    reply_lat = [first[phones[i]] - timings.scheduled[i] for i in acked if phones[i] in first]
    sent = [t for t in timings.sent if not math.isnan(t)]
    send_span = (max(sent) - min(sent)) if len(sent) > 1 else math.nan
    last_reply = max(first.values()) if first else math.nan
    return {
        "offered_rate": rate,
        "messages": n,
        "generator_send_rate": round((len(sent) - 1) / send_span, 1) if send_span else math.nan,
        "generator_lag_p99_ms": ms(percentile(lag, 99)),
        "acked": len(acked),
        "not_acked": n - len(acked),
        "answered": len(reply_lat),
        "unanswered": len(acked) - len(reply_lat),
        "duplicate_replies": sum(max(0, c - 1) for c in counts.values()),
        "achieved_rate": round(len(reply_lat) / (last_reply - timings.started), 1)
        if reply_lat
        else 0.0,
        "ack_p50_ms": ms(percentile(ack_lat, 50)),
        "ack_p99_ms": ms(percentile(ack_lat, 99)),
        "ack_max_ms": ms(max(ack_lat, default=math.nan)),
        "reply_p50_ms": ms(percentile(reply_lat, 50)),
        "reply_p99_ms": ms(percentile(reply_lat, 99)),
        "reply_max_ms": ms(max(reply_lat, default=math.nan)),
        "statuses": statuses(timings),
    }


def cpu_summary(
    used: Mapping[str, float], answered: int, counters: tuple[Mapping[str, int], Mapping[str, int]]
) -> dict[str, Any]:
    """CPU per answered message of the bot processes (together) and of the database server,
    each role's share of the cores, and what the database did per message."""
    wall = used["wall"] or math.nan
    per_message = (lambda seconds: round(seconds / answered * 1e6)) if answered else None
    before, after = counters
    commits = after.get("xact_commit", 0) - before.get("xact_commit", 0)
    result: dict[str, Any] = {
        "cpu_seconds": {k: round(v, 2) for k, v in used.items()},
        "cpu_cores": {k: round(v / wall, 2) for k, v in used.items() if k != "wall"},
        "bot_cpu_us_per_message": per_message(used["bots"]) if per_message else math.nan,
        "db_cpu_us_per_message": per_message(used["db"]) if per_message and after else math.nan,
    }
    if after:
        result["db_transactions_per_message"] = round(commits / answered, 1) if answered else 0
        result["db_counters"] = {k: after[k] - before.get(k, 0) for k in after}
    return result


def load_phase(
    workdir: Path,
    rate: float,
    duration: float,
    *,
    setup: Setup = SQLITE,
    target: str = "bot",
    content: dict[str, Any] | None = None,
    generators: int = 1,
    bot_env: dict[str, str] | None = None,
    profile: Path | None = None,
    cpus: frozenset[int] | None = None,
    read_receipt: bool = False,
    log: Log = print,
) -> dict[str, Any]:
    """Fresh stand-ins and fresh bot processes (or the ceiling bot) on a fresh database;
    `rate` messages a second for `duration` seconds, each from its own customer. `cpus`: the
    bot's (or the ceiling's) CPU affinity; `read_receipt`: the ceiling marks messages read."""
    if target != "bot":
        return _ceiling_phase(
            workdir,
            rate,
            duration,
            target,
            generators,
            log,
            cpus=cpus,
            read_receipt=read_receipt,
            profile=profile,
        )
    with deployed(setup, workdir, f"load-{int(rate)}", bot_env=bot_env, bot_cpus=cpus) as d:
        n = int(rate * duration)
        tag = f"{int(rate):04d}"
        ports = d.bots.ports
        phones, requests = build_messages(
            "127.0.0.1", ports[0], tag, n, content or payloads.text("hi")
        )
        log(f"  {setup.label}: {n} messages at {rate:g}/s …")
        spy = _py_spy(d.bots.pids()[0], profile, duration) if profile else None
        meter = CpuMeter(d.bots.pids, d.standins.pid, d.database)
        counters_before = d.database.counters()
        start = meter.read()
        timings = run_processes(
            "127.0.0.1", ports, requests, rate, generators=generators, drain_seconds=30
        )
        first, counts, _ = first_replies(
            d.standins.url, set(phones), wait_seconds=10, give_up_after=30
        )
        end = meter.read()
        if spy is not None:
            spy.wait(timeout=60)
        result = summarize_load(rate, phones, timings, first, counts)
        result.update({f"bot_{k}_kib": v for k, v in d.bots.memory().items()})
        result["standins"] = get_json(f"{d.standins.url}/bench/stats")
        d.bots.stop(STOP_SECONDS)  # its server backends exit and report their statistics
        result.update(
            cpu_summary(
                CpuMeter.used(start, end),
                result["answered"],
                (counters_before, d.database.counters()),
            )
        )
        _add_profile_layers(result, profile, log)
    result["target"] = target
    result["setup"] = setup.key
    log(
        f"    achieved {result['achieved_rate']}/s, ack p99 {result['ack_p99_ms']} ms, "
        f"reply p50/p99 {result['reply_p50_ms']}/{result['reply_p99_ms']} ms, "
        f"unanswered {result['unanswered']}, not acked {result['not_acked']}, "
        f"peak RSS {result.get('bot_VmHWM_kib', 0) // 1024} MiB, "
        f"CPU µs/message bot {result['bot_cpu_us_per_message']} "
        f"db {result['db_cpu_us_per_message']}, cores used {result['cpu_cores']}"
    )
    return result


def _ceiling_phase(
    workdir: Path,
    rate: float,
    duration: float,
    target: str,
    generators: int,
    log: Log,
    *,
    cpus: frozenset[int] | None,
    read_receipt: bool,
    profile: Path | None,
) -> dict[str, Any]:
    logdir = workdir / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    standins = procs.start_standins(logdir)
    # On uvloop, like the bot (bot/cli.py): the same loop for both sides of the comparison.
    server = procs.start_ceiling(
        logdir,
        standins.url,
        uvloop=target != "ceiling-asyncio",
        read_receipt=read_receipt,
        cpus=cpus,
    )
    with procs.running(standins, server):
        n = int(rate * duration)
        phones, requests = build_messages(
            "127.0.0.1", server.port, f"{int(rate):04d}", n, payloads.text("hi")
        )
        log(f"  {target}: {n} messages at {rate:g}/s …")
        spy = _py_spy(server.pid, profile, duration) if profile else None
        meter = CpuMeter(lambda: [server.pid], standins.pid, None)
        start = meter.read()
        timings = run_processes(
            "127.0.0.1", [server.port], requests, rate, generators=generators, drain_seconds=30
        )
        first, counts, _ = first_replies(
            standins.url, set(phones), wait_seconds=10, give_up_after=30
        )
        end = meter.read()
        if spy is not None:
            spy.wait(timeout=60)
        result = summarize_load(rate, phones, timings, first, counts)
        result.update(cpu_summary(CpuMeter.used(start, end), result["answered"], ({}, {})))
        _add_profile_layers(result, profile, log)
        result.update({f"bot_{k}_kib": v for k, v in procs.memory(server.pid).items()})
        result["standins"] = get_json(f"{standins.url}/bench/stats")
    result["target"] = target
    log(
        f"    achieved {result['achieved_rate']}/s, ack p99 {result['ack_p99_ms']} ms, "
        f"reply p50/p99 {result['reply_p50_ms']}/{result['reply_p99_ms']} ms, "
        f"unanswered {result['unanswered']}, cores used {result['cpu_cores']}"
    )
    return result


def _add_profile_layers(result: dict[str, Any], profile: Path | None, log: Log) -> None:
    """With a raw profile (`--profile-format raw`): where the server's CPU went, by layer,
    in µs per answered message (bench/profile_layers.py)."""
    if profile is None or profile.suffix != ".txt" or not profile.exists():
        return
    shares = layer_shares(profile.read_text().splitlines())
    us = result.get("bot_cpu_us_per_message") or 0
    result["profile_layers"] = {layer: round(share * us) for layer, share in shares.items()}
    log(
        "    CPU by layer, µs/message (py-spy): "
        + ", ".join(f"{layer} {value}" for layer, value in result["profile_layers"].items())
    )


def _py_spy(pid: int, out: Path, duration: float) -> subprocess.Popen[bytes]:
    """Sample the server with py-spy (the bench extra) for the length of the load, every
    thread (--threads). A flame graph shows only samples holding the GIL (--gil): the bot is
    bound by it, so that is where its time goes. Raw stacks, which become CPU per layer, keep
    every sample of a thread on the CPU: the sqlite3 module lets go of the GIL while SQLite
    runs, and with --gil that CPU would be spread over the other layers."""
    fmt = {".json": "speedscope", ".txt": "raw"}.get(out.suffix, "flamegraph")
    local = Path(sys.executable).parent / "py-spy"
    args = [
        str(local) if local.exists() else "py-spy",
        "record",
        "-p",
        str(pid),
        "-o",
        str(out),
        "-d",
        str(max(1, int(duration))),
        "-r",
        "200",
        "--threads",
        *(["--gil"] if fmt != "raw" else []),
        "--nonblocking",
        "-f",
        fmt,
    ]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603


# --- checkout mix ---------------------------------------------------------------------------


def checkout_phase(
    workdir: Path,
    customers: int,
    arrivals_per_second: float,
    *,
    setup: Setup = SQLITE,
    faults: dict[str, float] | None = None,
    bot_env: dict[str, str] | None = None,
    background_rate: float = 0.0,
    log: Log = print,
) -> dict[str, Any]:
    name = "checkout-" + "-".join(f"{k}={v:g}" for k, v in sorted((faults or {}).items()))
    with deployed(setup, workdir, name, faults=faults, bot_env=bot_env) as d:
        phones = [f"8{i:011d}" for i in range(customers)]
        log(
            f"  {setup.label}: {customers} checkouts at {arrivals_per_second:g} customers/s"
            + (f" with faults {faults}" if faults else "")
            + (f" over {background_rate:g} msg/s of background load" if background_rate else "")
        )
        meter = CpuMeter(d.bots.pids, d.standins.pid, d.database)
        start = meter.read()
        background: threading.Thread | None = None
        if background_rate:
            duration = customers / arrivals_per_second + 5
            _, requests = build_messages(
                "127.0.0.1",
                d.bots.ports[0],
                "bg00",
                int(background_rate * duration),
                payloads.text("hi"),
            )
            background = threading.Thread(
                target=run_processes,
                args=("127.0.0.1", d.bots.ports, requests, background_rate),
                daemon=True,
            )
            background.start()
        results, confirmations = asyncio.run(
            run_checkouts(
                d.bots.urls,
                d.standins.url,
                phones,
                arrivals_per_second=arrivals_per_second,
                patience=120 if faults else 60,
            )
        )
        if background is not None:
            background.join(timeout=120)
        used = CpuMeter.used(start, meter.read())
        links = get_json(f"{d.standins.url}/bench/links")
        stats = get_json(f"{d.standins.url}/bench/stats")
        memory = d.bots.memory()
        d.bots.stop(STOP_SECONDS)
        queued = d.database.outbox_by_customer()
    links_per_order: dict[str, int] = defaultdict(int)
    for link in links:
        links_per_order[link["reference_id"]] += 1
    confirm = [r.confirmed_at - r.paid_at for r in results if r.confirmed_at and r.paid_at]
    pay_ack = [r.pay_ack - r.paid_at for r in results if r.pay_ack and r.paid_at]
    orders = [r.order_id for r in results if r.order_id]
    result = {
        "setup": setup.key,
        "customers": customers,
        "arrivals_per_second": arrivals_per_second,
        "background_rate": background_rate,
        "faults": faults or {},
        "reached_pay_now": len(orders),
        "confirmed": len(confirm),
        "errors": [r.error for r in results if r.error][:10],
        "error_count": sum(1 for r in results if r.error),
        "pay_ack_p50_ms": ms(percentile(pay_ack, 50)),
        "pay_ack_p99_ms": ms(percentile(pay_ack, 99)),
        "confirm_p50_ms": ms(percentile(confirm, 50)),
        "confirm_p90_ms": ms(percentile(confirm, 90)),
        "confirm_p99_ms": ms(percentile(confirm, 99)),
        "confirm_max_ms": ms(max(confirm, default=math.nan)),
        # Received by the Graph stand-in, and queued by the bot (a send can be repeated if a
        # process dies between sending and recording it; a queued confirmation cannot).
        "confirmations_per_paid_order": sorted(
            set(confirmations[r.phone] for r in results if r.confirmed_at)
        ),
        "confirmations_queued_per_paid_order": sorted(
            set(sum("✅" in m for m in queued.get(r.phone, [])) for r in results if r.confirmed_at)
        ),
        "orders_with_more_than_one_link": sum(1 for o in orders if links_per_order.get(o, 0) > 1),
        "orders_without_link": sum(1 for o in orders if links_per_order.get(o, 0) == 0),
        "standins": stats,
        "cpu_cores": {k: round(v / used["wall"], 2) for k, v in used.items() if k != "wall"},
        **{f"bot_{k}_kib": v for k, v in memory.items()},
    }
    log(
        f"    pay-now {result['reached_pay_now']}/{customers}, confirmed {result['confirmed']}, "
        f"payment→confirmation p50/p99 {result['confirm_p50_ms']}/{result['confirm_p99_ms']} ms, "
        f"confirmations per paid order {result['confirmations_per_paid_order']}, "
        f"links per order >1: {result['orders_with_more_than_one_link']}, "
        f"errors {result['error_count']}, cores used {result['cpu_cores']}"
    )
    return result


# --- 10,000 open carts ----------------------------------------------------------------------


def carts_phase(
    workdir: Path,
    carts: int,
    rate: float,
    *,
    setup: Setup = SQLITE,
    bot_env: dict[str, str] | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """`carts` customers each add an item (a tap on a quantity button); then the bot's RSS."""
    content = payloads.button(f"qty:{ORDER_ITEMS[0][0]}:1", "1")
    with deployed(setup, workdir, "carts", bot_env=bot_env) as d:
        log(f"  {setup.label}: {carts} customers each add to a cart at {rate:g}/s …")
        phones, requests = build_messages("127.0.0.1", d.bots.ports[0], "cart", carts, content)
        timings = run_processes("127.0.0.1", d.bots.ports, requests, rate, drain_seconds=30)
        first, counts, _ = first_replies(
            d.standins.url, set(phones), wait_seconds=10, give_up_after=60
        )
        result = summarize_load(rate, phones, timings, first, counts)
        time.sleep(1.0)
        memory = d.bots.memory()
        result.update({f"bot_{k}_kib": v for k, v in memory.items()})
        result["open_carts"] = d.database.open_carts()
    result["setup"] = setup.key
    log(
        f"    {result['open_carts']} open carts, RSS {memory.get('VmRSS', 0) // 1024} MiB, "
        f"peak {memory.get('VmHWM', 0) // 1024} MiB"
    )
    return result


# --- kill -9 in the middle of the load ---------------------------------------------------------


def kill_phase(
    workdir: Path,
    *,
    messages: int,
    payments: int,
    rate: float,
    setup: Setup = SQLITE,
    log: Log = print,
) -> dict[str, Any]:
    return asyncio.run(
        kill_and_recover(
            workdir, messages=messages, payments=payments, rate=rate, setup=setup, log=log
        )
    )


async def kill_and_recover(
    workdir: Path,
    *,
    messages: int,
    payments: int,
    rate: float,
    setup: Setup = SQLITE,
    log: Log = print,
    patience: float = 90.0,
) -> dict[str, Any]:
    """`payments` customers reach Pay now; then new customers send `messages` messages (hi,
    help, cart each) while the payments arrive, at `rate` a second, each to a process at
    random; one process gets SIGKILL half way. With one process it is started again on the
    same database; with several it stays dead and the others must finish its work. Whatever
    was not acknowledged is delivered again to a live process (as Meta and Razorpay do).
    Returns counts; `kill_problems` lists what broke a promise (empty when all is well)."""
    with deployed(setup, workdir, "kill") as d:
        bots = d.bots
        victim = bots.procs[0]
        log(f"  {setup.label}: {payments} customers to Pay now …")
        pay_phones = [f"7{i:011d}" for i in range(payments)]
        pay_requests = await _prepare_payments(bots.urls, d.standins.url, pay_phones)
        talkers = [f"9kill{i:07d}" for i in range(max(1, messages // len(WORDS)))]
        # (phone, what: a word or "pay", request), payment webhooks spread evenly among them
        mixed: list[tuple[str, str, bytes]] = build_conversations(
            "127.0.0.1", bots.ports[0], "kill", talkers
        )
        gap = max(1, len(mixed) // max(1, payments))
        for j, (phone, request) in enumerate(zip(pay_phones, pay_requests, strict=True)):
            mixed.insert(min(len(mixed), j * (gap + 1) + gap // 2), (phone, "pay", request))
        duration = len(mixed) / rate
        log(
            f"  {len(mixed)} deliveries at {rate:g}/s over {setup.processes} process(es); "
            f"SIGKILL to one after {duration / 2:.1f} s …"
        )
        meter = CpuMeter(bots.pids, d.standins.pid, d.database)
        start = meter.read()
        start_at = time.monotonic() + 0.5
        killed_at: list[float] = []

        def kill() -> None:
            killed_at.append(time.monotonic())
            victim.kill9()

        asyncio.get_running_loop().call_later(start_at + duration / 2 - time.monotonic(), kill)
        timings = await run_open_loop(
            "127.0.0.1",
            bots.ports,
            [r for _, _, r in mixed],
            rate,
            seed=1,
            start_at=start_at,
            warm_conns=32,
            drain_seconds=3,
        )
        acked = [i for i, status in enumerate(timings.status) if status == 200]
        unacked = [i for i, status in enumerate(timings.status) if status != 200]
        by_victim = [i for i in acked if timings.port[i] == victim.port]
        if setup.processes == 1:
            log(f"    killed: {len(acked)} acknowledged, {len(unacked)} not; restarting …")
            bots.procs[0] = await asyncio.to_thread(
                procs.start_bot, workdir / "logs", d.standins.url, d.database.url, port=victim.port
            )
        else:
            log(
                f"    killed 1 of {setup.processes}: {len(acked)} acknowledged "
                f"({len(by_victim)} by the killed one), {len(unacked)} not; not restarting it"
            )
        resent = await run_open_loop(
            "127.0.0.1",
            bots.ports,
            [mixed[i][2] for i in unacked],
            min(rate, 500.0),
            seed=2,
            warm_conns=32,
            drain_seconds=30,
        )
        refused = sum(1 for status in resent.status if status != 200)
        per_phone = await _wait_for_everyone(
            d.standins.url, set(talkers), set(pay_phones), patience
        )
        used = CpuMeter.used(start, meter.read())
        bots.stop(STOP_SECONDS)
        outbox = await asyncio.to_thread(d.database.outbox_by_customer)
    result = _kill_outcome(mixed, timings, acked, by_victim, per_phone, outbox, killed_at[0])
    result.update(
        {
            "setup": setup.key,
            "processes": setup.processes,
            "restarted": setup.processes == 1,
            "messages": len(mixed) - payments,
            "payments": payments,
            "rate": rate,
            "acked_before_kill": len(acked),
            "not_acked_before_kill": len(unacked),
            "redelivered_refused": refused,
            # The killed process's CPU is lost with it; "other" shows what else ran.
            "cpu_cores": {k: round(v / used["wall"], 2) for k, v in used.items() if k != "wall"},
        }
    )
    problems = [
        name
        for name in (
            "redelivered_refused",
            "acked_messages_unanswered",
            "messages_unanswered_after_redelivery",
            "acked_payments_not_confirmed",
            "payments_not_confirmed_after_redelivery",
            "payments_confirmed_more_than_once",
            "customers_answered_out_of_order",
        )
        if result[name]
    ]
    if result["duplicate_sends"] > result["in_flight_bound"]:
        problems.append("duplicate_sends")
    result["kill_problems"] = problems
    log(
        f"    unanswered {result['messages_unanswered_after_redelivery']}, payments not "
        f"confirmed {result['payments_not_confirmed_after_redelivery']}, confirmed twice "
        f"{result['payments_confirmed_more_than_once']}, out of order "
        f"{result['customers_answered_out_of_order']}, duplicate sends "
        f"{result['duplicate_sends']}; the killed process left "
        f"{result['left_unanswered_by_killed_process']} acknowledged deliveries unanswered, "
        f"all answered {result['victim_work_done_s']} s after the kill"
    )
    return result


def _kill_outcome(
    mixed: Sequence[tuple[str, str, bytes]],
    timings: Timings,
    acked: Sequence[int],
    by_victim: Sequence[int],
    per_phone: Mapping[str, list[tuple[float, dict[str, Any]]]],
    outbox: Mapping[str, list[str]],
    killed_at: float,
) -> dict[str, Any]:
    """What the customers got, against what was acknowledged."""

    def answered_at(phone: str, what: str) -> float | None:
        """When the reply to `what` (a word, or "pay": the confirmation) first arrived."""
        for t, message in per_phone.get(phone, []):
            if is_confirmation(message) if what == "pay" else reply_kind(message) == what:
                return t
        return None

    everything = {(phone, what) for phone, what, _ in mixed}
    acked_items = [(mixed[i][0], mixed[i][1]) for i in acked]
    acked_messages = [(p, w) for p, w in acked_items if w != "pay"]
    acked_payments = [p for p, w in acked_items if w == "pay"]
    pay_phones = [p for p, w in everything if w == "pay"]
    confirmations_queued = {p: sum("✅" in m for m in outbox.get(p, [])) for p in pay_phones}
    confirmations_received = {
        p: sum(is_confirmation(m) for _, m in per_phone.get(p, [])) for p in pay_phones
    }
    # In order: the replies to one customer's acknowledged messages arrived in the order the
    # bot received them (deliveries that failed and came again later may fall in between:
    # the bot received those later).
    acked_words: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for i in acked:
        phone, what, _ = mixed[i]
        if what != "pay":
            acked_words[phone].append((what, i))
    out_of_order = overlapping = 0
    for phone, words in acked_words.items():
        wrong, overlapped = answered_out_of_order(
            [(timings.sent[i], timings.acked[i]) for _, i in words],
            [answered_at(phone, w) for w, _ in words],
        )
        out_of_order += wrong
        overlapping += overlapped
    # What the killed process had acknowledged but not yet answered when it died: someone
    # else (its restart, or the other processes' sweeps) had to finish it.
    victim_done = [answered_at(mixed[i][0], mixed[i][1]) for i in by_victim]
    left_by_victim = [t for t in victim_done if t is None or t > killed_at]
    phones = {p for p, _ in everything}
    return {
        "acked_by_killed_process": len(by_victim),
        "acked_messages_unanswered": sum(1 for p, w in acked_messages if not answered_at(p, w)),
        "messages_unanswered_after_redelivery": sum(
            1 for p, w in everything if w != "pay" and not answered_at(p, w)
        ),
        "acked_payments_not_confirmed": sum(1 for p in acked_payments if not answered_at(p, "pay")),
        "payments_not_confirmed_after_redelivery": sum(
            1 for p in pay_phones if not answered_at(p, "pay")
        ),
        "payments_confirmed_more_than_once": sum(1 for c in confirmations_queued.values() if c > 1),
        "confirmations_delivered_more_than_once": sum(
            1 for c in confirmations_received.values() if c > 1
        ),
        "customers_answered_out_of_order": out_of_order,
        "customers_with_messages_in_flight_at_once": overlapping,
        # A duplicate send: the Graph stand-in accepted more messages for a customer than the
        # bot ever queued for them (it sent, then died before recording that it had).
        "duplicate_sends": sum(
            max(0, len(per_phone.get(p, [])) - len(outbox.get(p, []))) for p in phones
        ),
        "in_flight_bound": 64,  # WORKER_CONCURRENCY: sends under way at once in one process
        "left_unanswered_by_killed_process": len(left_by_victim),
        # Seconds from the kill until the last of those was answered (0: nothing was left).
        "victim_work_done_s": round(max(t for t in left_by_victim if t) - killed_at, 2)
        if any(left_by_victim)
        else 0.0,
    }


async def _wait_for_everyone(
    standins_url: str, talkers: set[str], pay_phones: set[str], patience: float
) -> dict[str, list[tuple[float, dict[str, Any]]]]:
    """Every arrival at the Graph stand-in per phone, with its time, once every talker has
    an answer to each of their words and every payment a confirmation (or after `patience`
    seconds), plus a quiet second for late duplicates."""
    per_phone: dict[str, list[tuple[float, dict[str, Any]]]] = defaultdict(list)
    since = 0
    deadline = time.monotonic() + patience
    async with aiohttp.ClientSession() as session:

        async def fetch() -> None:
            nonlocal since
            url = f"{standins_url}/bench/arrivals?since={since}&bodies=1"
            async with session.get(url) as response:
                data = await response.json()
            since = data["next"]
            for t, to, body in data["arrivals"]:
                per_phone[to].append((t, body))

        while True:
            await fetch()
            done = all(
                {reply_kind(m) for _, m in per_phone[p]} >= set(WORDS) for p in talkers
            ) and all(any(is_confirmation(m) for _, m in per_phone[p]) for p in pay_phones)
            if done:
                await asyncio.sleep(1.0)
                await fetch()
                return per_phone
            if time.monotonic() > deadline:
                return per_phone
            await asyncio.sleep(0.1)


async def _prepare_payments(
    bot_urls: Sequence[str], standins_url: str, phones: list[str]
) -> list[bytes]:
    """Drive each customer to Pay now; return a rendered, signed paid webhook per customer."""
    from bench.customers import CheckoutResult, Inbox

    host, port = bot_urls[0].removeprefix("http://").split(":")
    async with aiohttp.ClientSession() as session:
        inbox = Inbox(standins_url, session)
        poller = asyncio.create_task(inbox.poll_forever())
        shopper = Shopper(bot_urls, standins_url, session, inbox)
        results = [CheckoutResult(p) for p in phones]
        sem = asyncio.Semaphore(50)

        async def one(result: CheckoutResult) -> tuple[bytes, dict[str, str]]:
            async with sem:
                await shopper.until_pay_now(result.phone, result, 60)
                return await shopper.pay(result, f"evt_K{result.phone[-13:]}")

        bodies = await asyncio.gather(*(one(r) for r in results))
        poller.cancel()
    return [
        render_request(host, int(port), "/webhooks/razorpay", body, headers)
        for body, headers in bodies
    ]


# --- upstream faults at load ------------------------------------------------------------------


def graph_faults_phase(
    workdir: Path,
    customers: int,
    *,
    faults: dict[str, float],
    setup: Setup = SQLITE,
    log: Log = print,
) -> dict[str, Any]:
    """Each customer sends hi, help, cart in quick succession while the Graph stand-in fails;
    every reply must arrive, in the order the messages were sent (with several processes,
    whichever process received each message)."""
    env = {"RETRY_BASE_SECONDS": "0.2", "HTTP_TIMEOUT_SECONDS": "5", "SEND_RETRY_SECONDS": "120"}
    tag = "-".join(f"{k}={v:g}" for k, v in sorted(faults.items()))
    with deployed(setup, workdir, f"graph-faults-{tag}", faults=faults, bot_env=env) as d:
        phones = [f"6{i:011d}" for i in range(customers)]
        talk = build_conversations("127.0.0.1", d.bots.ports[0], f"gf.{tag}", phones)
        requests = [request for _, _, request in talk]
        log(
            f"  {setup.label}: {len(requests)} messages from {customers} customers with "
            f"Graph faults {faults} …"
        )
        t0 = time.monotonic()
        timings = run_processes("127.0.0.1", d.bots.ports, requests, 200.0, drain_seconds=30)
        deadline = time.monotonic() + 180
        per_phone: dict[str, list[tuple[float, dict[str, Any]]]] = defaultdict(list)
        since = 0
        while time.monotonic() < deadline:
            data = get_json(f"{d.standins.url}/bench/arrivals?since={since}&bodies=1")
            since = data["next"]
            for t, to, body in data["arrivals"]:
                per_phone[to].append((t, body))
            if all(len(per_phone[p]) >= len(WORDS) for p in phones):
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - t0
        stats = get_json(f"{d.standins.url}/bench/stats")
    out_of_order = overlapping = unexpected = 0
    index = {(phone, word): i for i, (phone, word, _) in enumerate(talk)}
    for phone in phones:
        kinds = [reply_kind(m) for _, m in per_phone[phone]]
        unexpected += any(k not in WORDS for k in kinds) or len(kinds) != len(set(kinds))
        acked = [w for w in WORDS if timings.status[index[phone, w]] == 200]
        first = {k: t for t, m in reversed(per_phone[phone]) if (k := reply_kind(m)) in WORDS}
        wrong, overlapped = answered_out_of_order(
            [(timings.sent[index[phone, w]], timings.acked[index[phone, w]]) for w in acked],
            [first.get(w) for w in acked],
        )
        out_of_order += wrong
        overlapping += overlapped
    result = {
        "setup": setup.key,
        "customers": customers,
        "messages": len(requests),
        "faults": faults,
        "acked": sum(1 for s in timings.status if s == 200),
        "replies_expected": len(requests),
        "replies_delivered": sum(len(v) for v in per_phone.values()),
        "customers_missing_replies": sum(1 for p in phones if len(per_phone[p]) < len(WORDS)),
        "customers_out_of_order": out_of_order,
        # Sent before the previous one was acknowledged: either order is right for these.
        "customers_with_messages_in_flight_at_once": overlapping,
        "customers_with_unexpected_replies": unexpected,
        "statuses": statuses(timings),
        "seconds_until_all_delivered": round(elapsed, 1),
        "standins": stats,
    }
    log(
        f"    delivered {result['replies_delivered']}/{result['replies_expected']} in "
        f"{result['seconds_until_all_delivered']} s, out of order {out_of_order}, "
        f"faults injected {stats['graph_faults']}"
    )
    return result


# --- slow bodies from strangers ----------------------------------------------------------------

# What the slow-body phase asserts (issue 12): memory stays bounded, health checks stay fast and
# real webhooks keep being answered while strangers hold connections with 3 MiB bodies.
SLOW_BODY_MAX_RSS_GROWTH_MIB = 64
SLOW_BODY_MAX_HEALTHZ_P99_MS = 100.0


def slow_body_phase(
    workdir: Path,
    connections: int,
    seconds: float,
    *,
    setup: Setup = SQLITE,
    check: bool = True,
    log: Log = print,
) -> dict[str, Any]:
    """`connections` strangers each declare a 3 MiB body, send all but its last byte and stall
    (reconnecting whenever the bot drops them), for `seconds`; meanwhile /healthz is polled,
    signed "hi" webhooks arrive from new customers, and the bot's RSS is sampled. With several
    processes, the attack and the probes go to the first one."""
    from bench.attack import Probes, start_slow_bodies

    with deployed(setup, workdir, "slow-body") as d:
        standins, bot = d.standins, d.bots.procs[0]
        quiet = Probes(bot.url, bot.pid)
        asyncio.run(quiet.run(2.0))  # warm up; the baseline
        baseline_kib = procs.memory(bot.pid).get("VmRSS", 0)
        log(f"  {connections} stalled 3 MiB bodies for {seconds:g} s, probes meanwhile …")
        attacker, tally_queue = start_slow_bodies("127.0.0.1", bot.port, connections, seconds)
        probes = Probes(bot.url, bot.pid)
        asyncio.run(probes.run(seconds))
        tally = tally_queue.get(timeout=seconds + 60)
        attacker.join(timeout=10)
        first, _, _ = first_replies(standins.url, set(probes.phones), wait_seconds=5)
        memory = procs.memory(bot.pid)
    peak_kib = max([memory.get("VmHWM", 0), *probes.rss_kib])
    answered = sum(1 for phone in probes.phones if phone in first)
    result = {
        "connections": connections,
        "seconds": seconds,
        "baseline_rss_mib": round(baseline_kib / 1024, 1),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "rss_growth_mib": round((peak_kib - baseline_kib) / 1024, 1),
        "rss_at_end_mib": round(memory.get("VmRSS", 0) / 1024, 1),
        "healthz_checks": len(probes.healthz_ms) + probes.healthz_failed,
        "healthz_failed": probes.healthz_failed,
        "healthz_p50_ms": round(percentile(probes.healthz_ms, 50), 1),
        "healthz_p99_ms": round(percentile(probes.healthz_ms, 99), 1),
        "healthz_max_ms": round(max(probes.healthz_ms, default=math.nan), 1),
        "healthz_p99_quiet_ms": round(percentile(quiet.healthz_ms, 99), 1),
        "webhooks_sent": len(probes.phones),
        "webhooks_200": probes.webhook_status.get(200, 0),
        "webhooks_answered": answered,
        "webhook_ack_p99_ms": round(percentile(probes.webhook_ms, 99), 1),
        "attack": tally,
    }
    log(
        f"    RSS {result['baseline_rss_mib']} → peak {result['peak_rss_mib']} MiB "
        f"(+{result['rss_growth_mib']}); /healthz p50/p99/max {result['healthz_p50_ms']}/"
        f"{result['healthz_p99_ms']}/{result['healthz_max_ms']} ms "
        f"({result['healthz_failed']} failed); webhooks {result['webhooks_200']}/"
        f"{result['webhooks_sent']} acked, {answered} answered; attack {tally}"
    )
    if check:
        assert result["rss_growth_mib"] < SLOW_BODY_MAX_RSS_GROWTH_MIB, result
        assert result["healthz_failed"] == 0, result
        assert result["healthz_p99_ms"] < SLOW_BODY_MAX_HEALTHZ_P99_MS, result
        assert result["webhooks_200"] == result["webhooks_sent"] == answered, result
    return result


# --- hostile signed input -----------------------------------------------------------------------


def hostile_input_phase(
    workdir: Path, *, setup: Setup = SQLITE, check: bool = True, log: Log = print
) -> dict[str, Any]:
    """Signed webhooks at Meta's 3 MiB limit built to make one step expensive (a catalog order
    of 36,000 lines, a text of a million words, ...), one at a time, with /healthz polled every
    10 ms from the POST until a second after its 200: how long can one message hold the loop?
    With several processes, the first one gets them."""
    from bench.attack import hostile_bodies, send_while_probing

    rows = []
    with deployed(setup, workdir, "hostile") as d:
        standins, bot = d.standins, d.bots.procs[0]
        since = 0
        for name, (phone, body) in hostile_bodies("555").items():
            status, ack_ms, health = asyncio.run(send_while_probing(bot.url, body))
            first, _, since = first_replies(standins.url, {phone}, wait_seconds=60, since=since)
            rows.append(
                {
                    "input": name,
                    "body_mib": round(len(body) / 2**20, 2),
                    "status": status,
                    "ack_ms": round(ack_ms, 1),
                    "answered": phone in first,
                    "healthz_max_ms": round(max(health, default=math.nan), 1),
                    "healthz_checks": len(health),
                }
            )
            log(f"    {name}: {rows[-1]}")
        memory = procs.memory(bot.pid)
    result = {"inputs": rows, **{f"bot_{k}_kib": v for k, v in memory.items()}}
    if check:
        assert all(r["status"] == 200 and r["answered"] for r in rows), rows
    return result
