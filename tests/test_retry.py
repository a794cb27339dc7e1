"""Backoff: bounded, jittered within range, deterministic with an injected random source."""

import random
from collections.abc import Callable

import pytest

from bot.retry import Backoff


def seeded(seed: int) -> Callable[[], float]:
    return random.Random(seed).random  # noqa: S311 - reproducible jitter, not cryptography


def fixed(value: float) -> Backoff:
    return Backoff(base=1, factor=2, cap=30, total=100, random=lambda: value)


def test_ceiling_grows_exponentially_from_the_first_failure_up_to_the_cap() -> None:
    backoff = fixed(1.0)

    assert [backoff.ceiling(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
    assert backoff.ceiling(0) == backoff.ceiling(1)


def test_delay_is_the_random_fraction_of_the_ceiling() -> None:
    assert fixed(0.0).delay(3) == 0
    assert fixed(0.5).delay(3) == 2
    assert fixed(0.999).delay(3) == pytest.approx(3.996)
    assert fixed(0.25).delay(50) == 7.5  # capped at 30


def test_a_sloppy_random_source_is_clamped_into_range() -> None:
    assert fixed(1.5).delay(2) == 2
    assert fixed(-1.0).delay(2) == 0


@pytest.mark.parametrize("attempt", [1, 2, 5, 10, 100, 10_000, 10**9])
def test_delays_stay_within_zero_and_the_ceiling(attempt: int) -> None:
    backoff = Backoff(base=0.5, factor=3, cap=20, total=60, random=seeded(7))
    for _ in range(200):
        assert 0 <= backoff.delay(attempt) <= min(20, backoff.ceiling(attempt))


def test_delays_are_jittered_not_constant() -> None:
    backoff = Backoff(random=seeded(1))
    delays = {backoff.delay(5) for _ in range(50)}

    assert len(delays) > 40


def test_same_seed_same_delays() -> None:
    first = Backoff(random=seeded(42))
    second = Backoff(random=seeded(42))

    assert [first.delay(n) for n in range(1, 20)] == [second.delay(n) for n in range(1, 20)]


def test_gives_up_when_the_next_wait_would_overrun_the_budget() -> None:
    backoff = fixed(0.5)

    assert not backoff.gives_up(elapsed=90, next_delay=10)
    assert backoff.gives_up(elapsed=90, next_delay=10.01)
    assert backoff.gives_up(elapsed=101, next_delay=0)


def test_next_delay_returns_none_once_the_budget_is_spent() -> None:
    backoff = fixed(1.0)

    assert backoff.next_delay(3, elapsed=0) == 4
    assert backoff.next_delay(3, elapsed=97) is None


def test_a_retry_loop_on_a_fake_clock_stays_within_the_budget() -> None:
    backoff = Backoff(base=1, factor=2, cap=10, total=60, random=seeded(3))
    now, failures = 0.0, 0
    while True:
        failures += 1
        pause = backoff.next_delay(failures, elapsed=now)
        if pause is None:
            break
        now += pause

    assert now <= 60
    assert failures > 5


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base": 0},
        {"base": -1},
        {"factor": 0.5},
        {"base": 10, "cap": 5},
        {"total": -1},
    ],
)
def test_nonsense_settings_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="Backoff needs"):
        Backoff(**kwargs)  # type: ignore[arg-type]


def test_a_negative_attempt_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        fixed(0.5).delay(-1)


def test_defaults_are_usable() -> None:
    backoff = Backoff()

    assert 0 <= backoff.delay(1) <= 1
    assert backoff.ceiling(100) == 60
