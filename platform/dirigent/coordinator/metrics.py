"""Prometheus metrics of one coordinator, on a registry of its own (no import-time globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["CoordinatorMetrics"]

_STEP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class CoordinatorMetrics:
    """Counters, gauges and histograms named ``dirigent_*``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.sagas = Counter(
            "dirigent_sagas", "Sagas by type and outcome (started, completed, compensated, "
            "failed)", ["saga_type", "outcome"], registry=r,
        )  # fmt: skip
        self.inputs = Counter(
            "dirigent_inputs", "Inputs by result (applied, ignored, duplicate, forwarded, "
            "unrouted)", ["result"], registry=r,
        )  # fmt: skip
        self.step_latency = Histogram(
            "dirigent_step_latency_seconds", "Command sent to reply applied",
            ["saga_type", "step"], buckets=_STEP_BUCKETS, registry=r,
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
        self.outbox_pending = Gauge("dirigent_outbox_pending", "Commands held", registry=r)
        self.partitions = Gauge("dirigent_partitions_owned", "Partitions owned", registry=r)
        self.paused = Gauge("dirigent_backpressure_paused", "1 while paused", registry=r)
