"""Prometheus metrics of ``dirigent watch``, on a registry of its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from dirigent.events.builtin import Anomaly

__all__ = ["WatchMetrics"]

_WHERE = ["saga_type", "step", "metric"]


class WatchMetrics:
    """``dirigent_anomalies_*`` and ``dirigent_forecast_*``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = r = registry or CollectorRegistry()
        self.open = Gauge("dirigent_anomalies_open", "Anomalies open now (1 per step and "
                          "metric)", _WHERE, registry=r)  # fmt: skip
        self.total = Counter("dirigent_anomalies", "Anomalies opened", _WHERE, registry=r)
        self.transitions = Counter("dirigent_watch_transitions", "Transitions read by the "
                                   "watcher", registry=r)  # fmt: skip
        self.forecast_lag = Gauge("dirigent_forecast_lag", "Consumer lag (records) forecast "
                                  "horizon_s ahead (Holt's linear method)",
                                  ["group", "horizon_s"], registry=r)  # fmt: skip
        self.forecast_rate = Gauge("dirigent_forecast_arrival_rate", "Records per second "
                                   "arriving on the group's topics, forecast horizon_s ahead",
                                   ["group", "horizon_s"], registry=r)  # fmt: skip
        self.forecast_error = Gauge("dirigent_forecast_error", "Mean absolute error of the "
                                    "forecast, in its own unit (series: lag or arrival_rate)",
                                    ["group", "series"], registry=r)  # fmt: skip

    def anomaly(self, a: Anomaly) -> None:
        """Count ``a`` (an opened or closed record) into the gauges."""
        labels = (a.saga_type, a.step, a.metric)
        if a.status == "open":
            self.open.labels(*labels).set(1)
            self.total.labels(*labels).inc()
        else:
            self.open.labels(*labels).set(0)
