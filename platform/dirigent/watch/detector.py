"""Online anomaly detection over closed windows, with cold start and hysteresis (pure).

For each (saga type, step, metric) a ``Baseline`` scores each window (a robust z-score)
and a one-sided CUSUM accumulates what the scores exceed ``sensitivity / 4`` (the allowance) by. An
anomaly **opens** when one window scores at least ``2 * sensitivity`` (a sharp break) or
the CUSUM reaches ``2 * sensitivity`` (a sustained or creeping drift: a slow leak whose
every window is only a little off); no score is taken before ``min_windows`` normal windows
(cold start). It stays open, once, until the mean score of the last ``clear_windows`` windows is
back under the allowance, then **closes**. A window joins the baseline only while no anomaly
is open on its metric and, for rates and latency, only if it scored under
``sensitivity / 2``: an incident, or a slow leak, does not become the new normal. A
change that lasts ``adopt_windows`` becomes it: the anomaly closes and the baseline is
the values seen while it was open.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dirigent.events.builtin import Anomaly
from dirigent.watch.baseline import Baseline, MetricKind, Score
from dirigent.watch.windows import StepKey, WindowSummary

__all__ = ["METRICS", "Detector", "DetectorSettings"]

# metric -> (kind, directions watched)
METRICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "failure_rate": (MetricKind.RATE, ("high",)),
    "timeout_rate": (MetricKind.RATE, ("high",)),
    "compensation_rate": (MetricKind.RATE, ("high",)),
    "latency_p95_s": (MetricKind.LATENCY, ("high",)),
    "throughput_per_s": (MetricKind.COUNT_PER_S, ("high", "low")),
}


@dataclass(frozen=True, slots=True)
class DetectorSettings:
    """``sensitivity``: the z-score that counts as abnormal (lower: more alerts)."""

    sensitivity: float = 4.0
    min_windows: int = 10
    history: int = 60
    clear_windows: int = 5
    min_outcomes: int = 5  # a rate over fewer outcomes says too little
    adopt_windows: int = 60  # open this long: close it and take the new level as normal


@dataclass(slots=True)
class _Track:
    baseline: Baseline
    drift: float = 0.0
    drift_since: float = 0.0  # start of the window where the CUSUM last left zero
    open: Anomaly | None = None
    calm: deque[float] = field(default_factory=deque)  # scores of the last windows
    during: list[float] = field(default_factory=list)  # values while open


@dataclass(slots=True)
class Detector:
    """Feed closed windows with ``observe``; it returns the anomaly records to publish."""

    window_s: float = 60.0
    settings: DetectorSettings = field(default_factory=DetectorSettings)
    new_id: Callable[[], str] | None = None
    _tracks: dict[tuple[StepKey, str], _Track] = field(default_factory=dict)
    _seq: int = 0

    def open_anomalies(self) -> list[Anomaly]:
        """The anomalies open now."""
        return [t.open for t in self._tracks.values() if t.open is not None]

    def observe(self, w: WindowSummary) -> list[Anomaly]:
        """Score every metric of ``w``; opened and closed anomalies, in that order."""
        out: list[Anomaly] = []
        for metric, (kind, directions) in METRICS.items():
            value = w.metric(metric)
            if value is None or (
                kind != MetricKind.COUNT_PER_S and w.outcomes < self.settings.min_outcomes
            ):
                continue
            track = self._track(w.key, metric, kind)
            event = self._step(track, w, metric, value, directions)
            if event is not None:
                out.append(event)
        return out

    def _track(self, key: StepKey, metric: str, kind: str) -> _Track:
        t = self._tracks.get((key, metric))
        if t is None:
            b = Baseline(kind, history=self.settings.history, window_s=self.window_s)
            t = self._tracks[(key, metric)] = _Track(b)
        return t

    def _step(self, t: _Track, w: WindowSummary, metric: str, value: float,
              directions: tuple[str, ...]) -> Anomaly | None:  # fmt: skip
        s = self.settings
        if len(t.baseline) < s.min_windows:
            t.baseline.add(value)
            return None
        score = t.baseline.score(value, w.outcomes)
        signed = score.z if "high" in directions else -score.z
        if directions == ("high", "low"):
            signed = abs(score.z)
        if t.drift == 0.0:
            t.drift_since = w.start
        t.drift = max(0.0, t.drift + signed - s.sensitivity / 4)  # one-sided CUSUM
        if t.open is None:
            if signed >= 2 * s.sensitivity or t.drift >= 2 * s.sensitivity:
                since = w.start if signed >= 2 * s.sensitivity else t.drift_since
                t.open = self._anomaly(w, metric, score, "open", since)
                t.calm = deque(maxlen=s.clear_windows)
                return t.open
            if signed < s.sensitivity / 2 or t.baseline.kind == MetricKind.COUNT_PER_S:
                t.baseline.add(value)  # a creeping rate or latency must not become normal
            return None
        t.calm.append(signed)
        t.during.append(value)
        if len(t.during) >= s.adopt_windows:  # a lasting change: it is the new normal
            t.baseline.reset(t.during[-s.history :])
        elif len(t.calm) < s.clear_windows or sum(t.calm) / len(t.calm) >= s.sensitivity / 4:
            return None
        since = t.open.since.timestamp()
        closed = self._anomaly(w, metric, score, "closed", since, t.open.anomaly_id)
        t.open, t.drift, t.during = None, 0.0, []
        return closed

    def _anomaly(self, w: WindowSummary, metric: str, score: Score, status: str,
                 since: float, anomaly_id: str | None = None) -> Anomaly:  # fmt: skip
        if anomaly_id is None:
            self._seq += 1
            anomaly_id = (
                self.new_id() if self.new_id else f"{w.key[0]}/{w.key[1]}/{metric}/{self._seq}"
            )
        return Anomaly(
            anomaly_id=anomaly_id, status=status, saga_type=w.key[0], step=w.key[1],
            metric=metric, direction="high" if score.z >= 0 else "low", value=score.value,
            baseline=score.baseline, scale=score.scale, score=score.z, window_s=self.window_s,
            since=datetime.fromtimestamp(since, UTC), at=datetime.fromtimestamp(w.end, UTC),
        )  # fmt: skip
