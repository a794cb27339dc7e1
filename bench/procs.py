"""Starting, watching and stopping the processes of a benchmark run (all on 127.0.0.1)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.standins import (
    ACCESS_TOKEN,
    APP_SECRET,
    KEY_ID,
    KEY_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    WEBHOOK_SECRET,
)

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url, timeout=1) as response,  # noqa: S310 - loopback
        ):
            if response.status == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in KiB."""
    found: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        return self.popen.returncode

    def kill9(self) -> None:
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None


@dataclass(frozen=True)
class Pinning:
    """Where a measurement's processes run: the measured server (the bot, or the ceiling bot)
    on `server`'s CPUs, the benchmark's own processes (stand-ins, load generators) on `rest`.
    None: wherever the kernel puts them. The database server is never pinned."""

    server: frozenset[int] | None = None
    rest: frozenset[int] | None = None

    @property
    def applied(self) -> bool:
        return self.server is not None

    def describe(self) -> str:
        if self.server is None or self.rest is None:
            return "not pinned: this machine lets the benchmark use one CPU"
        return (
            f"the bot (or the ceiling) pinned to CPU {_cpus(self.server)}, stand-ins and load "
            f"generator to CPU {_cpus(self.rest)}"
        )


UNPINNED = Pinning()


def _cpus(cpus: Iterable[int]) -> str:
    return ",".join(str(cpu) for cpu in sorted(cpus))


def pinning_plan(cpus: Iterable[int]) -> Pinning:
    """With two CPUs or more, the measured server gets the first one to itself and the rest
    of the benchmark the others; with one, nothing is pinned."""
    available = sorted(cpus)
    if len(available) < 2:
        return UNPINNED
    return Pinning(frozenset(available[:1]), frozenset(available[1:]))


@contextlib.contextmanager
def pinned_here(cpus: frozenset[int] | None) -> Iterator[None]:
    """Run this process (and so the stand-ins and load generators it starts, which inherit
    its affinity) on `cpus`, then go back to where it was allowed before."""
    if cpus is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _on_cpus(cpus: frozenset[int] | None) -> Callable[[], None] | None:
    """Set in the child before exec, so that every thread the program starts (the bot's
    SQLite writer thread among them) inherits the affinity."""
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def _spawn(
    name: str,
    args: list[str],
    env: Mapping[str, str],
    port: int,
    logdir: Path,
    cwd: Path = REPO,
    cpus: frozenset[int] | None = None,
) -> Proc:
    log = logdir / f"{name}.log"
    with open(log, "ab") as out:
        popen = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            [sys.executable, *args],
            cwd=cwd,
            env={**os.environ, **env},
            stdout=out,
            stderr=out,
            preexec_fn=_on_cpus(cpus),  # the benchmark starts no threads of its own meanwhile
        )
    return Proc(name, popen, port, log)


def bot_dir() -> Path:
    """Where `python -m bot` runs from: this checkout, or BENCH_BOT_DIR (another checkout of
    the project, e.g. `git worktree add /tmp/before HEAD~1`) to compare two versions."""
    return Path(os.environ.get("BENCH_BOT_DIR") or REPO)


