"""``SagaHarness``: run one saga in-process with the real engine and virtual time."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

from dirigent.events import Event
from dirigent.saga import (
    AdminAction,
    AdminRequested,
    Command,
    Decision,
    EventReceived,
    Input,
    SagaDefinition,
    SagaState,
    SagaStatus,
    StepStatus,
    Timer,
    TimerFired,
    decide,
)
from dirigent.testing._encoding import CommandEncoder
from dirigent.testing._routing import routed_elsewhere
from dirigent.testing.matchers import CommandPattern, mismatch
from dirigent.testing.store import InMemorySagaStore, VirtualClock

__all__ = ["SagaHarness"]


class SagaHarness:
    """Drive one saga instance the way the coordinator would, without Kafka or Redis.

    Inputs go through the same pure engine (``dirigent.saga.decide``), so an error from
    the saga's own code (``SagaCodeError``) is raised here exactly as the coordinator
    meets it. Every command sent is Avro-encoded as the coordinator encodes it, so a
    command it could not send fails here too (``ContractError`` naming saga, step and
    command type). Either way nothing of that input is stored. A message id seen before
    is skipped, like the coordinator's duplicate check. Timeouts and backoff happen by
    advancing the virtual clock (:meth:`advance`); never move ``clock`` by hand.

    Example::

        h = SagaHarness(order_fulfilment)
        h.start(OrderPlaced(order_id="o-1", ...))
        h.expect_command(like(ReserveStock, order_id="o-1"))
        h.reply(StockReserved(order_id="o-1", reservation_id="r-1"))
        h.reply(PaymentDeclined(order_id="o-1", reason="card expired"))
        h.expect_commands(AuthorizePayment, like(ReleaseStock, reservation_id="r-1"))
        h.advance(seconds=31)            # ReleaseStock times out, then is sent again
        assert h.status == "COMPENSATING"
    """

    def __init__(self, definition: SagaDefinition, *, start_time: float = 0.0) -> None:
        self.definition = definition
        self.clock = VirtualClock(start_time)
        self.store = InMemorySagaStore()
        self.saga_id: str | None = None
        self.sent: list[Command] = []
        """Every command sent, in order, re-sends included."""
        self.decisions: list[Decision] = []
        """Every decision, in order, ignored inputs included."""
        self._encoder = CommandEncoder(definition)
        self._unchecked: list[Command] = []
        self._ids = itertools.count(1)

    # -- inputs -------------------------------------------------------------------------

    def start(self, event: Event) -> list[Command]:
        """Deliver the start event; returns the commands it produced.

        Raises ``AssertionError`` if the saga already started or the engine ignored it;
        after any error the harness is as before, so ``start`` may be called again.
        """
        if self.saga_id is not None:
            raise AssertionError(f"saga {self.saga_id!r} already started; use deliver()")
        self.saga_id = self.definition.saga_id_for(event)
        try:
            decision = self.deliver(event)
        finally:
            if self._state() is None:
                self.saga_id = None
        if decision.state is None:
            raise AssertionError(f"start event was ignored: {decision.ignored}")
        return list(decision.commands)

    def deliver(
        self, event: Event, *, causation_id: str | None = None, message_id: str | None = None
    ) -> Decision:
        """Deliver any event as-is: late replies, duplicates, strangers.

        ``causation_id`` is the command id it answers (``None``: it answers nothing);
        ``message_id`` defaults to a fresh one, and one delivered before is skipped as a
        duplicate. An awaited event (``wait_for``) whose correlation names another saga
        is skipped too: the coordinator would route it there. A skipped input says why in
        ``ignored``. Returns the engine's decision.
        """
        mid = message_id or f"msg-{next(self._ids)}"
        skip = f"duplicate message id {mid}" if mid in self.store.seen_messages else None
        if skip is None and self.saga_id is not None:
            skip = routed_elsewhere(self.definition, event, self.saga_id)
        if skip is not None:
            decision = Decision(None, ignored=skip)
            self.decisions.append(decision)
            return decision
        return self._run(EventReceived(mid, event, causation_id, self.saga_id), mid)

    def operate(
        self, action: AdminAction | str, *, why: str = "test", who: str = "test",
        step: str | None = None,
    ) -> Decision:  # fmt: skip
        """An operator's action (``dirigent saga retry|compensate|abort|resume``), as the
        coordinator applies it from the admin topic. A refused action changes nothing and
        says why in ``ignored``."""
        request = AdminRequested(f"admin-{next(self._ids)}", AdminAction(action), who, why, step)
        return self._run(request, request.request_id)

    def reply(self, event: Event, *, step: str | None = None) -> Decision:
        """Reply to the one awaited command that accepts this event type.

        Pass ``step`` when several do (parallel siblings). Raises ``AssertionError`` when
        none or several awaited commands accept it, naming what is awaited. An event a
        wait step (``wait_for``) takes is delivered as the coordinator routes it: by its
        type, answering no command.
        """
        wait = self.definition.wait_types.get(event.event_type)
        if wait is not None and step in (None, wait.name):
            return self.deliver(event)
        return self.reply_to(self._awaiting_command(event.event_type, step), event)

    def reply_to(self, command: Command, event: Event) -> Decision:
        """Reply to exactly ``command`` (causation id = its command id), even a stale one."""
        return self.deliver(event, causation_id=command.command_id)

    def advance(self, seconds: float) -> list[Decision]:
        """Let ``seconds`` of virtual time pass, firing the timers that come due.

        1. A negative or non-finite ``seconds`` raises ``ValueError``; nothing changes.
        2. Every timer due at or before the target time (now + ``seconds``) fires.
        3. Timers fire in due-time order; timers due at the same time, in the order set.
        4. Each timer fires with the clock at its due time.
        5. A timer set by a fired one fires too if due at or before the target.
        6. Afterwards the clock is at the target time: it moved by exactly ``seconds``.

        Returns the fired timers' decisions, in firing order (stale timers the engine
        ignored included).
        """
        if not 0 <= seconds < math.inf:
            raise ValueError(f"advance(seconds={seconds!r}): need a finite number >= 0")
        target = self.clock.now + seconds
        fired: list[Decision] = []
        while (timer := self.store.pop_due(target)) is not None:
            fired.append(self._fire(timer))
        self.clock.now = target
        return fired

    def fire_next_timer(self) -> Decision | None:
        """Move the clock to the earliest pending timer and fire that timer alone.

        Other timers due at the same time stay pending. Returns its decision, or ``None``
        (the clock unmoved) when no timer is pending.
        """
        due = self.store.next_due_at()
        timer = None if due is None else self.store.pop_due(due)
        return None if timer is None else self._fire(timer)

    # -- expectations -------------------------------------------------------------------

    def expect_commands(self, *expected: CommandPattern) -> list[Command]:
        """Assert that the commands sent since the last expectation match ``expected``.

        Position by position, each is an event (equal in full), an event class (any
        command of that type) or ``like(Type, field=value, ...)`` (that type, those fields
        equal). Every send counts, re-sends after a timeout included. Raises
        ``AssertionError`` showing expected against sent, with the fields that differ;
        either way the sent commands count as checked. Returns them.
        """
        got, self._unchecked = self._unchecked, []
        problem = mismatch(expected, got)
        if problem is not None:
            raise AssertionError(problem)
        return got

    def expect_command(self, expected: CommandPattern) -> Command:
        """:meth:`expect_commands` for exactly one command; returns it."""
        return self.expect_commands(expected)[0]

    def expect_no_commands(self) -> None:
        """Assert that nothing was sent since the last expectation."""
        self.expect_commands()

    # -- views --------------------------------------------------------------------------

    @property
    def state(self) -> SagaState:
        """The stored saga state; ``AssertionError`` before :meth:`start`."""
        state = self._state()
        if state is None:
            raise AssertionError("no saga started yet")
        return state

    @property
    def status(self) -> SagaStatus:
        """The saga's status (a ``StrEnum``: compares equal to ``"COMPENSATED"``)."""
        return self.state.status

    @property
    def reason(self) -> str | None:
        """Why the saga compensated, failed or parked (``None`` while all is well)."""
        return self.state.reason

    @property
    def data(self) -> Mapping[str, Any]:
        """The saga data: the start event's, as updated by the steps' ``on_success``."""
        return self.state.data

    @property
    def now(self) -> float:
        """The virtual time, in epoch seconds."""
        return self.clock.now

    def step_status(self, name: str) -> StepStatus:
        """The status of step ``name`` (``PENDING`` before it was sent)."""
        return self.state.step(name).status

    def awaiting(self) -> list[Command]:
        """The commands in flight right now, latest send of each (a re-send counts once)."""
        in_flight = (StepStatus.RUNNING, StepStatus.COMPENSATING)
        ids = {s.command_id for s in self.state.steps.values() if s.status in in_flight}
        latest = {c.command_id: c for c in self.sent if c.command_id in ids}
        return list(latest.values())

    def waiting(self) -> list[str]:
        """The wait steps (``wait_for``) waiting for their event right now."""
        steps = self.definition.steps
        return [
            name
            for name, st in self.state.steps.items()
            if st.status is StepStatus.RUNNING and getattr(steps.get(name), "awaits", None)
        ]

    def compensations(self) -> list[str]:
        """The steps whose compensation was sent, in the order sent (re-sends not repeated)."""
        return [c.step for c in self.sent if c.phase == "compensation" and c.attempt == 1]

    def timers(self) -> list[Timer]:
        """Pending timers in the order :meth:`advance` would fire them."""
        return self.store.timers()

    # -- internals ----------------------------------------------------------------------

    def _state(self) -> SagaState | None:
        return None if self.saga_id is None else self.store.get(self.saga_id)

    def _fire(self, timer: Timer) -> Decision:
        self.clock.now = max(self.clock.now, timer.due_at)
        return self._run(TimerFired(timer))

    def _run(self, inp: Input, message_id: str | None = None) -> Decision:
        """Decide, encode the commands, then store: a failure on the way stores nothing."""
        decision = decide(self.definition, self._state(), inp, self.clock.now)
        for command in decision.commands:
            self._encoder.check(command)
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
