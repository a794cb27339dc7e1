"""The benchmark's own pieces (bench/): how deliveries are spread over several bot processes,
how "in order" is judged when two deliveries of one customer overlap, and how targets are
held. The phases themselves run in `python -m bench`, not here (apart from tests/faults)."""

import asyncio
import itertools
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from bench.__main__ import main as bench_main
from bench.database import Setup
from bench.loadgen import render_request, run_open_loop, spread
from bench.profile_layers import layer_shares, table
from bench.scenarios import answered_out_of_order
from bench.targets import evaluate


def test_each_delivery_goes_to_a_process_drawn_at_random() -> None:
    ports = [8001, 8002, 8003]
    picks = spread(3000, ports, seed=7)

    shares = Counter(picks)
    assert set(shares) == set(ports)
    assert all(800 < n < 1200 for n in shares.values())  # about a third each
    # Not round-robin: the next delivery's process does not follow from this one's.
    assert any(a == b for a, b in itertools.pairwise(picks))
    assert picks != [ports[i % 3] for i in range(3000)]
    assert spread(3000, ports, seed=7) == picks  # a run can be repeated
    assert spread(3000, ports, seed=8) != picks


def test_one_process_gets_everything() -> None:
    assert spread(5, [8001]) == [8001] * 5
    with pytest.raises(ValueError, match="no port"):
        spread(5, [])


class CountingServer:
    """A loopback HTTP server that answers 200 to every request and counts them."""

    def __init__(self) -> None:
        self.requests = 0
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            self.requests += 1
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            if reader.at_eof():
                return


@pytest.fixture
async def two_servers() -> AsyncIterator[list[CountingServer]]:
    servers = [CountingServer(), CountingServer()]
    started = []
    for server in servers:

        async def handle(
            reader: asyncio.StreamReader,
            writer: asyncio.StreamWriter,
            server: CountingServer = server,
        ) -> None:
            try:
                await server.handle(reader, writer)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        listening = await asyncio.start_server(handle, "127.0.0.1", 0)
        server.port = listening.sockets[0].getsockname()[1]
        started.append(listening)
    yield servers
    for listening in started:
        listening.close()
        await listening.wait_closed()


async def test_the_generator_sends_each_request_where_spread_said(
    two_servers: list[CountingServer],
) -> None:
    ports = [server.port for server in two_servers]
    requests = [render_request("127.0.0.1", ports[0], "/x", b"{}", {}) for _ in range(200)]

    timings = await run_open_loop(
        "127.0.0.1", ports, requests, 2000.0, seed=3, warm_conns=8, drain_seconds=10
    )

    assert timings.status == [200] * 200
    assert timings.port == spread(200, ports, seed=3)
    for server in two_servers:
        assert server.requests == timings.port.count(server.port) > 0


def test_replies_in_the_order_the_bot_received_the_messages_are_in_order() -> None:
    # hi acknowledged at 0.1 s, help sent at 1 s: the bot had hi first.
    sent = [(0.0, 0.1), (1.0, 1.1)]
    assert answered_out_of_order(sent, [0.2, 1.2]) == (False, False)
    assert answered_out_of_order(sent, [1.3, 1.2]) == (True, False)


def test_two_messages_in_flight_at_once_may_be_answered_either_way_round() -> None:
    # help was sent before hi was acknowledged (to another process, say): either is right.
    sent = [(0.0, 0.5), (0.2, 0.3)]
    assert answered_out_of_order(sent, [0.6, 0.4]) == (False, True)
    # A missing reply is counted elsewhere (unanswered), not as disorder.
    assert answered_out_of_order([(0.0, 0.1), (1.0, 1.1)], [None, 1.2]) == (False, False)


def load_row(rate: float, *, reply_p99_ms: float = 20.0, achieved: float | None = None) -> dict:
    return {
        "offered_rate": rate,
        "achieved_rate": rate if achieved is None else achieved,
        "not_acked": 0,
        "unanswered": 0,
        "reply_p99_ms": reply_p99_ms,
        "ack_p99_ms": 5.0,
    }


