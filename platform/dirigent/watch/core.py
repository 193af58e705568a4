"""The watcher's pure pipeline: transitions -> step outcomes -> windows -> anomalies."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dirigent.events.builtin import Anomaly, SagaTransition
from dirigent.watch.detector import Detector, DetectorSettings
from dirigent.watch.outcomes import OutcomeReader
from dirigent.watch.windows import Windower, WindowSummary

__all__ = ["StepWatch"]


@dataclass
class StepWatch:
    """Feed transitions in event-time order; anomalies come out as windows close.

    Example::

        watch = StepWatch(window_s=60)
        for t in transitions:
            for anomaly in watch.feed(t):
                publish(anomaly)
        publish_all(watch.tick(now))  # close quiet windows too
    """

    window_s: float = 60.0
    settings: DetectorSettings = field(default_factory=DetectorSettings)
    closed: list[WindowSummary] = field(default_factory=list)
    keep_windows: int = 0  # keep the last N closed windows (for the dashboard, the eval)

    def __post_init__(self) -> None:
        self._reader = OutcomeReader()
        self._windows = Windower(window_s=self.window_s)
        self.detector = Detector(self.window_s, self.settings)

    def feed(self, t: SagaTransition) -> list[Anomaly]:
        """The anomalies that opened or closed with the windows ``t`` closed."""
        out: list[Anomaly] = []
        for o in self._reader.read(t):
            out.extend(self._observe(self._windows.add(o)))
        return out

    def tick(self, now: float) -> list[Anomaly]:
        """Close the windows that ended by ``now`` (event time), quiet steps included."""
        return self._observe(self._windows.close(now))

    def _observe(self, windows: Iterable[WindowSummary]) -> list[Anomaly]:
        out: list[Anomaly] = []
        for w in windows:
            if self.keep_windows:
                self.closed.append(w)
                del self.closed[: -self.keep_windows]
            out.extend(self.detector.observe(w))
        return out
