"""An in-memory saga store and a virtual clock, for tests and the harness."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from dirigent.errors import VersionConflict
from dirigent.saga import Decision, SagaState, Timer

__all__ = ["InMemorySagaStore", "VirtualClock"]


@dataclass
class VirtualClock:
    """Time that only moves when told to (epoch seconds)."""

    now: float = 0.0

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        self.now += seconds
        return self.now


@dataclass
class InMemorySagaStore:
    """What the Redis store does, minus Redis: states, seen message ids and timers.

    ``apply`` checks the version like the real store's compare-and-set.
    """

    states: dict[str, SagaState] = field(default_factory=dict)
    seen_messages: set[str] = field(default_factory=set)
    _timers: dict[str, Timer] = field(default_factory=dict)
    _heap: list[tuple[float, str]] = field(default_factory=list)

    def get(self, saga_id: str) -> SagaState | None:
        return self.states.get(saga_id)

    def apply(self, decision: Decision, message_id: str | None = None) -> None:
        state = decision.state
        if state is None:
            return
        current = self.states.get(state.saga_id)
        expected = 0 if current is None else current.version
        if state.version != expected + 1:
            raise VersionConflict(
                f"saga {state.saga_id!r}: version {state.version}, stored {expected}"
            )
        self.states[state.saga_id] = state
        if message_id is not None:
            self.seen_messages.add(message_id)
        for tid in decision.cancel_timers:
            self._timers.pop(tid, None)
        for timer in decision.timers:
            self._timers[timer.timer_id] = timer
            heapq.heappush(self._heap, (timer.due_at, timer.timer_id))

    def timers(self) -> list[Timer]:
        """Pending timers, earliest first."""
        return sorted(self._timers.values(), key=lambda t: (t.due_at, t.timer_id))

    def pop_due(self, now: float) -> Timer | None:
        """Remove and return the earliest timer due at or before ``now``."""
        while self._heap and self._heap[0][0] <= now:
            due, tid = heapq.heappop(self._heap)
            timer = self._timers.get(tid)
            if timer is not None and timer.due_at == due:
                del self._timers[tid]
                return timer
        return None

    def next_due_at(self) -> float | None:
        pending = self.timers()
        return pending[0].due_at if pending else None
