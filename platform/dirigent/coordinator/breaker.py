"""Circuit breakers per participant: stop sending to a service that keeps timing out.

CLOSED: commands flow. After ``threshold`` consecutive step timeouts the breaker OPENs:
commands to that participant wait in the outbox and its timers are postponed, so sagas
are parked, not failed. After ``reset_s`` it is HALF_OPEN: one probe command goes out,
and timers fire again (a due retry creates the probe when no command is waiting); a
reply closes the breaker, another timeout opens it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Breaker", "BreakerState", "Breakers"]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class Breaker:
    threshold: int
    reset_s: float
    failures: int = 0
    opened_at: float | None = None
    probe_sent: bool = False

    def state(self, now: float) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.CLOSED
        if now - self.opened_at < self.reset_s:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def success(self) -> None:
        self.failures, self.opened_at, self.probe_sent = 0, None, False

    def failure(self, now: float) -> None:
        self.failures += 1
        if self.opened_at is not None or self.failures >= self.threshold:
            self.opened_at, self.probe_sent = now, False

    def may_send(self, now: float) -> bool:
        """Whether one more command may go out now (takes the probe slot when half open)."""
        state = self.state(now)
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self.probe_sent:
            self.probe_sent = True
            return True
        return False

    def holds_timers(self, now: float) -> bool:
        """Timers wait while open. Half open they fire: holding them there could park a
        saga forever when no command is left to serve as the probe."""
        return self.state(now) is BreakerState.OPEN


@dataclass
class Breakers:
    """One breaker per participant, created on first use."""

    threshold: int = 5
    reset_s: float = 10.0
    _by_participant: dict[str, Breaker] = field(default_factory=dict)

    def __getitem__(self, participant: str) -> Breaker:
        breaker = self._by_participant.get(participant)
        if breaker is None:
            breaker = self._by_participant[participant] = Breaker(self.threshold, self.reset_s)
        return breaker

    def states(self, now: float) -> dict[str, BreakerState]:
        return {p: b.state(now) for p, b in self._by_participant.items()}
