"""The pure saga engine: ``decide(definition, state, input, now) -> Decision``.

No I/O, no clock, no randomness: the same arguments always give the same decision, so
the coordinator can retry a decision after a lost compare-and-set, and tests can replay
any interleaving.
"""

from __future__ import annotations

from collections.abc import Callable

from dirigent.errors import SagaCodeError, SagaVersionError
from dirigent.events import Event
from dirigent.saga import _admin, _compensation, _forward
from dirigent.saga._work import Work, initial_data
from dirigent.saga.decision import (
    AdminRequested,
    Decision,
    EventReceived,
    Input,
    Phase,
    Timer,
    TimerKind,
)
from dirigent.saga.definition import SagaDefinition
from dirigent.saga.state import SagaState, SagaStatus, SagaTrace, StepState, StepStatus
from dirigent.saga.steps import Step
from dirigent.saga.versions import migrate_to, misfit

__all__ = ["decide"]


def decide(
    definition: SagaDefinition, state: SagaState | None, event: Input, now: float
) -> Decision:
    """Apply one input to one saga.

    ``state`` is the stored state (``None``: no saga yet); ``now`` is epoch seconds.
    A state of an older definition version is migrated first (``SagaVersionError`` if
    ``definition`` cannot continue it). Saga code that fails raises ``SagaCodeError``
    naming the saga, step and function; nothing is decided then.

    Example::

        d = decide(order_fulfilment, None, EventReceived("m-1", OrderPlaced(...)), now=0.0)
        d.state.status        # SagaStatus.RUNNING
        d.commands[0].event   # ReserveStock(...)
        d2 = decide(order_fulfilment, d.state,
                    EventReceived("m-2", StockReserved(...), causation_id=d.commands[0].command_id),
                    now=1.0)
    """
    started_on = state.definition_version if state is not None else definition.version
    if state is not None:
        state = migrate_to(definition, state)
        problem = misfit(definition, state)
        if problem is not None:
            raise SagaVersionError(problem)
    if isinstance(event, AdminRequested):
        if state is None:
            return _ignored(f"{event.action} refused: no such saga")
        return _admin.apply(definition, state, event, now, was_version=started_on)
    if isinstance(event, EventReceived):
        return _on_event(definition, state, event, now)
    return _on_timer(definition, state, event.timer, now)


def _ignored(reason: str) -> Decision:
    return Decision(None, ignored=reason)


def _start(defn: SagaDefinition, event: Event, now: float, trace: SagaTrace | None) -> Decision:
    deadline_at = now + defn.deadline_s if defn.deadline_s is not None else None
    base = SagaState(
        saga_id=defn.id_of(event),
        saga_type=defn.name,
        status=SagaStatus.RUNNING,
        version=0,
        data=initial_data(defn, event),
        steps={},
        started_at=now,
        updated_at=now,
        deadline_at=deadline_at,
        definition_version=defn.version,
        trace=trace,
    )
    w = Work(defn, base, now, "start")
    w.from_status = None
    w.note = "saga started"
    if deadline_at is not None:
        w.set_deadline(deadline_at)
    _forward.start_unit(w, 0)
    return w.finish()


def _on_event(
    defn: SagaDefinition, state: SagaState | None, inp: EventReceived, now: float
) -> Decision:
    et = inp.event.event_type
    if state is None:
        if et == defn.start_type:
            return _start(defn, inp.event, now, inp.trace)
        return _ignored(f"{et} does not start saga {defn.name!r} and no instance exists")
    if et == defn.start_type:
        return _ignored("duplicate start event")
    found = _awaiting(defn, state, inp.causation_id)
    wait = defn.wait_types.get(et) if found is None else None
    if wait is not None:
        return _on_wait_event(defn, state, wait, inp.event, now)
    if found is None:
        if state.is_terminal:
            return _ignored(f"saga is {state.status}")
        return _ignored(f"no step awaits causation id {inp.causation_id}: late or duplicate")
    step, st, phase = found
    if et not in _accepted(step, phase):
        return _ignored(f"step {step.name!r} does not expect {et} ({phase} reply)")
    handler = _reply_handler(step, st, phase, et)
    if handler is None or (state.is_terminal and handler is not _redo):
        return _ignored(f"step {step.name!r} is {st.status}: {et} changes nothing")
    w = Work(defn, state, now, f"reply:{et}")
    w.step_name = step.name
    handler(w, step, st, inp.event)
    return w.finish()


