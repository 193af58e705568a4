"""Circuit breakers per participant: stop sending to a service that keeps timing out.

CLOSED: commands flow. When, within the last ``window_s``, at least ``threshold`` step
timeouts happened and they are at least half of the participant's outcomes (replies
count as successes), the breaker OPENs: commands to that participant wait in the
outbox, and their step timeouts wait with them, for at most ``unsent_hold_s``
(``timers.py``); the saga deadline keeps running, so every saga still ends. Only the
timeouts of commands that were sent count as failures. After ``reset_s`` it is
HALF_OPEN: one probe command goes out; a reply closes the breaker, its timeout opens
it again.
"""

from __future__ import annotations

from collections import deque
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
    window_s: float = 30.0
    opened_at: float | None = None
    probe_sent: bool = False
    _outcomes: deque[tuple[float, bool]] = field(default_factory=deque)

    def state(self, now: float) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.CLOSED
        if now - self.opened_at < self.reset_s:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    @property
    def failures(self) -> int:
        return sum(1 for _, ok in self._outcomes if not ok)

    def success(self, now: float) -> None:
        if self.opened_at is not None:  # the probe (or any late reply) answered
            self.opened_at, self.probe_sent = None, False
            self._outcomes.clear()
        self._record(now, ok=True)

    def failure(self, now: float) -> None:
        self._record(now, ok=False)
        if self.opened_at is not None:
            if self.state(now) is BreakerState.HALF_OPEN:
                self.opened_at, self.probe_sent = now, False  # the probe failed
            return
        failures = self.failures
        if failures >= self.threshold and failures * 2 >= len(self._outcomes):
            self.opened_at, self.probe_sent = now, False

    def trip(self, now: float) -> bool:
        """Open now if closed (advice from outside, e.g. an anomaly); whether it opened."""
        if self.opened_at is not None:
            return False
        self.opened_at, self.probe_sent = now, False
        return True

    def _record(self, now: float, *, ok: bool) -> None:
        self._outcomes.append((now, ok))
        while self._outcomes and self._outcomes[0][0] < now - self.window_s:
            self._outcomes.popleft()

    def may_send(self, now: float) -> bool:
        """Whether one more command may go out now (takes the probe slot when half open)."""
        state = self.state(now)
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self.probe_sent:
            self.probe_sent = True
            return True
        return False


@dataclass
class Breakers:
    """One breaker per participant, created on first use."""

    threshold: int = 5
    reset_s: float = 10.0
    window_s: float = 30.0
    _by_participant: dict[str, Breaker] = field(default_factory=dict)

    def __getitem__(self, participant: str) -> Breaker:
        breaker = self._by_participant.get(participant)
        if breaker is None:
            breaker = self._by_participant[participant] = Breaker(
                self.threshold, self.reset_s, self.window_s
            )
        return breaker

    def states(self, now: float) -> dict[str, BreakerState]:
        return {p: b.state(now) for p, b in self._by_participant.items()}
