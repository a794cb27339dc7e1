"""When a failed merchant delivery is tried again: the Standard Webhooks schedule.

Attempts come right away, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h after
each failure (standard-webhooks/standard-webhooks:spec/standard-webhooks.md): about three
days in all, so a merchant's server down for a day still gets every order. Each wait is
spread by ±10 % so many deliveries failing together do not come back together. Nothing here
sleeps: the worker stores `next_attempt_at` and lets go of the delivery until then.
"""

import random as _random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

STANDARD_WEBHOOKS_DELAYS: tuple[int, ...] = (
    5,
    5 * 60,
    30 * 60,
    2 * 3600,
    5 * 3600,
    10 * 3600,
    14 * 3600,
    20 * 3600,
    24 * 3600,
)
JITTER = 0.1


@dataclass(frozen=True)
class RetrySchedule:
    delays: Sequence[int] = STANDARD_WEBHOOKS_DELAYS
    # Jitter only spreads load: no cryptographic randomness needed.
    random: Callable[[], float] = field(default=_random.random, repr=False, compare=False)

    def next_attempt_at(self, failures: int, now: int) -> int | None:
        """When to try again after `failures` failed attempts (1 after the first); None once
        the schedule is spent and the delivery has failed for good."""
        if failures < 1 or failures > len(self.delays):
            return None
        delay = self.delays[failures - 1]
        spread = 1 + JITTER * (2 * min(max(self.random(), 0.0), 1.0) - 1)
        return now + max(1, round(delay * spread))

    @property
    def total_seconds(self) -> int:
        """How long a delivery keeps being tried, without jitter."""
        return sum(self.delays)
