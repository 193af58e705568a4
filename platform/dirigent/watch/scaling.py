"""The predictive scaling signal: Holt forecasts of lag and arrival rate per group."""

from __future__ import annotations

from dataclasses import dataclass, field

from dirigent.transport.lag_probe import GroupLag
from dirigent.watch.forecast import Holt
from dirigent.watch.metrics import WatchMetrics

__all__ = ["ScalingSignal"]


@dataclass
class ScalingSignal:
    """Feed ``GroupLag`` samples every ``sample_s``; gauges forecast ``horizon`` samples ahead."""

    metrics: WatchMetrics
    sample_s: float = 10.0
    horizon: int = 6
    _lag: dict[str, Holt] = field(default_factory=dict)
    _rate: dict[str, Holt] = field(default_factory=dict)
    _last_end: dict[str, int] = field(default_factory=dict)

    def observe(self, samples: list[GroupLag]) -> None:
        """Update each group's forecasts and gauges."""
        ahead = str(int(self.horizon * self.sample_s))
        for s in samples:
            lag = self._lag.setdefault(s.group, Holt(horizon=self.horizon))
            lag.update(float(s.lag))
            self.metrics.forecast_lag.labels(s.group, ahead).set(lag.forecast())
            if lag.mae is not None:
                self.metrics.forecast_error.labels(s.group, "lag").set(lag.mae)
            last = self._last_end.get(s.group)
            self._last_end[s.group] = s.end
            if last is None:
                continue
            rate = self._rate.setdefault(s.group, Holt(horizon=self.horizon))
            rate.update(max(0, s.end - last) / self.sample_s)
            self.metrics.forecast_rate.labels(s.group, ahead).set(rate.forecast())
            if rate.mae is not None:
                self.metrics.forecast_error.labels(s.group, "arrival_rate").set(rate.mae)
