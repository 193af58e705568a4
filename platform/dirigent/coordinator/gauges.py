"""The coordinator's gauges, sampled every few seconds, never per input.

One broker call for the lag and one pipelined Redis round trip for every owned
partition (outbox depth, timers due, saga deadlines near: a read-only Lua script).
"""

from __future__ import annotations

from dirigent.coordinator.assembly import Parts
from dirigent.coordinator.breaker import BreakerState
from dirigent.coordinator.metrics import CoordinatorMetrics
from dirigent.coordinator.participants import ParticipantHealth
from dirigent.saga import DEADLINE_TIMER_SUFFIX

__all__ = ["sample_gauges"]


async def sample_gauges(
    p: Parts,
    health: ParticipantHealth,
    metrics: CoordinatorMetrics,
    now: float,
    *,
    deadline_risk_s: float,
) -> None:
    """Set every gauge from what this replica owns now."""
    metrics.in_flight.set(p.ownership.in_flight())
    metrics.outbox_pending.set(sum(p.relay.pending.values()))
    for participant, state in health.states(now).items():
        metrics.breaker_open.labels(participant).set(0 if state is BreakerState.CLOSED else 1)
    for tp, lag in (await p.consumer.lag()).items():
        metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(lag)
    owned = sorted(p.ownership.owned)
    until = now + deadline_risk_s
    loads = await p.store.partition_load(owned, now, until, DEADLINE_TIMER_SUFFIX)
    metrics.outbox_depth.set(sum(load.outbox for load in loads))
    metrics.timers_due.set(sum(load.timers_due for load in loads))
    metrics.deadline_at_risk.set(sum(load.matching for load in loads))
