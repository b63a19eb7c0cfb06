"""Timing samples and their summary: median, 95th percentile, number of runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Sample:
    """Durations of one measurement, in seconds."""

    seconds: list[float] = field(default_factory=list)
    # Wall time of the whole measured loop, for a rate (operations per second).
    wall: float = 0.0

    @property
    def runs(self) -> int:
        return len(self.seconds)

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def p95_ms(self) -> float:
        if len(self.seconds) < 2:
            return self.seconds[0] * 1000
        return statistics.quantiles(self.seconds, n=100, method="inclusive")[94] * 1000

    @property
    def p99_ms(self) -> float:
        if len(self.seconds) < 2:
            return self.seconds[0] * 1000
        return statistics.quantiles(self.seconds, n=100, method="inclusive")[98] * 1000

    @property
    def max_ms(self) -> float:
        return max(self.seconds) * 1000

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.seconds) * 1000

    @property
    def per_second(self) -> float:
        return self.runs / self.wall if self.wall else 0.0


def measure(
    action: Callable[[], object], *, warmup: int, runs: int, budget_s: float | None = None
) -> Sample:
    """Call `action` `warmup` times untimed, then `runs` times timed one by one.

    With `budget_s`, stop early once that much time is spent, after at least three
    timed runs: a slow server does not hold the benchmark for minutes.
    """
    for _ in range(warmup):
        action()
    sample = Sample()
    started = time.perf_counter()
    for _ in range(runs):
        t0 = time.perf_counter()
        action()
        sample.seconds.append(time.perf_counter() - t0)
        if budget_s is not None and sample.runs >= 3 and time.perf_counter() - started > budget_s:
            break
    sample.wall = time.perf_counter() - started
    return sample
