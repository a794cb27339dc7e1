"""The retry schedule of merchant deliveries: Standard Webhooks' waits, spread a little, for
about three days, then failed; computed from a clock the test gives it."""

import pytest

from bot.merchant.schedule import STANDARD_WEBHOOKS_DELAYS, RetrySchedule

NOW = 1_790_000_000


def test_each_failure_waits_the_next_step_of_the_schedule() -> None:
    schedule = RetrySchedule(random=lambda: 0.5)  # the middle of the jitter: no spread
    waits = [schedule.next_attempt_at(n, NOW) for n in range(1, 10)]
    assert [w - NOW for w in waits if w is not None] == [
        5,
        300,
        1800,
        7200,
        18000,
        36000,
        50400,
        72000,
        86400,
    ]


def test_after_the_last_step_the_delivery_has_failed() -> None:
    schedule = RetrySchedule()
    assert schedule.next_attempt_at(len(STANDARD_WEBHOOKS_DELAYS) + 1, NOW) is None
    assert schedule.next_attempt_at(0, NOW) is None


def test_a_merchant_server_down_for_a_whole_day_still_gets_the_order() -> None:
    assert RetrySchedule().total_seconds > 2 * 24 * 3600


@pytest.mark.parametrize(("draw", "spread"), [(0.0, 0.9), (1.0, 1.1)])
def test_jitter_spreads_each_wait_by_ten_percent(draw: float, spread: float) -> None:
    schedule = RetrySchedule(random=lambda: draw)
    assert schedule.next_attempt_at(3, NOW) == NOW + round(1800 * spread)
