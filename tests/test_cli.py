"""The commands a merchant and a Procfile run: check-config, migrate, serve (and SIGTERM)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.cli import main
from bot.shop_config import ConfigError, load_shop_config
from tests.conftest import REPO

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


def test_a_postgres_url_gets_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    env = {"BOT_MODE": "sandbox", "DATABASE_URL": "postgres://u:secret@db/shop"}
    assert main(["migrate"], env=env) == 2
    err = capsys.readouterr().err
    assert "DATABASE_URL" in err
    assert "secret" not in err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_server_starts_answers_health_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
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
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "the server did not start within 30 s"
                time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    output = process.stdout.read().decode() if process.stdout else ""
    assert '"workers stopped"' in output
    assert "never-in-logs" not in output


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
