"""The commands a merchant and a Procfile run: check-config, migrate, serve (and SIGTERM)."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.hosting import HEROKU
from bot.settings import REQUIRED_IN_LIVE_MODE
from bot.shop_config import ConfigError, load_shop_config
from tests.conftest import REPO
from tests.support.ports import free_port

LIVE_ENV = {name: f"value-of-{name.lower()}" for name in REQUIRED_IN_LIVE_MODE}

BAD_CONFIG = """
[shop]
name = "Chai Point"
[checkout]
payment_link_expiry_minutes = 5
[[products]]
id = "masala-chai-250"
name = "Masala Chai"
price = "249.999"
category = "Tea"
[[products]]
id = "kettle"
name = "Kettle"
price = 899
category = "Brewing"
"""


def test_check_config_accepts_the_sample_shop(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(REPO / "config.toml")], env={}) == 0
    assert "OK" in capsys.readouterr().out


def test_check_config_names_every_problem_with_its_product_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BAD_CONFIG)
    assert main(["check-config", str(path)], env={}) == 1
    err = capsys.readouterr().err
    assert "product 'masala-chai-250', field price" in err
    assert "product 'kettle', field price" in err
    assert "checkout.payment_link_expiry_minutes" in err


def test_check_config_reads_bot_config_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "shop.toml"
    path.write_text("not = [toml")
    assert main(["check-config"], env={"BOT_CONFIG": str(path)}) == 1
    assert "not valid TOML" in capsys.readouterr().err


def test_missing_secrets_are_named_in_one_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve"], env={"WHATSAPP_ACCESS_TOKEN": "x"}) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "WHATSAPP_APP_SECRET" in err
    assert "RAZORPAY_WEBHOOK_SECRET" in err


def test_migrate_creates_the_database_and_is_idempotent(tmp_path: Path) -> None:
    env = {"BOT_MODE": "sandbox", "DATABASE_URL": f"sqlite:///{tmp_path}/data/bot.sqlite3"}
    assert main(["migrate"], env=env) == 0
    assert (tmp_path / "data" / "bot.sqlite3").exists()
    assert main(["migrate"], env=env) == 0


def test_an_unreachable_postgres_gets_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 1 on loopback: nothing listens, the connection is refused at once.
    env = {"BOT_MODE": "sandbox", "DATABASE_URL": "postgres://u:secret@127.0.0.1:1/shop"}
    assert main(["migrate"], env=env) == 3
    err = capsys.readouterr().err
    assert "cannot be reached" in err
    assert "127.0.0.1:1/shop" in err
    assert "secret" not in err


def test_a_malformed_database_url_is_an_environment_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {"BOT_MODE": "sandbox", "DATABASE_URL": "mysql://u:secret@db/shop"}
    assert main(["migrate"], env=env) == 2
    err = capsys.readouterr().err
    assert "DATABASE_URL" in err
    assert "secret" not in err


def test_database_ssl_reaches_the_release_phase_migration(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"BOT_MODE": "sandbox", "DATABASE_URL": postgres_url}
    assert main(["migrate"], env=env) == 0  # automatic: no TLS to this machine
    # A certificate this machine's server cannot show: refused before any SQL, and retryable.
    assert main(["migrate"], env={**env, "DATABASE_SSL": "verify-full"}) == 3
    assert "cannot be reached" in capsys.readouterr().err


class RunAppCall:
    """Stands in for aiohttp's `web.run_app` to see how `python -m bot` would serve."""

    def __init__(self) -> None:
        self.called = False
        self.options: dict[str, Any] = {}

    def __call__(self, app: object, **options: Any) -> None:
        self.called = True
        self.options = options
        options["loop"].close()


def test_migrate_on_a_dyno_refuses_sqlite_and_writes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The release phase runs in a throw-away dyno: a "successful" migration of a file there
    # would hide that the web dynos keep orders on a disk wiped at every restart.
    monkeypatch.chdir(tmp_path)
    for database in ({}, {"DATABASE_URL": f"sqlite:///{tmp_path}/data/bot.sqlite3"}):
        assert main(["migrate"], env={**LIVE_ENV, "DYNO": "release.7", **database}) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: DATABASE_URL is a SQLite file")
        assert "wipes the filesystem on every restart" in err
        assert "heroku addons:create heroku-postgresql:essential-0" in err
    assert list(tmp_path.iterdir()) == []


def test_the_web_process_on_a_dyno_refuses_sqlite_before_it_listens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_app = RunAppCall()
    monkeypatch.setattr("bot.cli.web.run_app", run_app)
    env = {**LIVE_ENV, "DYNO": "web.1", "DATABASE_URL": f"sqlite:///{tmp_path}/bot.sqlite3"}
    assert main(["serve"], env=env) == 2
    assert "error: DATABASE_URL is a SQLite file" in capsys.readouterr().err
    assert not run_app.called
    assert list(tmp_path.iterdir()) == []


def test_a_dyno_without_credentials_names_every_variable_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_app = RunAppCall()
    monkeypatch.setattr("bot.cli.web.run_app", run_app)
    env = {"DYNO": "web.1", "PORT": "41234", "DATABASE_URL": "postgres://u:p@db.example.in/d"}
    assert main(["serve"], env=env) == 2
    assert not run_app.called
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    for name in REQUIRED_IN_LIVE_MODE:
        assert name in err
    assert "Heroku (DYNO is set)" in err


