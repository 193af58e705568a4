"""The saga coordinator: consumes events and replies, runs the engine, stores, relays."""

from dirigent.coordinator.breaker import Breaker, Breakers, BreakerState
from dirigent.coordinator.metrics import CoordinatorMetrics
from dirigent.coordinator.runtime import Coordinator
from dirigent.coordinator.settings import CoordinatorSettings
from dirigent.coordinator.topology import Topology, events_topic_for

__all__ = [
    "Breaker",
    "BreakerState",
    "Breakers",
    "Coordinator",
    "CoordinatorMetrics",
    "CoordinatorSettings",
    "Topology",
    "events_topic_for",
]
