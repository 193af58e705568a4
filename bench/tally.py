"""What the drivers record, and the figures of the measured window."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Figures", "Tally", "percentile"]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted ``values`` (0 if empty)."""
    if not values:
        return 0.0
    rank = max(0, min(len(values) - 1, round(q / 100 * len(values) + 0.5) - 1))
    return values[rank]


@dataclass(frozen=True)
class Figures:
    steps_per_s: float
    sagas_per_s: float
    p50_step_ms: float
    p99_step_ms: float
    window_s: float
    latency_samples: int
    p99_saga_ms: float = 0.0  # start published -> COMPLETED decided


@dataclass
class Tally:
    """Broker-side times (epoch ms) of completions and of step latencies.

    The window opens at the ``warmup``-th completion and closes ``measured`` completions
    later; only steps applied inside it count towards the latency percentiles.
    """

    warmup: int
    measured: int
    steps_per_saga: int = 3
    completions: list[float] = field(default_factory=list)
    steps: list[tuple[float, float]] = field(default_factory=list)  # (applied at, latency)
    sagas: list[tuple[float, float]] = field(default_factory=list)  # (completed at, latency)

    @property
    def done(self) -> bool:
        return len(self.completions) >= self.warmup + self.measured

    def figures(self) -> Figures:
        ends = sorted(self.completions)
        start, end = ends[self.warmup - 1], ends[self.warmup + self.measured - 1]
        window_s = max((end - start) / 1000, 1e-3)
        latencies = sorted(lat for at, lat in self.steps if start <= at <= end)
        return Figures(
            steps_per_s=self.steps_per_saga * self.measured / window_s,
            sagas_per_s=self.measured / window_s,
            p50_step_ms=percentile(latencies, 50),
            p99_step_ms=percentile(latencies, 99),
            window_s=window_s,
            latency_samples=len(latencies),
            p99_saga_ms=percentile(sorted(x for at, x in self.sagas if start <= at <= end), 99),
        )