def test_the_server_outlasts_the_routers_keepalive_and_stops_before_sigkill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_app = RunAppCall()
    monkeypatch.setattr("bot.cli.web.run_app", run_app)
    env = {**LIVE_ENV, "DATABASE_URL": f"sqlite:///{tmp_path}/bot.sqlite3"}
    assert main(["serve"], env=env) == 0
    # Heroku's router keeps idle connections for 90 s; a server closing first races it.
    assert run_app.options["keepalive_timeout"] > 90
    # Open requests, then the workers' default 25 s grace, inside Heroku's 30 s to SIGKILL.
    assert HEROKU.stop_window_seconds is not None
    assert run_app.options["shutdown_timeout"] + 25 < HEROKU.stop_window_seconds
    assert run_app.options["host"] == "0.0.0.0"  # noqa: S104 - where the router connects


def test_a_sandbox_asked_for_on_a_dyno_warns_loudly_and_stays_on_loopback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_app = RunAppCall()
    monkeypatch.setattr("bot.cli.web.run_app", run_app)
    env = {"DYNO": "web.1", "BOT_MODE": "sandbox", "DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}
    assert main(["serve"], env=env) == 0
    assert run_app.options["host"] == "127.0.0.1"
    err = capsys.readouterr().err
    assert "WARNING: SANDBOX MODE ON HEROKU" in err
    assert "/sandbox/orders" in err
    assert "set HOST=0.0.0.0 to publish it" in err


def test_the_server_starts_answers_health_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path}/bot.sqlite3",
        "BOT_CONFIG": str(REPO / "config.toml"),
        "BOT_MODE": "live",
        "WHATSAPP_ACCESS_TOKEN": "EAAG-never-in-logs",
        "WHATSAPP_PHONE_NUMBER_ID": "1",
        "WHATSAPP_APP_SECRET": "s",
        "WHATSAPP_VERIFY_TOKEN": "v",
        "RAZORPAY_KEY_ID": "k",
        "RAZORPAY_KEY_SECRET": "key-secret-never-in-logs",
        "RAZORPAY_WEBHOOK_SECRET": "ws",
    }
    process = _start_bot(env)
    try:
        _wait_until_healthy(process, port)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    output = process.stdout.read().decode() if process.stdout else ""
    assert '"workers stopped"' in output
    assert "never-in-logs" not in output
    # Once started, what lives as long as the process is kept out of garbage collection.
    assert '"start-up objects frozen out of garbage collection"' in output


def _start_bot(env: dict[str, str]) -> "subprocess.Popen[bytes]":
    """`python -m bot` as a merchant runs it, its output kept for the assertions."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_until_healthy(process: "subprocess.Popen[bytes]", port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                assert r.status == 200
                return
        except OSError:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "the bot did not start within 30 s"
            time.sleep(0.1)


def _environ_without_the_bots_variables() -> dict[str, str]:
    """This machine's environment, less anything that would choose the bot's mode or host."""
    platforms = {"DYNO", "CONTAINER", "K_SERVICE", "CLOUD_RUN_JOB", "RENDER", "FLY_APP_NAME"}
    ours = {*REQUIRED_IN_LIVE_MODE, *platforms, "RAILWAY_ENVIRONMENT", "BOT_MODE", "HOST"}
    return {name: value for name, value in os.environ.items() if name not in ours}


def test_the_sandbox_answers_on_loopback_and_nowhere_else(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **_environ_without_the_bots_variables(),
        "PORT": str(port),
        "DATABASE_URL": f"sqlite:///{tmp_path}/bot.sqlite3",
        "BOT_CONFIG": str(REPO / "config.toml"),
    }
    process = _start_bot(env)
    try:
        _wait_until_healthy(process, port)
        # Another address of this very machine: a server on 0.0.0.0 would answer here too.
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.2", port)):
            pass
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.parametrize("welcome", ["{shop:>200000000}", "Hi {shop!r}"])
def test_check_config_rejects_placeholders_with_a_format_spec_or_conversion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], welcome: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        (REPO / "config.toml").read_text(encoding="utf-8")
        + f"\n[messages]\nwelcome = {json.dumps(welcome)}\n",
        encoding="utf-8",
    )
    assert main(["check-config", str(path)], env={}) == 1
    err = capsys.readouterr().err
    assert "messages.welcome" in err
    assert "plain" in err
    # The bot refuses to start on the same file: serve loads it through the same model.
    with pytest.raises(ConfigError, match=r"messages\.welcome"):
        load_shop_config(path)


def test_the_sandbox_refuses_a_database_that_holds_live_orders(tmp_path: Path) -> None:
    database = tmp_path / "shop.sqlite3"
    url = f"sqlite:///{database}"
    assert main(["migrate"], env={"DATABASE_URL": url, "BOT_MODE": "sandbox"}) == 0
    with closing(sqlite3.connect(database)) as conn:  # what a live shop left behind
        conn.execute("INSERT INTO shop_meta (key, value, updated_at) VALUES ('mode', 'live', 1)")
        conn.execute(
            "INSERT INTO customers (key, conversation, created_at, updated_at) "
            "VALUES ('919812300001', '{}', 1, 1)"
        )
        conn.execute(
            "INSERT INTO orders (id, customer_key, lines, total, currency, status, created_at, "
            "updated_at) VALUES ('ord_1', '919812300001', '[]', 100, 'INR', 'paid', 1, 1)"
        )
        conn.commit()
    env = {
        **_environ_without_the_bots_variables(),
        "PORT": str(free_port()),
        "DATABASE_URL": url,
        "BOT_CONFIG": str(REPO / "config.toml"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=REPO, env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 2
    assert "holds orders made in live mode" in done.stderr.decode()
