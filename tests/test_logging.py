import json
import logging
import re
from collections.abc import Iterator

import pytest
import structlog

from bot.logging import configure_logging, get_logger, mask_phone, short_hash
from flows.catalog import ShopConfig
from tests.fixtures_path import WHATSAPP_FIXTURES
from tests.support.fakes import meta_like_wamid
from tests.support.harness import running_shop


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


def test_a_message_id_is_logged_as_a_short_stable_hash(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    wamid = "wamid.HBgMOTE5ODEyMzAwMDAxFQIAEhgUM0EwMDAwMDAwMDAwMDAwMDAwMDAA"
    get_logger("test").info("sent", wamid=wamid, message_id=wamid)
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["wamid"] == record["message_id"] == short_hash(wamid)
    assert re.fullmatch(r"[0-9a-f]{12}", record["wamid"])


async def test_wamids_never_reach_the_log_so_phone_numbers_stay_masked(
    database_url: str, shop_config: ShopConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    # Meta's wamids are base64 that spells the customer's number: "HBgMOTE5ODEy..." holds
    # 919812..., so a wamid beside a masked number unmasks it.
    configure_logging("INFO")
    failed = "wamid.HBgMOTE5ODEyMzAwMDAzFQIAERgSODM1MDFFQkUyQUFEOTE2QjUwAA=="
    async with running_shop(database_url, shop_config) as shop:
        status = (WHATSAPP_FIXTURES / "status_failed_reengagement.json").read_bytes()
        assert (await shop.post_whatsapp(status)).status == 200  # logged as an error
        assert (await shop.say("919812300001", "hi")).status == 200  # "message sent", wamid
        await shop.settle()
    out = capsys.readouterr().out
    sent = meta_like_wamid("919812300001", 0)
    assert "could not deliver" in out
    assert "message sent" in out
    for wamid in (failed, sent):
        assert short_hash(wamid) in out
        assert wamid not in out
        assert wamid[len("wamid.") :][:20] not in out  # the base64 that spells the number
    assert "919812300001" not in out
    assert "919812300003" not in out
