"""The benchmark's phases. Each starts its own processes, runs bounded in count and time, and
returns a plain dict of results (written to JSON and tabulated by `bench.report`)."""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from bench import payloads, procs
from bench.customers import ORDER_ITEMS, Shopper, is_confirmation, run_checkouts
from bench.loadgen import Timings, render_request, run_open_loop, run_processes

Log = Callable[[str], None]


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
    standins_url: str, phones: set[str], *, wait_seconds: float, since: int = 0
) -> tuple[dict[str, float], dict[str, int], int]:
    """Arrival time of the first reply to each phone, and how many each received; polls until
    every phone has one or nothing new arrived for `wait_seconds`."""
    first: dict[str, float] = {}
    count: dict[str, int] = defaultdict(int)
    quiet_since = time.monotonic()
    while True:
        data = get_json(f"{standins_url}/bench/arrivals?since={since}")
        since = data["next"]
        for t, to in data["arrivals"]:
            if to in phones:
                count[to] += 1
                first.setdefault(to, t)
        if data["arrivals"]:
            quiet_since = time.monotonic()
        if len(first) >= len(phones) or time.monotonic() - quiet_since > wait_seconds:
            return first, dict(count), since
        time.sleep(0.2)


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
    }


def load_phase(
    workdir: Path,
    rate: float,
    duration: float,
    *,
    target: str = "bot",
    content: dict[str, Any] | None = None,
    processes: int = 1,
    bot_env: dict[str, str] | None = None,
    profile: Path | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """Fresh stand-ins and a fresh bot (or the ceiling bot) on a fresh database; `rate`
    messages a second for `duration` seconds, each from its own customer."""
    logdir = workdir / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    standins = procs.start_standins(logdir)
    db = workdir / f"load-{target}-{int(rate)}.sqlite3"
    if target == "bot":
        server = procs.start_bot(logdir, standins.url, db, env=bot_env)
    else:
        # On uvloop, like the bot (bot/cli.py): the same loop for both sides of the comparison.
        server = procs.start_ceiling(logdir, standins.url, uvloop=target != "ceiling-asyncio")
    with procs.running(standins, server):
        n = int(rate * duration)
        tag = f"{int(rate):04d}"
        phones, requests = build_messages(
            "127.0.0.1", server.port, tag, n, content or payloads.text("hi")
        )
        log(f"  {target}: {n} messages at {rate:g}/s …")
        spy = _py_spy(server.pid, profile, duration) if profile else None
        cpu0 = {p.name: procs.cpu_seconds(p.pid) for p in (server, standins)}
        gen0 = os.times()
        timings = run_processes(
            "127.0.0.1", server.port, requests, rate, processes=processes, drain_seconds=30
        )
        gen1 = os.times()
        wall = timings.finished - timings.started
        cpu = {p.name: procs.cpu_seconds(p.pid) - cpu0[p.name] for p in (server, standins)}
        cpu["generator"] = (gen1.children_user + gen1.children_system) - (
            gen0.children_user + gen0.children_system
        )
        first, counts, _ = first_replies(standins.url, set(phones), wait_seconds=10)
        if spy is not None:
            spy.wait(timeout=60)
        result = summarize_load(rate, phones, timings, first, counts)
        result["target"] = target
        # Share of one core each process used while the load ran (2.0 = both cores).
        result["cpu_cores"] = {name: round(t / wall, 2) for name, t in cpu.items()}
        result.update({f"bot_{k}_kib": v for k, v in procs.memory(server.pid).items()})
        result["standins"] = get_json(f"{standins.url}/bench/stats")
    log(
        f"    achieved {result['achieved_rate']}/s, ack p99 {result['ack_p99_ms']} ms, "
        f"reply p50/p99 {result['reply_p50_ms']}/{result['reply_p99_ms']} ms, "
        f"unanswered {result['unanswered']}, not acked {result['not_acked']}, "
        f"peak RSS {result.get('bot_VmHWM_kib', 0) // 1024} MiB, cores used {result['cpu_cores']}"
    )
    return result


def _py_spy(pid: int, out: Path, duration: float) -> subprocess.Popen[bytes]:
    """Sample the server with py-spy (the bench extra) for the length of the load. Only
    samples holding the GIL (--gil): the bot is bound by it, so that is where time goes; the
    SQLite threads show up too (--threads)."""
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
        "--gil",
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
    faults: dict[str, float] | None = None,
    bot_env: dict[str, str] | None = None,
    background_rate: float = 0.0,
    log: Log = print,
) -> dict[str, Any]:
    logdir = workdir / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    standins = procs.start_standins(logdir, faults=faults)
    name = "checkout-" + "-".join(f"{k}={v:g}" for k, v in sorted((faults or {}).items()))
    bot = procs.start_bot(logdir, standins.url, workdir / f"{name}.sqlite3", env=bot_env)
    with procs.running(standins, bot):
        phones = [f"8{i:011d}" for i in range(customers)]
        log(
            f"  {customers} checkouts at {arrivals_per_second:g} customers/s"
            + (f" with faults {faults}" if faults else "")
            + (f" over {background_rate:g} msg/s of background load" if background_rate else "")
        )
        background: threading.Thread | None = None
        if background_rate:
            duration = customers / arrivals_per_second + 5
            _, requests = build_messages(
                "127.0.0.1", bot.port, "bg00", int(background_rate * duration), payloads.text("hi")
            )
            background = threading.Thread(
                target=run_processes,
                args=("127.0.0.1", bot.port, requests, background_rate),
                daemon=True,
            )
            background.start()
        results, confirmations = asyncio.run(
            run_checkouts(
                bot.url,
                standins.url,
                phones,
                arrivals_per_second=arrivals_per_second,
                patience=120 if faults else 60,
            )
        )
        if background is not None:
            background.join(timeout=120)
        links = get_json(f"{standins.url}/bench/links")
        stats = get_json(f"{standins.url}/bench/stats")
        memory = procs.memory(bot.pid)
    links_per_order: dict[str, int] = defaultdict(int)
    for link in links:
        links_per_order[link["reference_id"]] += 1
    confirm = [r.confirmed_at - r.paid_at for r in results if r.confirmed_at and r.paid_at]
    pay_ack = [r.pay_ack - r.paid_at for r in results if r.pay_ack and r.paid_at]
    orders = [r.order_id for r in results if r.order_id]
    result = {
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
        "confirm_p99_ms": ms(percentile(confirm, 99)),
        "confirm_max_ms": ms(max(confirm, default=math.nan)),
        "confirmations_per_paid_order": sorted(
            set(confirmations[r.phone] for r in results if r.confirmed_at)
        ),
        "orders_with_more_than_one_link": sum(1 for o in orders if links_per_order.get(o, 0) > 1),
        "orders_without_link": sum(1 for o in orders if links_per_order.get(o, 0) == 0),
        "standins": stats,
        **{f"bot_{k}_kib": v for k, v in memory.items()},
    }
    log(
        f"    pay-now {result['reached_pay_now']}/{customers}, confirmed {result['confirmed']}, "
        f"payment→confirmation p50/p99 {result['confirm_p50_ms']}/{result['confirm_p99_ms']} ms, "
        f"confirmations per paid order {result['confirmations_per_paid_order']}, "
        f"links per order >1: {result['orders_with_more_than_one_link']}, "
        f"errors {result['error_count']}"
    )
    return result


