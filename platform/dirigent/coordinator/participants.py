"""Participant health: what the coordinator knows about each service it sends to.

One component owns it (the relay asks it before sending, the timer path and applied
replies report to it); metrics only read it. Today that is a circuit breaker per
participant (``breaker.py``): an open breaker holds commands in the outbox, but never
holds timers, so a step's timeout and the saga's deadline still run and every saga
still ends, compensated or parked, however long the participant stays silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dirigent.coordinator.breaker import Breakers, BreakerState

__all__ = ["ParticipantHealth"]


@dataclass
class ParticipantHealth:
    breakers: Breakers = field(default_factory=Breakers)

    def may_send(self, participant: str, now: float) -> bool:
        """Whether one more command to ``participant`` may go out now."""
        return self.breakers[participant].may_send(now)

    def replied(self, participant: str, now: float) -> None:
        self.breakers[participant].success(now)

    def timed_out(self, participant: str, now: float) -> None:
        self.breakers[participant].failure(now)

    def states(self, now: float) -> dict[str, BreakerState]:
        return self.breakers.states(now)