def run_of(db: str, processes: int, rows: list[dict]) -> dict:
    return {"db": db, "processes": processes, "label": f"{db} {processes}", "load": rows}


def test_postgres_with_one_process_is_held_to_sixty_percent_of_sqlite() -> None:
    sqlite = run_of("sqlite", 1, [load_row(500), load_row(1000), load_row(1250, achieved=900)])
    slow = run_of("postgres", 1, [load_row(500), load_row(750, reply_p99_ms=1500)])
    fast = run_of("postgres", 1, [load_row(500), load_row(750)])

    [rate_check] = [c for c in evaluate([sqlite, slow]) if c.setup == "postgres 1"]
    assert not rate_check.passed
    assert "500 msg/s" in rate_check.measured
    assert "50%" in rate_check.measured
    [rate_check] = [c for c in evaluate([sqlite, fast]) if c.setup == "postgres 1"]
    assert rate_check.passed


def test_two_processes_pass_when_not_slower_than_one_and_say_why_when_equal() -> None:
    one = run_of("postgres", 1, [load_row(100), load_row(200)])
    equal = run_of("postgres", 2, [load_row(100), load_row(200)])
    lower = run_of("postgres", 2, [load_row(100), load_row(200, achieved=150)])

    [check] = [c for c in evaluate([one, equal]) if c.setup == "postgres 2"]
    assert check.passed
    assert "2 shared cores" in check.note
    [check] = [c for c in evaluate([one, lower]) if c.setup == "postgres 2"]
    assert not check.passed


def test_a_kill_run_that_lost_a_message_fails() -> None:
    kill = {
        "acked_messages_unanswered": 1,
        "acked_payments_not_confirmed": 0,
        "payments_confirmed_more_than_once": 0,
        "customers_answered_out_of_order": 0,
        "duplicate_sends": 0,
        "restarted": False,
        "kill_problems": ["acked_messages_unanswered"],
    }
    [check] = evaluate([{"db": "postgres", "processes": 3, "label": "pg 3", "kill": kill}])
    assert not check.passed
    assert "not restarted" in check.target


def test_several_processes_need_postgres(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="--db postgres"):
        Setup("sqlite", 2)
    with pytest.raises(SystemExit):
        bench_main(["--processes", "2", "--phases", "load"])
    assert "--db postgres" in capsys.readouterr().err


def test_a_profile_charges_each_sample_to_the_layer_of_the_code_that_was_running() -> None:
    stacks = [
        "thread (1): MainThread;run_app (aiohttp/web.py:502) 20",
        "thread (1): MainThread;run_app (aiohttp/web.py:502);"
        "StreamWriter.write (aiohttp/http_writer.py:80) 40",
        "thread (1): MainThread;run_app (aiohttp/web.py:502);receive (bot/routes/whatsapp.py:9);"
        "run_sqlite (storage/query.py:40) 25",
        "thread (1): MainThread;run_app (aiohttp/web.py:502);step (flows/machine.py:12) 10",
        "thread (1): MainThread;parse_webhook (bot/whatsapp/payload.py:30);"
        "TypeAdapter.validate_json (pydantic/type_adapter.py:450) 5",
        "",  # py-spy ends with a newline; a cut-off last line has no count
        "thread (1): MainThread;run_app (aiohttp/web.py",
    ]
    shares = layer_shares(stacks)
    assert shares == {
        "aiohttp": 0.40,
        "storage": 0.25,
        "event loop": 0.20,
        "state machine (flows/)": 0.10,
        "pydantic": 0.05,
    }
    assert list(shares) == sorted(shares, key=shares.__getitem__, reverse=True)
    assert "| aiohttp | 40.0% | 400 |" in table(shares, us_per_message=1000)
