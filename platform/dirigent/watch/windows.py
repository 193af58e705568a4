"""Tumbling windows of step outcomes per (saga type, step), by event time (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from dirigent.watch.outcomes import OutcomeKind, StepOutcome

__all__ = ["StepKey", "WindowSummary", "Windower", "quantile"]

StepKey = tuple[str, str]  # (saga type, step)


@dataclass(frozen=True, slots=True)
class WindowSummary:
    """The figures of one closed window of one step."""

    key: StepKey
    start: float
    end: float
    outcomes: int
    failure_rate: float
    timeout_rate: float
    compensation_rate: float
    throughput_per_s: float
    latency_p50_s: float | None
    latency_p95_s: float | None
    latency_p99_s: float | None

    def metric(self, name: str) -> float | None:
        """One figure by name (``failure_rate``, ``latency_p95_s``, ...)."""
        value: float | None = getattr(self, name)
        return value


@dataclass(slots=True)
class _Open:
    start: float
    counts: dict[OutcomeKind, int] = field(default_factory=lambda: dict.fromkeys(OutcomeKind, 0))
    latencies: list[float] = field(default_factory=list)


class Windower:
    """Add outcomes; ``close(now)`` returns the windows that ended before ``now``.

    Windows are aligned to multiples of ``window_s``. A key with no outcomes in a window
    still closes it (throughput 0), as long as the key has been seen once.
    """

    def __init__(self, *, window_s: float = 60.0, max_latencies: int = 5_000) -> None:
        self.window_s = window_s
        self._max_lat = max_latencies
        self._open: dict[StepKey, _Open] = {}

    def add(self, o: StepOutcome) -> list[WindowSummary]:
        """Count ``o``; windows of its key that ``o`` moves past are returned closed."""
        key = (o.saga_type, o.step)
        closed = self._roll(key, o.at)
        w = self._open[key]
        w.counts[o.kind] += 1
        if o.latency_s is not None and len(w.latencies) < self._max_lat:
            w.latencies.append(o.latency_s)
        return closed

    def close(self, now: float) -> list[WindowSummary]:
        """Close every window that ended by ``now`` (event time): quiet keys too."""
        out: list[WindowSummary] = []
        for key in list(self._open):
            out.extend(self._roll(key, now))
        return out

    def _roll(self, key: StepKey, at: float) -> list[WindowSummary]:
        start = math.floor(at / self.window_s) * self.window_s
        w = self._open.get(key)
        if w is None:
            self._open[key] = _Open(start)
            return []
        out: list[WindowSummary] = []
        while w.start + self.window_s <= at:
            out.append(self._summary(key, w))
            w = _Open(w.start + self.window_s)
            if len(out) > 1_000:  # a long silence: jump rather than emit empty windows
                w = _Open(start)
        self._open[key] = w
        return out

    def _summary(self, key: StepKey, w: _Open) -> WindowSummary:
        c = w.counts
        replies = c[OutcomeKind.SUCCESS] + c[OutcomeKind.FAILURE] + c[OutcomeKind.TIMEOUT]
        lat = sorted(w.latencies)
        return WindowSummary(
            key=key, start=w.start, end=w.start + self.window_s, outcomes=replies,
            failure_rate=c[OutcomeKind.FAILURE] / replies if replies else 0.0,
            timeout_rate=c[OutcomeKind.TIMEOUT] / replies if replies else 0.0,
            compensation_rate=c[OutcomeKind.COMPENSATION] / replies if replies else 0.0,
            throughput_per_s=replies / self.window_s,
            latency_p50_s=quantile(lat, 0.5), latency_p95_s=quantile(lat, 0.95),
            latency_p99_s=quantile(lat, 0.99),
        )  # fmt: skip


def quantile(ordered: list[float], q: float) -> float | None:
    """The ``q`` quantile of sorted values (linear interpolation), ``None`` if empty."""
    if not ordered:
        return None
    pos = (len(ordered) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
