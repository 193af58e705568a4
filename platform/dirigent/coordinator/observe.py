"""Metrics from applied decisions (reading only: participant health lives elsewhere).

Called once per partition batch, after the batch is durable; per decision it only
increments counters (no allocation beyond the label lookups).
"""

from __future__ import annotations

from collections.abc import Sequence

from dirigent.coordinator.metrics import CoordinatorMetrics
from dirigent.coordinator.partition import OwnedPartition
from dirigent.coordinator.processor import Applied
from dirigent.coordinator.topology import Topology
from dirigent.saga import Command, EventReceived, Phase, SagaStatus, StepStatus

__all__ = ["observe"]

_OUTCOME = {
    SagaStatus.COMPLETED: "completed",
    SagaStatus.COMPENSATED: "compensated",
    SagaStatus.FAILED: "failed",
    SagaStatus.PARKED: "parked",
}
_ACTIVE = (SagaStatus.RUNNING, SagaStatus.COMPENSATING)
# A reply to a step in these statuses answers its compensation.
_UNDOING = frozenset(
    {StepStatus.COMPENSATING, StepStatus.COMPENSATION_RETRY_WAIT, StepStatus.COMPENSATION_FAILED}
)
_DO, _UNDO = Phase.FORWARD.value, Phase.COMPENSATION.value


def observe(
    applied: Sequence[Applied],
    owner: OwnedPartition,
    topology: Topology,
    metrics: CoordinatorMetrics,
    now: float,
) -> None:
    for a in applied:
        d = a.decision
        if d.state is None or d.transition is None:
            metrics.inputs.labels("ignored").inc()
            continue
        metrics.inputs.labels("applied").inc()
        t = d.transition
        before = a.before.status if a.before is not None else None
        owner.in_flight += (d.state.status in _ACTIVE) - (before in _ACTIVE)
        if d.commands:
            _count_commands(d.commands, metrics)
        if a.before is None:
            metrics.sagas.labels(t.saga_type, "started").inc()
        outcome = _OUTCOME.get(d.state.status)
        if outcome is not None and before is not d.state.status:
            metrics.sagas.labels(t.saga_type, outcome).inc()
        replied = isinstance(a.routed.input, EventReceived) and a.before is not None
        if replied and t.step and t.step in topology.by_name[t.saga_type].steps:
            assert a.before is not None
            step = a.before.steps.get(t.step)
            phase = _UNDO if step is not None and step.status in _UNDOING else _DO
            metrics.step_latency.labels(t.saga_type, t.step, phase).observe(
                max(0.0, now - a.before.updated_at)
            )


def _count_commands(commands: Sequence[Command], metrics: CoordinatorMetrics) -> None:
    for c in commands:
        phase = c.phase.value
        metrics.step_attempts.labels(c.saga_type, c.step, phase).inc()
        if c.attempt > 1:
            metrics.step_retries.labels(c.saga_type, c.step, phase).inc()
        elif c.phase is Phase.COMPENSATION:
            metrics.compensations.labels(c.saga_type, c.step).inc()
