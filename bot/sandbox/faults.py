"""Fault-injection knobs for load and fault tests (the benchmark sets them); all off by default."""

import random
from dataclasses import dataclass, field


@dataclass(slots=True)
class GraphFaults:
    error_rate: float = 0.0  # probability of HTTP 500 (code 131000)
    rate_limit_rate: float = 0.0  # probability of HTTP 429 (code 130429)
    latency: float = 0.0  # seconds added before every answer
    counts: dict[str, int] = field(default_factory=lambda: {"500": 0, "429": 0})

    def roll(self, rng: random.Random) -> str | None:
        """One draw per call, so the two rates add up rather than overlap: "500", "429", None."""
        draw = rng.random()
        if draw < self.error_rate:
            outcome = "500"
        elif draw < self.error_rate + self.rate_limit_rate:
            outcome = "429"
        else:
            return None
        self.counts[outcome] += 1
        return outcome


@dataclass(slots=True)
class RazorpayFaults:
    error_rate: float = 0.0  # probability that a create answers 500 (and creates nothing)
    timeout_after_create_rate: float = 0.0  # probability that a create succeeds, then hangs
    timeout_seconds: float = 30.0  # how long it hangs: longer than the bot's client timeout
    counts: dict[str, int] = field(default_factory=lambda: {"500": 0, "timeout": 0})

    def roll(self, rng: random.Random) -> str | None:
        """One draw per create call: "500", "timeout" or None."""
        draw = rng.random()
        if draw < self.error_rate:
            outcome = "500"
        elif draw < self.error_rate + self.timeout_after_create_rate:
            outcome = "timeout"
        else:
            return None
        self.counts[outcome] += 1
        return outcome
