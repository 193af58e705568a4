"""``SagaHarness``: run one saga in-process with the real engine and virtual time."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from dirigent.events import Event
from dirigent.saga import (
    Command,
    Decision,
    EventReceived,
    SagaDefinition,
    SagaState,
    SagaStatus,
    StepStatus,
    TimerFired,
    decide,
)
from dirigent.testing.store import InMemorySagaStore, VirtualClock

__all__ = ["SagaHarness"]


class SagaHarness:
    """Drive one saga instance the way the coordinator would, without Kafka or Redis.

    Timeouts and backoff happen by advancing the virtual clock. A message id seen before
    is skipped, like the coordinator's duplicate check.

    Example::

        h = SagaHarness(order_fulfilment)
        h.start(OrderPlaced(order_id="o-1", ...))
        h.expect_commands(ReserveStock(order_id="o-1", ...))
        h.reply(StockReserved(order_id="o-1"))
        h.advance(seconds=30)            # authorize_payment times out
        assert h.status == "COMPENSATED"
    """

    def __init__(self, definition: SagaDefinition, *, start_time: float = 0.0) -> None:
        self.definition = definition
        self.clock = VirtualClock(start_time)
        self.store = InMemorySagaStore()
        self.saga_id: str | None = None
        self.sent: list[Command] = []
        self.decisions: list[Decision] = []
        self._unchecked: list[Command] = []
        self._ids = itertools.count(1)

    # -- inputs -------------------------------------------------------------------------

    def start(self, event: Event) -> list[Command]:
        """Deliver the start event; returns the commands it produced."""
        if self.saga_id is not None:
            raise AssertionError(f"saga {self.saga_id!r} already started; use deliver()")
        self.saga_id = self.definition.saga_id_for(event)
        decision = self.deliver(event)
        if decision.state is None:
            raise AssertionError(f"start event was ignored: {decision.ignored}")
        return list(decision.commands)

    def deliver(
        self, event: Event, *, causation_id: str | None = None, message_id: str | None = None
    ) -> Decision:
        """Deliver any event as-is (late replies, duplicates, strangers)."""
        mid = message_id or f"msg-{next(self._ids)}"
        if mid in self.store.seen_messages:
            decision = Decision(None, ignored=f"duplicate message id {mid}")
            self.decisions.append(decision)
            return decision
        inp = EventReceived(mid, event, causation_id, self.saga_id)
        return self._apply(decide(self.definition, self._state(), inp, self.clock.now), mid)

    def reply(self, event: Event, *, step: str | None = None) -> Decision:
        """Reply to the command awaiting this event type (name ``step`` when ambiguous)."""
        return self.reply_to(self._awaiting_command(event.event_type, step), event)

    def reply_to(self, command: Command, event: Event) -> Decision:
        """Reply to exactly ``command`` (causation id = its command id)."""
        return self.deliver(event, causation_id=command.command_id)

    def advance(self, seconds: float) -> list[Decision]:
        """Move the clock, firing every timer that comes due on the way, in order."""
        target = self.clock.now + seconds
        fired: list[Decision] = []
        while (timer := self.store.pop_due(target)) is not None:
            self.clock.now = max(self.clock.now, timer.due_at)
            inp = TimerFired(timer)
            fired.append(self._apply(decide(self.definition, self._state(), inp, self.clock.now)))
        self.clock.now = target
        return fired

    def fire_next_timer(self) -> Decision | None:
        """Advance exactly to the next pending timer and fire it (``None``: no timers)."""
        due = self.store.next_due_at()
        if due is None:
            return None
        fired = self.advance(max(0.0, due - self.clock.now))
        return fired[0] if fired else None

    # -- expectations -------------------------------------------------------------------

    def expect_commands(self, *events: Event) -> list[Command]:
        """Assert the commands sent since the last expectation are exactly ``events``."""
        got, self._unchecked = self._unchecked, []
        if [c.event for c in got] != list(events):
            raise AssertionError(
                "commands differ\n  expected:\n"
                + "".join(f"    {e!r}\n" for e in events)
                + "  sent:\n"
                + "".join(f"    {c.step}/{c.phase}#{c.attempt}: {c.event!r}\n" for c in got)
            )
        return got

    def expect_no_commands(self) -> None:
        self.expect_commands()

    # -- views --------------------------------------------------------------------------

    @property
    def state(self) -> SagaState:
        state = self._state()
        if state is None:
            raise AssertionError("no saga started yet")
        return state

    @property
    def status(self) -> SagaStatus:
        return self.state.status

    @property
    def reason(self) -> str | None:
        return self.state.reason

    @property
    def data(self) -> Mapping[str, Any]:
        return self.state.data

    @property
    def now(self) -> float:
        return self.clock.now

    def step_status(self, name: str) -> StepStatus:
        return self.state.step(name).status

    def awaiting(self) -> list[Command]:
        """The commands in flight right now (a re-send after a timeout counts once)."""
        in_flight = (StepStatus.RUNNING, StepStatus.COMPENSATING)
        ids = {s.command_id for s in self.state.steps.values() if s.status in in_flight}
        latest = {c.command_id: c for c in self.sent if c.command_id in ids}
        return list(latest.values())

    def compensations(self) -> list[str]:
        """Steps whose compensation was sent (first attempts), in order."""
        return [c.step for c in self.sent if c.phase == "compensation" and c.attempt == 1]

    # -- internals ----------------------------------------------------------------------

    def _state(self) -> SagaState | None:
        return None if self.saga_id is None else self.store.get(self.saga_id)

    def _apply(self, decision: Decision, message_id: str | None = None) -> Decision:
        self.store.apply(decision, message_id)
        self.decisions.append(decision)
        self.sent.extend(decision.commands)
        self._unchecked.extend(decision.commands)
        return decision

    def _awaiting_command(self, event_type: str, step: str | None) -> Command:
        candidates = [
            c
            for c in self.awaiting()
            if (step is None or c.step == step) and event_type in self._accepts(c)
        ]
        if len(candidates) == 1:
            return candidates[0]
        waiting = ", ".join(f"{c.step}/{c.phase}" for c in self.awaiting()) or "nothing"
        if not candidates:
            raise AssertionError(f"no awaited command accepts {event_type}; awaiting: {waiting}")
        raise AssertionError(f"{event_type} fits several commands ({waiting}); pass step=")

    def _accepts(self, command: Command) -> frozenset[str]:
        step = self.definition.steps[command.step]
        if command.phase == "compensation" and step.compensation is not None:
            return step.compensation.compensated_types | step.compensation.failure_types
        return step.success_types | step.failure_types
