"""CPU time of everything in a benchmark run, read from /proc: the bot processes, the
stand-ins, the load generator (this process and its children), the database server, and the
whole machine, so that what else ran on these shared cores meanwhile shows up as "other".

The database's share counts the server processes working for the phase's database (its
backends, autovacuum workers on it) plus the server's background writers (WAL writer,
checkpointer), which write for every database but during a phase mostly for this one. The
whole server's CPU, other databases included, is kept beside it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.database import PhaseDatabase

TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process (all its threads) has used so far; 0 once it is gone."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS if fields else 0.0


def server_seconds(postmaster: int) -> float:
    """A whole server: the postmaster, its children that exited (the kernel adds them to
    the parent's cutime/cstime when it reaps them) and those still running."""
    fields = _stat_fields(postmaster)
    if fields is None:
        return 0.0
    total = sum(int(fields[i]) for i in (11, 12, 13, 14))
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        child = _stat_fields(int(entry.name))
        if child is not None and int(child[1]) == postmaster:
            total += int(child[11]) + int(child[12])
    return total / TICKS


def machine_busy_seconds() -> float:
    """CPU time every core of the machine spent on anything but idling, so far."""
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in cpu[:8])
    return (user + nice + system + irq + softirq + steal) / TICKS


def bench_seconds() -> float:
    """This process and the children it has waited for (the forked load generators)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def wait_for_quiet(
    max_wait: float, *, threshold: float = 0.3, window: float = 2.0
) -> tuple[float, float]:
    """Before a phase, wait until the rest of the machine uses less than `threshold` cores
    over `window` seconds (other people's test runs share these cores), for at most
    `max_wait` seconds. Returns (cores busy in the last window, seconds waited)."""
    started = time.monotonic()
    while True:
        before = machine_busy_seconds()
        time.sleep(window)
        busy = (machine_busy_seconds() - before) / window
        waited = time.monotonic() - started
        if busy < threshold or waited >= max_wait:
            return busy, waited


@dataclass(frozen=True)
class CpuReading:
    at: float
    bots: dict[int, float]
    standins: float
    bench: float
    db: dict[int, float]
    db_server: float
    machine: float


class CpuMeter:
    """Readings of every role's CPU time; `used` turns two into seconds per role."""

    def __init__(
        self,
        bot_pids: Callable[[], Sequence[int]],
        standins_pid: int,
        database: PhaseDatabase | None,
    ) -> None:
        self._bot_pids = bot_pids
        self._standins = standins_pid
        self._database = database
        self._db_pids: set[int] = set()

    def read(self) -> CpuReading:
        pids, postmaster = self._database.server_processes() if self._database else ([], None)
        self._db_pids.update(pids)
        return CpuReading(
            at=time.monotonic(),
            bots={pid: cpu_seconds(pid) for pid in self._bot_pids()},
            standins=cpu_seconds(self._standins),
            bench=bench_seconds(),
            db={pid: cpu_seconds(pid) for pid in self._db_pids},
            db_server=server_seconds(postmaster) if postmaster else 0.0,
            machine=machine_busy_seconds(),
        )

    @staticmethod
    def used(start: CpuReading, end: CpuReading) -> dict[str, float]:
        """CPU seconds each role used between two readings, and the wall time between them.
        A process that started in between counts from zero; one that ended is lost (only the
        kill phase has one, and it reports no CPU)."""

        def grown(before: dict[int, float], after: dict[int, float]) -> float:
            return sum(max(0.0, t - before.get(pid, 0.0)) for pid, t in after.items())

        bots = grown(start.bots, end.bots)
        db = grown(start.db, end.db)
        standins = end.standins - start.standins
        generator = end.bench - start.bench
        machine = end.machine - start.machine
        return {
            "wall": end.at - start.at,
            "bots": bots,
            "db": db,
            "standins": standins,
            "generator": generator,
            "db_server_all_databases": end.db_server - start.db_server,
            "machine": machine,
            "other": max(0.0, machine - bots - db - standins - generator),
        }
