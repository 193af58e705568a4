"""Metrics and breaker feedback from applied decisions."""

from __future__ import annotations

from collections.abc import Sequence

from dirigent.coordinator.breaker import Breakers
from dirigent.coordinator.metrics import CoordinatorMetrics
from dirigent.coordinator.partition import OwnedPartition
from dirigent.coordinator.processor import Applied
from dirigent.coordinator.topology import Topology
from dirigent.saga import EventReceived, SagaStatus

__all__ = ["observe"]

_OUTCOME = {
    SagaStatus.COMPLETED: "completed",
    SagaStatus.COMPENSATED: "compensated",
    SagaStatus.FAILED: "failed",
}


def observe(
    applied: Sequence[Applied],
    owner: OwnedPartition,
    topology: Topology,
    metrics: CoordinatorMetrics,
    breakers: Breakers,
    now: float,
) -> None:
    for a in applied:
        d = a.decision
        if d.state is None or d.transition is None:
            metrics.inputs.labels("ignored").inc()
            continue
        metrics.inputs.labels("applied").inc()
        t = d.transition
        if a.before is None:
            owner.in_flight += 1
            metrics.sagas.labels(t.saga_type, "started").inc()
        if d.state.is_terminal and (a.before is None or not a.before.is_terminal):
            owner.in_flight -= 1
            metrics.sagas.labels(t.saga_type, _OUTCOME[d.state.status]).inc()
        if isinstance(a.routed.input, EventReceived) and a.before is not None and t.step:
            step = topology.by_name[t.saga_type].steps.get(t.step)
            if step is not None:
                breakers[step.participant].success(now)
                metrics.step_latency.labels(t.saga_type, t.step).observe(
                    max(0.0, now - a.before.updated_at)
                )
