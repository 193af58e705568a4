"""Robust normal for one metric: median and MAD over a sliding window of windows (pure).

The spread has floors so that a metric that was flat (a failure rate of exactly 0) does
not turn one failure into an infinite score: for rates the binomial noise of the
window's count, for throughput the Poisson noise of the count, for latency a fraction of
the median.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass

__all__ = ["Baseline", "MetricKind", "Score"]

_MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its sigma


class MetricKind:
    RATE = "rate"
    COUNT_PER_S = "count_per_s"
    LATENCY = "latency"


@dataclass(frozen=True, slots=True)
class Score:
    value: float
    baseline: float
    scale: float
    z: float


class Baseline:
    """The last ``history`` accepted values of one metric, and a robust score against them."""

    def __init__(self, kind: str, *, history: int = 60, window_s: float = 60.0) -> None:
        self.kind = kind
        self.window_s = window_s
        self._values: deque[float] = deque(maxlen=history)

    def __len__(self) -> int:
        return len(self._values)

    def add(self, value: float) -> None:
        """Accept ``value`` as normal."""
        self._values.append(value)

    def reset(self, values: list[float]) -> None:
        """Forget the history: ``values`` are normal now."""
        self._values.clear()
        self._values.extend(values)

    def score(self, value: float, n: int) -> Score:
        """``value`` (from a window of ``n`` outcomes) against normal."""
        med = statistics.median(self._values)
        mad = statistics.median(abs(v - med) for v in self._values)
        scale = max(_MAD_TO_SIGMA * mad, self._floor(med, n))
        return Score(value, med, scale, (value - med) / scale)

    def _floor(self, med: float, n: int) -> float:
        if self.kind == MetricKind.RATE:
            p = min(max(med, 1.0 / max(n, 1)), 0.5)
            return max(math.sqrt(p * (1 - p) / max(n, 1)), 0.01)
        if self.kind == MetricKind.COUNT_PER_S:
            count = med * self.window_s
            return max(math.sqrt(max(count, 1.0)), 0.1 * count) / self.window_s
        return max(0.1 * abs(med), 0.001)
