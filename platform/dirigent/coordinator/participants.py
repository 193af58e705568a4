"""Participant health: what the coordinator knows about each service it sends to.

One component owns it (the relay asks it before sending, the timer path and applied
replies report to it); metrics only read it. Today that is a circuit breaker per
participant (``breaker.py``): an open breaker holds commands in the outbox. A held
command's step timeout waits with it (it has not been sent, so nobody is silent yet),
for at most ``unsent_hold_s``; the saga's deadline never waits, so every saga still
ends, compensated or parked, however long the participant stays away.
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

    def closed(self, participant: str, now: float) -> bool:
        """Whether ``participant``'s breaker is closed (asking changes nothing)."""
        return self.breakers[participant].state(now) is BreakerState.CLOSED

    def replied(self, participant: str, now: float) -> None:
        self.breakers[participant].success(now)

    def timed_out(self, participant: str, now: float) -> None:
        self.breakers[participant].failure(now)

    def trip(self, participant: str, now: float) -> bool:
        """Open ``participant``'s breaker early (opt-in advice); whether it opened."""
        return self.breakers[participant].trip(now)

    def states(self, now: float) -> dict[str, BreakerState]:
        return self.breakers.states(now)
