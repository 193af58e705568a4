"""Due timers become engine inputs.

Timers are never held for a participant's breaker: the breaker holds *commands*, while
their step timeouts and the saga deadline keep running, so a saga whose participant
stays silent still ends (compensated, or parked with the reason). A step timeout that
fires counts against the participant's breaker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dirigent.coordinator.inputs import Routed, route_timer
from dirigent.coordinator.participants import ParticipantHealth
from dirigent.coordinator.partition import OwnedPartition
from dirigent.coordinator.topology import Topology
from dirigent.saga import Timer, TimerKind
from dirigent.store import SagaStorePort

__all__ = ["TimerScanner"]

# A timer of a saga type this coordinator does not run is kept, looked at again later.
_UNKNOWN_TYPE_RECHECK_S = 60.0


@dataclass
class TimerScanner:
    store: SagaStorePort
    topology: Topology
    health: ParticipantHealth
    clock: Callable[[], float]
    limit: int = 1000

    async def due(self, owner: OwnedPartition) -> list[Routed]:
        """Inputs for the timers due now on ``owner``'s partition."""
        now = self.clock()
        fire: list[Routed] = []
        unknown: list[str] = []
        for doc in await self.store.due_timers(owner.number, now, self.limit):
            timer = Timer.from_json(doc)
            routed = route_timer(timer, self.topology)
            if routed is None:
                unknown.append(timer.timer_id)  # saga type not deployed here: keep it
                continue
            participant = self._participant(timer)
            if participant is not None and timer.kind is TimerKind.STEP_TIMEOUT:
                self.health.timed_out(participant, now)
            fire.append(routed)
        if unknown:
            await self.store.postpone_timers(
                owner.number, owner.token, unknown, now + _UNKNOWN_TYPE_RECHECK_S
            )
        return fire

    def _participant(self, timer: Timer) -> str | None:
        if timer.kind is TimerKind.SAGA_DEADLINE or timer.step is None:
            return None
        saga = self.topology.by_name.get(timer.saga_type)
        step = saga.step_named(timer.step) if saga is not None else None
        return step.participant or None if step is not None else None
