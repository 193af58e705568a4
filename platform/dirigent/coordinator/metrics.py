"""Prometheus metrics of one coordinator, on a registry of its own (no import-time globals).

Every name here is documented in ``docs/operators.md``; the Grafana dashboard and the
alert rules in ``deploy/`` are checked against this registry by a unit test.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["CoordinatorMetrics"]

_STEP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_STEP = ["saga_type", "step", "phase"]


class CoordinatorMetrics:
    """Counters, gauges and histograms named ``dirigent_*``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.sagas = Counter(
            "dirigent_sagas", "Sagas by type and outcome (started, completed, compensated, "
            "failed, parked)", ["saga_type", "outcome"], registry=r,
        )  # fmt: skip
        self.inputs = Counter(
            "dirigent_inputs", "Inputs by result (applied, ignored, duplicate, forwarded, "
            "unrouted)", ["result"], registry=r,
        )  # fmt: skip
        self.step_latency = Histogram(
            "dirigent_step_latency_seconds", "Command sent to reply applied, by phase "
            "(forward, compensation)", _STEP, buckets=_STEP_BUCKETS, registry=r,
        )  # fmt: skip
        self.step_attempts = Counter(
            "dirigent_step_attempts", "Commands written to the outbox (every attempt), by "
            "phase (forward, compensation)", _STEP, registry=r,
        )  # fmt: skip
        self.step_retries = Counter(
            "dirigent_step_retries", "Attempts after the first (after a timeout or a "
            "retryable failure)", _STEP, registry=r,
        )  # fmt: skip
        self.compensations = Counter(
            "dirigent_compensations", "Compensations started (the first attempt of a step's "
            "undo)", ["saga_type", "step"], registry=r,
        )  # fmt: skip
        self.in_flight = Gauge("dirigent_sagas_in_flight", "Running sagas owned", registry=r)
        self.dead_letters = Counter(
            "dirigent_dead_letters", "Records the broker acknowledged in a dead-letter topic, "
            "by source topic and cause (poison, orphan, saga_code)", ["topic", "cause"],
            registry=r,
        )  # fmt: skip
        self.degraded = Gauge(
            "dirigent_degraded", "1 while the loop retries a transient Kafka or Redis fault",
            registry=r,
        )  # fmt: skip
        self.breaker_open = Gauge(
            "dirigent_breaker_open", "1 while a participant's breaker is not closed",
            ["participant"], registry=r,
        )  # fmt: skip
        self.consumer_lag = Gauge(
            "dirigent_consumer_lag", "Records behind the high watermark", ["topic", "partition"],
            registry=r,
        )  # fmt: skip
        self.outbox_pending = Gauge(
            "dirigent_outbox_pending", "Commands held back by open breakers", registry=r
        )
        self.outbox_depth = Gauge(
            "dirigent_outbox_depth", "Entries in the Redis outboxes of the partitions owned",
            registry=r,
        )  # fmt: skip
        self.timers_due = Gauge(
            "dirigent_timers_due", "Timers whose time has come and that have not fired yet",
            registry=r,
        )  # fmt: skip
        self.deadline_at_risk = Gauge(
            "dirigent_sagas_deadline_at_risk", "Sagas whose deadline is past or within "
            "deadline_risk_s", registry=r,
        )  # fmt: skip
        self.partitions = Gauge("dirigent_partitions_owned", "Partitions owned", registry=r)
        self.paused = Gauge("dirigent_backpressure_paused", "1 while paused", registry=r)