def _on_wait_event(
    defn: SagaDefinition, state: SagaState, step: Step, event: Event, now: float
) -> Decision:
    st = state.step(step.name)
    et = event.event_type
    assert step.awaits is not None
    try:
        names = step.awaits.saga_id_of(event)
    except Exception as exc:
        raise SagaCodeError(
            f"saga {defn.name!r}, step {step.name!r}: correlation raised "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if names != state.saga_id:
        return _ignored(f"{et} correlates to saga {names!r}, not {state.saga_id!r}")
    if state.status not in (SagaStatus.RUNNING, SagaStatus.PARKED):
        return _ignored(f"saga is {state.status}: {et} for step {step.name!r} changes nothing")
    waiting = st.status is StepStatus.RUNNING
    if not waiting and (st.status is not StepStatus.PENDING or step.name in state.early):
        return _ignored(f"step {step.name!r} is {st.status}: {et} changes nothing")
    w = Work(defn, state, now, f"event:{et}")
    w.step_name = step.name
    _forward.on_wait_event(w, step, st, event)
    return w.finish()


_Handler = Callable[[Work, Step, StepState, Event], None]


def _redo(w: Work, step: Step, st: StepState, event: Event) -> None:
    _compensation.redo(w, step, st)


def _comp_reply(w: Work, step: Step, st: StepState, event: Event) -> None:
    _compensation.on_reply(w, step, st, event.event_type)


def _comp_late(w: Work, step: Step, st: StepState, event: Event) -> None:
    _compensation.on_late_reply(w, step, st, event.event_type)


_FORWARD_HANDLERS: dict[StepStatus, _Handler] = {
    StepStatus.RUNNING: _forward.on_reply,
    StepStatus.RETRY_WAIT: _forward.on_late_reply,
    StepStatus.UNKNOWN: _forward.on_late_reply,
}
_COMPENSATION_HANDLERS: dict[StepStatus, _Handler] = {
    StepStatus.COMPENSATING: _comp_reply,
    StepStatus.COMPENSATION_RETRY_WAIT: _comp_late,
    StepStatus.COMPENSATION_FAILED: _comp_late,
}


def _reply_handler(step: Step, st: StepState, phase: Phase, et: str) -> _Handler | None:
    """Who takes a reply, by the phase it answers and the step's status (None: nobody)."""
    if phase is Phase.COMPENSATION:
        return _COMPENSATION_HANDLERS.get(st.status)
    if st.status is StepStatus.COMPENSATED and et in step.success_types:
        return _redo  # the forward effect landed after its undo
    return _FORWARD_HANDLERS.get(st.status)


def _awaiting(
    defn: SagaDefinition, state: SagaState, causation_id: str | None
) -> tuple[Step, StepState, Phase] | None:
    """The step a reply answers, and whether it answers its forward or its undo."""
    if causation_id is None:
        return None
    for name, st in state.steps.items():
        if causation_id not in (st.command_id, st.forward_id):
            continue
        step = defn.steps.get(name)
        if step is None:
            return None
        forward = causation_id == st.forward_id or st.status in _FORWARD_STATUSES
        return step, st, Phase.FORWARD if forward else Phase.COMPENSATION
    return None


_FORWARD_STATUSES = frozenset(
    {
        StepStatus.RUNNING,
        StepStatus.RETRY_WAIT,
        StepStatus.UNKNOWN,
        StepStatus.SUCCEEDED,
        StepStatus.FAILED,
        StepStatus.CANCELLED,
    }
)


def _accepted(step: Step, phase: Phase) -> frozenset[str]:
    if phase is Phase.COMPENSATION and step.compensation is not None:
        return step.compensation.compensated_types | step.compensation.failure_types
    return step.success_types | step.failure_types


# (timer kind, phase) -> the step status in which the timer is still current
_LIVE = {
    (TimerKind.STEP_TIMEOUT, Phase.FORWARD): StepStatus.RUNNING,
    (TimerKind.RETRY, Phase.FORWARD): StepStatus.RETRY_WAIT,
    (TimerKind.STEP_TIMEOUT, Phase.COMPENSATION): StepStatus.COMPENSATING,
    (TimerKind.RETRY, Phase.COMPENSATION): StepStatus.COMPENSATION_RETRY_WAIT,
}


def _on_timer(defn: SagaDefinition, state: SagaState | None, t: Timer, now: float) -> Decision:
    if state is None:
        return _ignored("timer for a saga that does not exist")
    if state.is_terminal:
        return _ignored(f"saga is {state.status}")
    if t.kind is TimerKind.SAGA_DEADLINE:
        return _on_deadline(defn, state, now)
    step = defn.step_named(t.step)
    st = state.step(step.name if step is not None else "")
    current = st.attempt if t.phase is Phase.FORWARD else st.compensation_attempt
    if t.kind is TimerKind.RETRY:
        current += 1
    if step is None or st.status is not _LIVE[(t.kind, t.phase)] or current != t.attempt:
        return _ignored(f"stale {t.kind} timer for step {t.step!r} attempt {t.attempt}")
    w = Work(defn, state, now, f"timer:{t.kind}")
    w.step_name = step.name
    handlers = _forward if t.phase is Phase.FORWARD else _compensation
    if t.kind is TimerKind.RETRY:
        handlers.on_retry(w, step, t.attempt)
    else:
        handlers.on_timeout(w, step, st)
    return w.finish()


def _on_deadline(defn: SagaDefinition, state: SagaState, now: float) -> Decision:
    if state.status is not SagaStatus.RUNNING:
        return _ignored("deadline while compensating: compensation carries on")
    if defn.pivot_unit is not None and state.cursor >= defn.pivot_unit:
        # The pivot's command is out: undoing is no longer safe, so the saga goes forward,
        # bounded by the remaining steps' timeouts and retry policies.
        return _ignored("deadline after the pivot was sent: the saga continues forward")
    w = Work(defn, state, now, "timer:saga_deadline")
    _compensation.begin(w, f"saga deadline of {defn.deadline_s}s exceeded")
    return w.finish()
