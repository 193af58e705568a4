"""Breaker advice: which anomalies open which participant's breaker, and when not."""

from __future__ import annotations

from datetime import UTC, datetime

from dirigent.coordinator import BreakerState
from dirigent.coordinator.advice import BreakerAdvice
from dirigent.coordinator.participants import ParticipantHealth
from dirigent.events import Anomaly

NOW = 1_800_000_000.0


def anomaly(metric: str = "timeout_rate", *, status: str = "open", step: str = "pay",
            age_s: float = 30.0, direction: str = "high") -> Anomaly:  # fmt: skip
    at = datetime.fromtimestamp(NOW - age_s, UTC)
    return Anomaly(anomaly_id="a1", status=status, saga_type="order", step=step, metric=metric,
                   direction=direction, value=0.4, baseline=0.01, scale=0.02, score=19.5,
                   window_s=60, since=at, at=at)  # fmt: skip


def advice() -> BreakerAdvice:
    return BreakerAdvice(ParticipantHealth(), {("order", "pay"): "payments"}, clock=lambda: NOW)


def test_a_fresh_timeout_anomaly_opens_the_steps_participant_once() -> None:
    a = advice()
    assert a.apply(anomaly()) == "payments"
    assert a.health.states(NOW)["payments"] is BreakerState.OPEN
    assert a.apply(anomaly("latency_p95_s")) is None  # already open: nothing new


def test_other_metrics_closed_or_old_anomalies_and_unknown_steps_change_nothing() -> None:
    a = advice()
    ignored = [anomaly("failure_rate"), anomaly("throughput_per_s", direction="low"),
               anomaly(status="closed"), anomaly(age_s=600), anomaly(step="ship")]  # fmt: skip
    assert [a.apply(x) for x in ignored] == [None] * 5
    assert a.health.states(NOW) == {}
