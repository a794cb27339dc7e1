"""Order ids: `ORD-<UTC day>-<12 hex>`; the day's text is kept until the UTC day changes."""

import re
from datetime import UTC, datetime

from bot.clock import new_order_id, utc_day


def test_an_order_id_names_todays_utc_date_and_twelve_random_hex_digits() -> None:
    before = datetime.now(UTC).strftime("%Y%m%d")
    ids = {new_order_id() for _ in range(100)}
    after = datetime.now(UTC).strftime("%Y%m%d")

    assert len(ids) == 100
    for order_id in ids:
        assert re.fullmatch(r"ORD-(\d{8})-[0-9A-F]{12}", order_id)
        assert order_id[4:12] in {before, after}


def test_the_day_turns_at_utc_midnight() -> None:
    midnight = datetime(2026, 12, 2, tzinfo=UTC).timestamp()

    assert utc_day(midnight - 0.001) == "20261201"
    assert utc_day(midnight) == "20261202"
    assert utc_day(midnight - 1) == "20261201"  # back again: the kept day is not stuck
    assert utc_day(datetime(2027, 1, 1, 5, 30, tzinfo=UTC).timestamp()) == "20270101"
