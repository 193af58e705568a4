"""An in-memory saga store and a virtual clock, for tests and the harness."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

from dirigent.errors import VersionConflict
from dirigent.saga import Decision, SagaState, Timer

__all__ = ["InMemorySagaStore", "VirtualClock"]


@dataclass
class VirtualClock:
    """Time that only moves when told to (epoch seconds)."""

    now: float = 0.0

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` (no timers fire: see ``SagaHarness.advance``)."""
        if seconds < 0:
            raise ValueError("time cannot go backwards")
        self.now += seconds
        return self.now


@dataclass
class InMemorySagaStore:
    """What the Redis store does, minus Redis: states, seen message ids and timers.

    ``apply`` checks the version like the real store's compare-and-set. Timers come out
    by due time; timers due at the same time come out in the order they were set (a
    timer set again, under the same id, takes its place from the latest set).
    """

    states: dict[str, SagaState] = field(default_factory=dict)
    seen_messages: set[str] = field(default_factory=set)
    _timers: dict[str, tuple[Timer, int]] = field(default_factory=dict, init=False, repr=False)
    _heap: list[tuple[float, int, str]] = field(default_factory=list, init=False, repr=False)
    _seq: itertools.count[int] = field(default_factory=itertools.count, init=False, repr=False)

    def get(self, saga_id: str) -> SagaState | None:
        """The stored state of ``saga_id`` (``None``: no such saga)."""
        return self.states.get(saga_id)

    def apply(self, decision: Decision, message_id: str | None = None) -> None:
        """Persist an applied decision: state (compare-and-set), seen id, timers.

        Raises ``VersionConflict`` when the state's version does not follow the stored one.
        """
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
            seq = next(self._seq)
            self._timers[timer.timer_id] = (timer, seq)
            heapq.heappush(self._heap, (timer.due_at, seq, timer.timer_id))

    def timers(self) -> list[Timer]:
        """Pending timers in the order they will fire: by due time, then by when set."""
        pending = sorted(self._timers.values(), key=lambda ts: (ts[0].due_at, ts[1]))
        return [timer for timer, _ in pending]

    def pop_due(self, now: float) -> Timer | None:
        """Remove and return the next timer due at or before ``now`` (``None``: none is)."""
        while self._heap and self._heap[0][0] <= now:
            _, seq, tid = heapq.heappop(self._heap)
            entry = self._timers.get(tid)
            if entry is not None and entry[1] == seq:  # else cancelled or set again since
                del self._timers[tid]
                return entry[0]
        return None

    def next_due_at(self) -> float | None:
        """When the next pending timer is due (``None``: no timer pending)."""
        pending = self.timers()
        return pending[0].due_at if pending else None
