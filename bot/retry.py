"""Exponential back-off with full jitter and a total time budget.

Why full jitter: when Meta or Razorpay throttles us, every queued message fails at once; delays
drawn uniformly from [0, ceiling] spread the retries out instead of sending them back in waves
(the "Exponential Backoff And Jitter" analysis on the AWS Architecture Blog).

Use it from a retry loop that owns the clock and the sleeping::

    backoff = Backoff(base=1, factor=2, cap=60, total=300)
    failures, started = 0, clock()
    while True:
        try:
            return await send()
        except WhatsAppError as error:
            failures += 1
            pause = backoff.delay(failures)
            if not error.is_transient or backoff.gives_up(clock() - started, pause):
                raise
            await sleep(pause)

`attempt` is the number of tries that have failed so far: 1 after the first failure. Nothing
here sleeps or reads a clock, so tests need no time to pass, and a persistent outbox can store
the count and the first-try time and resume after a restart.
"""

import random as _random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    """Delay after `attempt` failures: uniform in [0, min(cap, base * factor**(attempt - 1))].

    base: ceiling of the first delay, seconds.
    factor: growth of the ceiling per failure (>= 1).
    cap: largest ceiling of any single delay, seconds.
    total: time budget in seconds from the first try; no retry is scheduled past it.
    random: source of floats in [0, 1); inject a fixed one for deterministic tests.
    """

    base: float = 1.0
    factor: float = 2.0
    cap: float = 60.0
    total: float = 300.0
    # Jitter only spreads load: it needs no cryptographic randomness.
    random: Callable[[], float] = field(default=_random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.base <= 0 or self.factor < 1 or self.cap < self.base or self.total < 0:
            raise ValueError(
                "Backoff needs base > 0, factor >= 1, cap >= base and total >= 0, "
                f"got base={self.base}, factor={self.factor}, cap={self.cap}, total={self.total}"
            )

    def ceiling(self, attempt: int) -> float:
        """The largest delay after `attempt` failures (0 is treated like 1)."""
        if attempt < 0:
            raise ValueError("attempt counts failures: it cannot be negative")
        try:
            # float(): an int factor would build a huge exact int before the cap applies.
            grown = self.base * float(self.factor) ** max(attempt - 1, 0)
        except OverflowError:  # absurd attempt numbers: the cap applies anyway
            return self.cap
        return min(self.cap, grown)

    def delay(self, attempt: int) -> float:
        """A jittered delay in [0, ceiling(attempt)], seconds."""
        fraction = min(max(self.random(), 0.0), 1.0)  # a sloppy injected source stays in range
        return fraction * self.ceiling(attempt)

    def gives_up(self, elapsed: float, next_delay: float) -> bool:
        """True when waiting `next_delay` more, `elapsed` seconds after the first try, would
        end past the budget."""
        return elapsed + next_delay > self.total

    def next_delay(self, attempt: int, *, elapsed: float) -> float | None:
        """`delay(attempt)`, or None when that wait would overrun the budget."""
        pause = self.delay(attempt)
        return None if self.gives_up(elapsed, pause) else pause