def bot_version() -> str:
    """The commit the bot runs from (with "+changes" if its checkout has uncommitted ones)."""
    try:
        head = subprocess.run(  # noqa: S603 - git, on our own checkout
            ["git", "-C", str(bot_dir()), "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(  # noqa: S603
            ["git", "-C", str(bot_dir()), "status", "--porcelain", "--", "bot", "storage", "flows"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def start_standins(
    logdir: Path, *, port: int | None = None, faults: Mapping[str, float] | None = None
) -> Proc:
    port = port or free_port()
    args = ["-m", "bench.standins", "--port", str(port)]
    for key, value in (faults or {}).items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    proc = _spawn("standins", args, {}, port, logdir)
    wait_http(f"{proc.url}/bench/stats", proc=proc.popen)
    return proc


def bot_env(standins_url: str, database_url: str, port: int, **extra: str) -> dict[str, str]:
    return {
        "BOT_MODE": "live",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DATABASE_URL": database_url,
        "BOT_CONFIG": str(bot_dir() / "config.toml"),
        "LOG_LEVEL": "WARNING",
        "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_API_BASE": f"{standins_url}/v25.0",
        "RAZORPAY_KEY_ID": KEY_ID,
        "RAZORPAY_KEY_SECRET": KEY_SECRET,
        "RAZORPAY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "RAZORPAY_API_BASE": f"{standins_url}/v1",
        **extra,
    }


def migrate(logdir: Path, database_url: str) -> None:
    """`python -m bot migrate`, as a release phase runs it before any process starts."""
    log = logdir / "migrate.log"
    with open(log, "ab") as out:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "migrate"],
            cwd=bot_dir(),
            env={**os.environ, **bot_env("http://127.0.0.1:9", database_url, 9)},
            stdout=out,
            stderr=out,
            timeout=120,
            check=False,
        )
    if done.returncode:
        raise RuntimeError(f"python -m bot migrate exited with {done.returncode}; see {log}")


def start_bot(
    logdir: Path,
    standins_url: str,
    database_url: str,
    *,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    name: str = "bot",
) -> Proc:
    port = port or free_port()
    env = bot_env(standins_url, database_url, port, **(env or {}))
    proc = _spawn(name, ["-m", "bot"], env, port, logdir, cwd=bot_dir())
    wait_http(f"{proc.url}/healthz", timeout=60, proc=proc.popen)
    return proc


@dataclass
class Bots:
    """The bot processes of a phase, all on one database (several only on Postgres)."""

    procs: list[Proc]

    @property
    def ports(self) -> list[int]:
        """Where deliveries may go: the processes still running."""
        return [p.port for p in self.procs if p.alive]

    @property
    def urls(self) -> list[str]:
        return [p.url for p in self.procs if p.alive]

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.alive]

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM of the largest process (each one is a dyno of its own)."""
        found = [memory(pid) for pid in self.pids()]
        return {key: max((m.get(key, 0) for m in found), default=0) for key in ("VmRSS", "VmHWM")}

    def stop(self, timeout: float = 30.0) -> None:
        for proc in self.procs:
            proc.stop(timeout)


def start_bots(
    logdir: Path,
    standins_url: str,
    database_url: str,
    count: int = 1,
    *,
    env: Mapping[str, str] | None = None,
    cpus: frozenset[int] | None = None,
) -> Bots:
    """Migrate, then start `count` processes on the database at once (on `cpus`, when given)
    and wait until each answers its health check."""
    migrate(logdir, database_url)
    ports = [free_port() for _ in range(count)]
    procs = [
        _spawn(
            f"bot-{k + 1}" if count > 1 else "bot",
            ["-m", "bot"],
            bot_env(standins_url, database_url, port, **(env or {})),
            port,
            logdir,
            cwd=bot_dir(),
            cpus=cpus,
        )
        for k, port in enumerate(ports)
    ]
    bots = Bots(procs)
    try:
        for proc in procs:
            wait_http(f"{proc.url}/healthz", timeout=60, proc=proc.popen)
    except BaseException:
        bots.stop()
        raise
    return bots


def start_ceiling(
    logdir: Path,
    standins_url: str,
    *,
    uvloop: bool = False,
    read_receipt: bool = False,
    cpus: frozenset[int] | None = None,
) -> Proc:
    port = free_port()
    args = ["-m", "bench.ceiling_bot", "--port", str(port), "--graph", f"{standins_url}/v25.0"]
    if uvloop:
        args.append("--uvloop")
    if read_receipt:
        args.append("--read-receipt")
    proc = _spawn("ceiling", args, {}, port, logdir, cpus=cpus)
    wait_http(f"{proc.url}/healthz", proc=proc.popen)
    return proc


@contextlib.contextmanager
def running(*procs: Proc | Bots) -> Iterator[None]:
    try:
        yield
    finally:
        for proc in reversed(procs):
            proc.stop()