# --- 10,000 open carts ----------------------------------------------------------------------


def carts_phase(
    workdir: Path,
    carts: int,
    rate: float,
    *,
    bot_env: dict[str, str] | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """`carts` customers each add an item (a tap on a quantity button); then the bot's RSS."""
    content = payloads.button(f"qty:{ORDER_ITEMS[0][0]}:1", "1")
    logdir = workdir / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    standins = procs.start_standins(logdir)
    bot = procs.start_bot(logdir, standins.url, workdir / "carts.sqlite3", env=bot_env)
    with procs.running(standins, bot):
        log(f"  {carts} customers each add to a cart at {rate:g}/s …")
        phones, requests = build_messages("127.0.0.1", bot.port, "cart", carts, content)
        timings = run_processes("127.0.0.1", bot.port, requests, rate, drain_seconds=30)
        first, counts, _ = first_replies(standins.url, set(phones), wait_seconds=10)
        result = summarize_load(rate, phones, timings, first, counts)
        time.sleep(1.0)
        memory = procs.memory(bot.pid)
        result.update({f"bot_{k}_kib": v for k, v in memory.items()})
        result["open_carts"] = _open_carts(workdir / "carts.sqlite3")
    log(
        f"    {result['open_carts']} open carts, RSS {memory.get('VmRSS', 0) // 1024} MiB, "
        f"peak {memory.get('VmHWM', 0) // 1024} MiB"
    )
    return result


def _open_carts(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT conversation FROM customers").fetchall()
    return sum(1 for (conversation,) in rows if json.loads(conversation).get("cart"))


# --- kill -9 in the middle of the load ---------------------------------------------------------


def kill_phase(
    workdir: Path, *, messages: int, payments: int, rate: float, log: Log = print
) -> dict[str, Any]:
    return asyncio.run(
        kill_and_recover(workdir, messages=messages, payments=payments, rate=rate, log=log)
    )


async def kill_and_recover(
    workdir: Path,
    *,
    messages: int,
    payments: int,
    rate: float,
    log: Log = print,
    patience: float = 90.0,
) -> dict[str, Any]:
    """`payments` customers reach Pay now; then `messages` new customers say hi while the
    payments arrive, at `rate` a second; the bot gets SIGKILL half way and is started again on
    the same database; whatever was not acknowledged is delivered again (as Meta and Razorpay
    do). Returns counts; `kill_problems` lists what broke a promise (empty when all is well)."""
    logdir = workdir / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "kill.sqlite3"
    standins = procs.start_standins(logdir)
    bot = procs.start_bot(logdir, standins.url, db)
    port = bot.port
    try:
        log(f"  {payments} customers to Pay now …")
        pay_phones = [f"7{i:011d}" for i in range(payments)]
        pay_requests = await _prepare_payments(bot.url, standins.url, pay_phones)
        hi_phones, hi_requests = build_messages(
            "127.0.0.1", port, "kill", messages, payloads.text("hi")
        )
        # Interleave the payment webhooks evenly among the messages.
        mixed: list[tuple[str, bytes]] = list(zip(hi_phones, hi_requests, strict=True))
        gap = max(1, len(mixed) // max(1, payments))
        for j, item in enumerate(zip(pay_phones, pay_requests, strict=True)):
            mixed.insert(min(len(mixed), j * (gap + 1) + gap // 2), item)
        duration = len(mixed) / rate
        log(f"  {len(mixed)} deliveries at {rate:g}/s; SIGKILL after {duration / 2:.1f} s …")
        loop = asyncio.get_running_loop()
        loop.call_later(0.3 + duration / 2, bot.kill9)  # run_open_loop starts ~0.3 s later
        timings = await run_open_loop(
            "127.0.0.1", port, [r for _, r in mixed], rate, warm_conns=32, drain_seconds=3
        )
        acked = [i for i, status in enumerate(timings.status) if status == 200]
        unacked = [i for i, status in enumerate(timings.status) if status != 200]
        log(f"    killed: {len(acked)} acknowledged, {len(unacked)} not; restarting …")
        bot = procs.start_bot(logdir, standins.url, db, port=port)
        resent = await run_open_loop(
            "127.0.0.1",
            port,
            [mixed[i][1] for i in unacked],
            min(rate, 500.0),
            warm_conns=32,
            drain_seconds=30,
        )
        refused = sum(1 for status in resent.status if status != 200)
        per_phone = await _wait_for_everyone(
            standins.url, set(hi_phones), set(pay_phones), patience
        )
        bot.stop()
    finally:
        bot.stop()
        standins.stop()
    outbox = _outbox_by_customer(db)
    hi_acked = {mixed[i][0] for i in acked} & set(hi_phones)
    pay_acked = {mixed[i][0] for i in acked} & set(pay_phones)
    received_confirmations = {p: sum(map(is_confirmation, per_phone[p])) for p in pay_phones}
    queued_confirmations = {p: sum("✅" in m for m in outbox.get(p, [])) for p in pay_phones}
    # A duplicate send: the Graph stand-in accepted more messages for a customer than the bot
    # ever queued for them (it sent, then died before recording that it had).
    duplicates = sum(
        max(0, len(per_phone[p]) - len(outbox.get(p, []))) for p in hi_phones + pay_phones
    )
    result: dict[str, Any] = {
        "messages": messages,
        "payments": payments,
        "rate": rate,
        "acked_before_kill": len(acked),
        "not_acked_before_kill": len(unacked),
        "redelivered_refused": refused,
        "acked_messages_unanswered": sum(1 for p in hi_acked if not per_phone[p]),
        "messages_unanswered_after_redelivery": sum(1 for p in hi_phones if not per_phone[p]),
        "acked_payments_not_confirmed": sum(1 for p in pay_acked if received_confirmations[p] == 0),
        "payments_not_confirmed_after_redelivery": sum(
            1 for p in pay_phones if received_confirmations[p] == 0
        ),
        "payments_confirmed_more_than_once": sum(1 for c in queued_confirmations.values() if c > 1),
        "duplicate_sends": duplicates,
        "in_flight_bound": 64,  # WORKER_CONCURRENCY: sends that can be under way at once
    }
    problems = [
        name
        for name in (
            "redelivered_refused",
            "acked_messages_unanswered",
            "messages_unanswered_after_redelivery",
            "acked_payments_not_confirmed",
            "payments_not_confirmed_after_redelivery",
            "payments_confirmed_more_than_once",
        )
        if result[name]
    ]
    if duplicates > result["in_flight_bound"]:
        problems.append("duplicate_sends")
    result["kill_problems"] = problems
    log(
        f"    unanswered {result['messages_unanswered_after_redelivery']}, payments not "
        f"confirmed {result['payments_not_confirmed_after_redelivery']}, confirmed twice "
        f"{result['payments_confirmed_more_than_once']}, duplicate sends {duplicates}"
    )
    return result


async def _wait_for_everyone(
    standins_url: str, hi_phones: set[str], pay_phones: set[str], patience: float
) -> dict[str, list[dict[str, Any]]]:
    """Every arrival at the Graph stand-in per phone, once every hi has an answer and every
    payment a confirmation (or after `patience` seconds), plus a quiet second for late
    duplicates."""
    per_phone: dict[str, list[dict[str, Any]]] = defaultdict(list)
    since = 0
    deadline = time.monotonic() + patience
    async with aiohttp.ClientSession() as session:
        while True:
            url = f"{standins_url}/bench/arrivals?since={since}&bodies=1"
            async with session.get(url) as response:
                data = await response.json()
            since = data["next"]
            for _, to, body in data["arrivals"]:
                per_phone[to].append(body)
            done = all(per_phone[p] for p in hi_phones) and all(
                any(map(is_confirmation, per_phone[p])) for p in pay_phones
            )
            if done or time.monotonic() > deadline:
                if done:
                    await asyncio.sleep(1.0)
                    continue_url = f"{standins_url}/bench/arrivals?since={since}&bodies=1"
                    async with session.get(continue_url) as response:
                        for _, to, body in (await response.json())["arrivals"]:
                            per_phone[to].append(body)
                return per_phone
            await asyncio.sleep(0.1)


def _outbox_by_customer(db: Path) -> dict[str, list[str]]:
    import sqlite3

    found: dict[str, list[str]] = defaultdict(list)
    with sqlite3.connect(db) as conn:
        for customer, message in conn.execute("SELECT customer_key, message FROM outbox"):
            found[customer].append(json.loads(message).get("body", "") or message)
    return found


async def _prepare_payments(bot_url: str, standins_url: str, phones: list[str]) -> list[bytes]:
    """Drive each customer to Pay now; return a rendered, signed paid webhook per customer."""
    from bench.customers import CheckoutResult, Inbox

    host, port = bot_url.removeprefix("http://").split(":")
    async with aiohttp.ClientSession() as session:
        inbox = Inbox(standins_url, session)
        poller = asyncio.create_task(inbox.poll_forever())
        shopper = Shopper(bot_url, standins_url, session, inbox)
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
    log: Log = print,
) -> dict[str, Any]:
    """Each customer sends hi, help, cart in quick succession while the Graph stand-in fails;
    every reply must arrive, in the order the messages were sent."""
    logdir = workdir / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    standins = procs.start_standins(logdir, faults=faults)
    env = {"RETRY_BASE_SECONDS": "0.2", "HTTP_TIMEOUT_SECONDS": "5", "SEND_RETRY_SECONDS": "120"}
    tag = "-".join(f"{k}={v:g}" for k, v in sorted(faults.items()))
    bot = procs.start_bot(logdir, standins.url, workdir / f"graph-faults-{tag}.sqlite3", env=env)
    words = ["hi", "help", "cart"]
    with procs.running(standins, bot):
        phones = [f"6{i:011d}" for i in range(customers)]
        requests = []
        for k, word in enumerate(words):
            for i, phone in enumerate(phones):
                msg = payloads.message(phone, f"wamid.gf.{tag}.{i}.{k}", payloads.text(word))
                body = payloads.whatsapp_body(phone, "Flaky", [msg])
                requests.append(
                    render_request(
                        "127.0.0.1",
                        bot.port,
                        "/webhooks/whatsapp",
                        body,
                        payloads.whatsapp_headers(body),
                    )
                )
        log(f"  {len(requests)} messages from {customers} customers with Graph faults {faults} …")
        t0 = time.monotonic()
        timings = run_processes("127.0.0.1", bot.port, requests, 200.0, drain_seconds=30)
        deadline = time.monotonic() + 180
        per_phone: dict[str, list[dict[str, Any]]] = defaultdict(list)
        since = 0
        while time.monotonic() < deadline:
            data = get_json(f"{standins.url}/bench/arrivals?since={since}&bodies=1")
            since = data["next"]
            for _, to, body in data["arrivals"]:
                per_phone[to].append(body)
            if all(len(per_phone[p]) >= len(words) for p in phones):
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - t0
        stats = get_json(f"{standins.url}/bench/stats")
    # hi → the welcome, help → the help text, cart → "Your cart is empty", in that order.
    out_of_order = sum(
        1 for p in phones if [_kind(m) for m in per_phone[p]] != ["welcome", "help", "cart"]
    )
    result = {
        "customers": customers,
        "messages": len(requests),
        "faults": faults,
        "acked": sum(1 for s in timings.status if s == 200),
        "replies_expected": len(requests),
        "replies_delivered": sum(len(v) for v in per_phone.values()),
        "customers_missing_replies": sum(1 for p in phones if len(per_phone[p]) < len(words)),
        "customers_out_of_order": out_of_order,
        "seconds_until_all_delivered": round(elapsed, 1),
        "standins": stats,
    }
    log(
        f"    delivered {result['replies_delivered']}/{result['replies_expected']} in "
        f"{result['seconds_until_all_delivered']} s, out of order {out_of_order}, "
        f"faults injected {stats['graph_faults']}"
    )
    return result


def _kind(message: dict[str, Any]) -> str:
    from bench.customers import body_text

    text = body_text(message)
    if text.startswith("Welcome to"):
        return "welcome"
    if "*help*" in text:
        return "help"
    if "cart is empty" in text:
        return "cart"
    return "other"


# --- slow bodies from strangers ----------------------------------------------------------------

# What the slow-body phase asserts (issue 12): memory stays bounded, health checks stay fast and
# real webhooks keep being answered while strangers hold connections with 3 MiB bodies.
SLOW_BODY_MAX_RSS_GROWTH_MIB = 64
SLOW_BODY_MAX_HEALTHZ_P99_MS = 100.0


def slow_body_phase(
    workdir: Path, connections: int, seconds: float, *, check: bool = True, log: Log = print
) -> dict[str, Any]:
    """`connections` strangers each declare a 3 MiB body, send all but its last byte and stall
    (reconnecting whenever the bot drops them), for `seconds`; meanwhile /healthz is polled,
    signed "hi" webhooks arrive from new customers, and the bot's RSS is sampled."""
    from bench.attack import Probes, start_slow_bodies

    logdir = workdir / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    standins = procs.start_standins(logdir)
    bot = procs.start_bot(logdir, standins.url, workdir / "slow-body.sqlite3")
    with procs.running(standins, bot):
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


def hostile_input_phase(workdir: Path, *, check: bool = True, log: Log = print) -> dict[str, Any]:
    """Signed webhooks at Meta's 3 MiB limit built to make one step expensive (a catalog order
    of 36,000 lines, a text of a million words, ...), one at a time, with /healthz polled every
    10 ms from the POST until a second after its 200: how long can one message hold the loop?"""
    from bench.attack import hostile_bodies, send_while_probing

    logdir = workdir / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    standins = procs.start_standins(logdir)
    bot = procs.start_bot(logdir, standins.url, workdir / "hostile.sqlite3")
    rows = []
    with procs.running(standins, bot):
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
