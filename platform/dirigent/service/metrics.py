"""Prometheus metrics of one service, in a registry the caller owns.

Nothing registers at import: each ``Service`` gets its own ``CollectorRegistry``
unless one is passed in (pass ``prometheus_client.REGISTRY`` to expose them with the
process's default ``/metrics``).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["ServiceMetrics"]

_HANDLER_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class ServiceMetrics:
    """handled / duplicates / retries / dead-lettered counters and the handler latency,
    labelled by service and handler."""

    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.service = service
        self.registry = registry if registry is not None else CollectorRegistry()
        labels = ["service", "handler"]
        self.handled = Counter(
            "dirigent_service_handled", "Messages handled", labels, registry=self.registry
        )
        self.duplicates = Counter(
            "dirigent_service_duplicates",
            "Duplicate deliveries answered from the idempotency store",
            labels,
            registry=self.registry,
        )
        self.retries = Counter(
            "dirigent_service_retries", "Handler attempts retried", labels, registry=self.registry
        )
        self.dead_lettered = Counter(
            "dirigent_service_dead_lettered",
            "Records sent to a dead-letter topic",
            labels,
            registry=self.registry,
        )
        self.handler_seconds = Histogram(
            "dirigent_service_handler_seconds",
            "One handler attempt, from call to return or raise",
            labels,
            buckets=_HANDLER_BUCKETS,
            registry=self.registry,
        )

    def count(self, counter: Counter, handler: str) -> None:
        counter.labels(self.service, handler).inc()

    def observe_handler(self, handler: str, seconds: float) -> None:
        self.handler_seconds.labels(self.service, handler).observe(seconds)

    def value(self, name: str, handler: str) -> float:
        """The current value of ``dirigent_service_<name>_total`` (for tests and CLIs)."""
        sample = self.registry.get_sample_value(
            f"dirigent_service_{name}_total", {"service": self.service, "handler": handler}
        )
        return sample or 0.0
