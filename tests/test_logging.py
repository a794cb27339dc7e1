import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from bot.logging import configure_logging, get_logger, mask_phone


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    # configure_logging binds the captured stdout; later tests must not log into a closed file.
    yield
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("919812300001", "91******0001"),
        ("IN.13491208655302741918", "IN***1918"),
        ("12345", "*****"),
    ],
)
def test_phone_numbers_are_masked(raw: str, masked: str) -> None:
    assert mask_phone(raw) == masked


def test_a_log_line_is_json_with_masked_customer_and_no_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO")
    get_logger("test").info("hello", customer="919812300001", access_token="EAAG-secret")
    line = capsys.readouterr().out.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["event"] == "hello"
    assert record["customer"] == "91******0001"
    assert record["access_token"] == "[redacted]"
    assert "EAAG-secret" not in line
    assert "919812300001" not in line
