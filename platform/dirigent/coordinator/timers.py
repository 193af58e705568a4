"""Due timers become engine inputs; a participant's open breaker postpones its timers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dirigent.coordinator.breaker import Breakers
from dirigent.coordinator.inputs import Routed, route_timer
from dirigent.coordinator.topology import Topology
from dirigent.saga import Timer, TimerKind
from dirigent.store.saga_store import SagaStore

__all__ = ["TimerScanner"]


@dataclass
class TimerScanner:
    store: SagaStore
    topology: Topology
    breakers: Breakers
    clock: Callable[[], float]
    limit: int = 1000

    async def due(self, partition: int) -> list[Routed]:
        """Inputs for the timers due now on ``partition``, minus postponed ones."""
        now = self.clock()
        fire: list[Routed] = []
        held: list[str] = []
        for doc in await self.store.due_timers(partition, now, self.limit):
            timer = Timer.from_json(doc)
            participant = self._participant(timer)
            if participant is not None:
                breaker = self.breakers[participant]
                if breaker.holds_timers(now):
                    held.append(timer.timer_id)
                    continue
                if timer.kind is TimerKind.STEP_TIMEOUT:
                    breaker.failure(now)
            routed = route_timer(timer, self.topology)
            if routed is None:
                held.append(timer.timer_id)  # saga type no longer deployed: keep the timer
                continue
            fire.append(routed)
        if held:
            await self.store.postpone_timers(partition, held, now + self.breakers.reset_s)
        return fire

    def _participant(self, timer: Timer) -> str | None:
        if timer.kind is TimerKind.SAGA_DEADLINE or timer.step is None:
            return None
        saga = self.topology.by_name.get(timer.saga_type)
        step = saga.steps.get(timer.step) if saga is not None else None
        return step.participant if step is not None else None
