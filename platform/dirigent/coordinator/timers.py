"""Due timers become engine inputs.

A step timeout measures the participant's silence, so it runs from the broker's
acknowledgement of the command (``relay``). While the command has not left the outbox
(a breaker holds it, or the broker is away) its due timeout is postponed, for at most
the relay's ``hold_s``; past that it fires all the same, so a saga whose participant
stays away still ends (compensated, or parked with the reason). The saga deadline is
never held. A step timeout counts against the participant's breaker only if its
command was sent.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from dirigent.coordinator.inputs import Routed, route_timer
from dirigent.coordinator.participants import ParticipantHealth
from dirigent.coordinator.partition import OwnedPartition
from dirigent.coordinator.topology import Topology
from dirigent.saga import Timer, TimerKind
from dirigent.store import SagaStorePort

__all__ = ["TimerScanner"]

# A timer of a saga type this coordinator does not run is kept, looked at again later.
_UNKNOWN_TYPE_RECHECK_S = 60.0


class Unsent(Protocol):
    """The relay's view of commands that have not left the outbox."""

    def hold_until(self, partition: int, timer_id: str) -> float | None: ...


@dataclass
class TimerScanner:
    store: SagaStorePort
    topology: Topology
    health: ParticipantHealth
    clock: Callable[[], float]
    limit: int = 1000
    unsent: Unsent | None = None

    async def due(self, owner: OwnedPartition) -> list[Routed]:
        """Inputs for the timers due now on ``owner``'s partition."""
        now = self.clock()
        fire: list[Routed] = []
        later: dict[float, list[str]] = {}  # due again at -> timer ids
        for doc in await self.store.due_timers(owner.number, now, self.limit):
            timer = Timer.from_json(doc)
            routed = route_timer(timer, self.topology)
            if routed is None:  # saga type not deployed here: keep it
                later.setdefault(now + _UNKNOWN_TYPE_RECHECK_S, []).append(timer.timer_id)
                continue
            held = self._held_until(owner.number, timer)
            if held is not None and held > now:
                # whole seconds: one call for many; the ack re-arms it once it is sent
                later.setdefault(float(math.ceil(held)), []).append(timer.timer_id)
                continue
            participant = self._participant(timer)
            if participant is not None and timer.kind is TimerKind.STEP_TIMEOUT and held is None:
                self.health.timed_out(participant, now)
            fire.append(routed)
        for due, timer_ids in later.items():
            await self.store.postpone_timers(owner.number, owner.token, timer_ids, due)
        return fire

    def _held_until(self, partition: int, timer: Timer) -> float | None:
        if timer.kind is not TimerKind.STEP_TIMEOUT or self.unsent is None:
            return None
        return self.unsent.hold_until(partition, timer.timer_id)

    def _participant(self, timer: Timer) -> str | None:
        if timer.kind is TimerKind.SAGA_DEADLINE or timer.step is None:
            return None
        saga = self.topology.by_name.get(timer.saga_type)
        step = saga.step_named(timer.step) if saga is not None else None
        return step.participant or None if step is not None else None
