"""Short-horizon forecasts of a series (consumer lag, arrival rate), with their error (pure).

Holt's linear method (double exponential smoothing): a level and a trend, each smoothed,
forecast ``h`` steps ahead as ``level + h * trend``. Every forecast is kept until its
target step arrives, and the absolute error then feeds an EWMA: the error an HPA or
KEDA user can weigh the signal by.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

__all__ = ["Holt"]


@dataclass
class Holt:
    """``update(x)`` once per sample; ``forecast()`` is ``horizon`` samples ahead (>= 0).

    Example::

        h = Holt(horizon=6)        # samples every 10 s: one minute ahead
        for lag in samples:
            h.update(lag)
        h.forecast(), h.mae        # predicted lag, mean absolute error so far
    """

    horizon: int = 6
    alpha: float = 0.5
    beta: float = 0.3
    error_alpha: float = 0.1
    level: float | None = None
    trend: float = 0.0
    mae: float | None = None
    samples: int = 0
    _pending: deque[float] = field(default_factory=deque)

    def update(self, x: float) -> None:
        """Take the next sample; scores the forecast made ``horizon`` samples ago."""
        self.samples += 1
        if len(self._pending) == self.horizon:
            err = abs(self._pending.popleft() - x)
            self.mae = err if self.mae is None else self.mae + self.error_alpha * (err - self.mae)
        if self.level is None:
            self.level = x
        else:
            prev = self.level
            self.level = self.alpha * x + (1 - self.alpha) * (prev + self.trend)
            self.trend = self.beta * (self.level - prev) + (1 - self.beta) * self.trend
        self._pending.append(self.forecast())

    def forecast(self, steps: int | None = None) -> float:
        """The value ``steps`` (default ``horizon``) samples ahead, never below zero."""
        if self.level is None:
            return 0.0
        return max(0.0, self.level + (self.horizon if steps is None else steps) * self.trend)
