"""The detector on seeded synthetic traffic: quiet on clean traffic, loud on incidents."""

from __future__ import annotations

from dirigent.events import Anomaly
from dirigent.watch import DetectorSettings, StepWatch, Windower
from dirigent.watch.outcomes import OutcomeKind, StepOutcome
from dirigent.watch.synthetic import Incident, Traffic, transitions


def run(traffic: Traffic, settings: DetectorSettings | None = None) -> list[Anomaly]:
    watch = StepWatch(window_s=60, settings=settings or DetectorSettings())
    found = [a for t in transitions(traffic) for a in watch.feed(t)]
    return found + watch.tick(traffic.epoch + traffic.duration_s)  # traffic ends: no later windows


def test_clean_traffic_raises_nothing() -> None:
    assert run(Traffic(duration_s=3600, seed=7)) == []


def test_a_slow_participant_opens_one_latency_anomaly_on_its_step_soon_after() -> None:
    tf = Traffic(duration_s=3600, incidents=(Incident("slow", 1800, step="pay", latency_x=4),))
    opened = [a for a in run(tf) if a.status == "open"]
    assert [(a.step, a.metric, a.direction) for a in opened] == [("pay", "latency_p95_s", "high")]
    assert opened[0].at.timestamp() - (tf.epoch + 1800) <= 120
    assert opened[0].value > opened[0].baseline + 3 * opened[0].scale


def test_an_anomaly_opens_once_and_closes_when_the_step_is_back_to_normal() -> None:
    broken = Incident("broken", 1200, step="ship", failure_p=0.5)
    fixed = Incident("fixed", 1800, step="ship", failure_p=-0.5)
    tf = Traffic(duration_s=3600, incidents=(broken, fixed))
    failures = [a for a in run(tf) if a.metric == "failure_rate"]
    assert [a.status for a in failures] == ["open", "closed"]
    assert failures[0].anomaly_id == failures[1].anomaly_id
    assert failures[1].since == failures[0].since
    assert 1800 <= failures[1].at.timestamp() - tf.epoch <= 1800 + 8 * 60


def test_nothing_is_raised_during_cold_start() -> None:
    tf = Traffic(duration_s=900, incidents=(Incident("early", 300, step="pay", latency_x=10),))
    assert run(tf, DetectorSettings(min_windows=10)) == []
    assert run(tf, DetectorSettings(min_windows=3)) != []


def test_a_lower_sensitivity_catches_a_smaller_change() -> None:
    tf = Traffic(duration_s=3600, incidents=(Incident("slower", 1800, step="pay", latency_x=1.15),))
    assert run(tf, DetectorSettings(sensitivity=8)) == []
    assert [a.metric for a in run(tf, DetectorSettings(sensitivity=3))][:1] == ["latency_p95_s"]


def test_a_window_counts_rates_and_quantiles_of_its_outcomes() -> None:
    w = Windower(window_s=10)
    for i in range(10):
        kind = (
            OutcomeKind.FAILURE if i < 2 else OutcomeKind.TIMEOUT if i == 2 else OutcomeKind.SUCCESS
        )
        w.add(StepOutcome("order", "pay", kind, 100.0 + i * 0.5, latency_s=float(i)))
    [s] = w.close(110.0)
    assert (s.outcomes, s.failure_rate, s.timeout_rate, s.throughput_per_s) == (10, 0.2, 0.1, 1.0)
    assert s.latency_p50_s == 4.5
    assert s.latency_p99_s is not None
    assert s.latency_p99_s > 8.9
    [quiet] = w.close(120.0)
    assert quiet.outcomes == 0
    assert quiet.latency_p95_s is None


def test_a_slow_leak_opens_on_the_accumulated_drift_and_says_since_when() -> None:
    leak = Incident("leak", 1800, step="reserve", timeout_p=0.05, ramp_s=1800)
    tf = Traffic(duration_s=4200, incidents=(leak,))
    [first, *_] = [a for a in run(tf) if a.status == "open" and a.metric == "timeout_rate"]
    assert first.step == "reserve"
    assert first.score < 2 * DetectorSettings().sensitivity  # no single window was a break
    assert 1800 - 60 <= first.since.timestamp() - tf.epoch < first.at.timestamp() - tf.epoch - 60
