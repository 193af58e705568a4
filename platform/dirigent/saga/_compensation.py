"""Backward recovery: undo every step that may have happened, newest first, one at a time.

A step is undone when it succeeded *or* its outcome is unknown (it timed out: the
participant may have applied it); compensations must therefore accept "nothing to
undo". When one compensation runs out of attempts the others still run, and the saga is
parked with the compensations still owed. A forward success that arrives after its
step's compensation was answered is compensated again, never leaked.
"""

from __future__ import annotations

from dataclasses import replace

from dirigent.saga._work import Work, compensation_of
from dirigent.saga.decision import Phase, TimerKind
from dirigent.saga.state import SagaStatus, StepState, StepStatus
from dirigent.saga.steps import Step

__all__ = [
    "begin",
    "on_late_reply",
    "on_reply",
    "on_retry",
    "on_timeout",
    "redo",
    "send_next",
    "start_when_drained",
]

_MAY_HAVE_HAPPENED = (StepStatus.SUCCEEDED, StepStatus.UNKNOWN)
_NOTHING_TO_UNDO = (StepStatus.FAILED, StepStatus.CANCELLED)


def begin(w: Work, reason: str) -> None:
    """Turn the saga to COMPENSATING; pending retries stop, in-flight steps drain."""
    w.status = SagaStatus.COMPENSATING
    w.reason = reason
    w.cancel_deadline()
    for name, st in list(w.steps.items()):
        if st.status is StepStatus.RETRY_WAIT:
            # A retry after a timeout waits on an attempt that may have been applied.
            status = StepStatus.UNKNOWN if st.unknown else StepStatus.CANCELLED
            w.steps[name] = replace(st, status=status)
            w.cancel_timer(TimerKind.RETRY, name, Phase.FORWARD, st.attempt + 1)
        elif st.status is StepStatus.RUNNING and st.command_id is None:
            # A wait (nothing in flight): it stops waiting.
            w.steps[name] = replace(st, status=StepStatus.CANCELLED)
            w.cancel_timer(TimerKind.STEP_TIMEOUT, name, Phase.FORWARD, st.attempt)
    w.early.clear()
    start_when_drained(w)


def start_when_drained(w: Work) -> None:
    """Once no forward command is in flight, fix the queue and send the first undo."""
    if w.cq is not None or any(st.status is StepStatus.RUNNING for st in w.steps.values()):
        return
    w.cq = tuple(
        s.name
        for unit in reversed(w.defn.units)
        for s in reversed(unit)
        if s.undoable and w.step(s.name).status in _MAY_HAVE_HAPPENED
    )
    w.ci = 0
    send_next(w)


def redo(w: Work, step: Step, st: StepState) -> None:
    """A forward success arrived after the step's compensation was answered: the effect
    happened after the undo, so it is compensated again (the saga reopens if it ended)."""
    # SUCCEEDED until its second undo is sent: a repeat of this reply changes nothing.
    w.steps[step.name] = replace(st, status=StepStatus.SUCCEEDED, unknown=False)
    w.cq = (*(w.cq or ()), step.name)
    w.note = f"step {step.name!r} succeeded after its compensation: compensating it again"
    if w.status is not SagaStatus.COMPENSATING:
        w.status = SagaStatus.COMPENSATING
        w.ci = len(w.cq) - 1
        send_next(w)


def send_next(w: Work) -> None:
    """Send the next compensation of the queue, or settle the saga when none is left."""
    assert w.cq is not None
    while w.ci < len(w.cq) and w.step(w.cq[w.ci]).status in _NOTHING_TO_UNDO:
        w.ci += 1  # a late reply said it never happened
    if w.ci < len(w.cq):
        step = w.defn.steps[w.cq[w.ci]]
        w.send(step, Phase.COMPENSATION, w.step(step.name).compensation_attempt + 1)
        return
    owed = [n for n, s in w.steps.items() if s.status is StepStatus.COMPENSATION_FAILED]
    if owed:
        w.status = SagaStatus.PARKED
        w.reason = (
            f"compensation owed for step(s) {', '.join(owed)} (compensating because: "
            f"{_root_reason(w.reason)})"
        )
        w.cancel_deadline()
        w.note = w.reason
        return
    w.reason = _root_reason(w.reason)
    w.end(SagaStatus.COMPENSATED, None)


def _root_reason(reason: str | None) -> str | None:
    marker = "(compensating because: "
    if reason is not None and marker in reason:
        return reason.split(marker, 1)[1].removesuffix(")")
    return reason


def on_reply(w: Work, step: Step, st: StepState, event_type: str) -> None:
    comp = compensation_of(step)
    n = st.compensation_attempt
    w.cancel_timer(TimerKind.STEP_TIMEOUT, step.name, Phase.COMPENSATION, n)
    if event_type in comp.compensated_types:
        _undone(w, step, st)
    else:
        _attempt_failed(w, step, st, f"replied {event_type}", event_type, unknown=False)


def on_late_reply(w: Work, step: Step, st: StepState, event_type: str) -> None:
    """A reply to a compensation that timed out (retry waiting, or owed)."""
    comp = compensation_of(step)
    n = st.compensation_attempt
    if event_type in comp.compensated_types:
        if st.status is StepStatus.COMPENSATION_RETRY_WAIT:
            w.cancel_timer(TimerKind.RETRY, step.name, Phase.COMPENSATION, n + 1)
        _undone(w, step, st)
        return
    retry = w.allows_retry(step, Phase.COMPENSATION, n, event_type)
    if st.status is StepStatus.COMPENSATION_RETRY_WAIT and retry:
        w.steps[step.name] = replace(st, unknown=False)  # the next attempt gets a new id
    else:
        w.steps[step.name] = replace(st, status=StepStatus.COMPENSATION_FAILED, unknown=False)
        if st.status is StepStatus.COMPENSATION_RETRY_WAIT:
            w.cancel_timer(TimerKind.RETRY, step.name, Phase.COMPENSATION, n + 1)
            _next_or_park(w, step)
    w.note = f"compensation of step {step.name!r} replied {event_type} late"


def _undone(w: Work, step: Step, st: StepState) -> None:
    w.steps[step.name] = replace(st, status=StepStatus.COMPENSATED, unknown=False)
    w.note = f"step {step.name!r} compensated"
    if w.status is SagaStatus.COMPENSATING and _is_head(w, step):
        w.ci += 1
        send_next(w)
    elif w.status is SagaStatus.PARKED:
        send_next(w)  # an owed compensation answered late: maybe nothing is owed now


def _next_or_park(w: Work, step: Step) -> None:
    if w.status is SagaStatus.COMPENSATING and _is_head(w, step):
        w.ci += 1
        send_next(w)


def _is_head(w: Work, step: Step) -> bool:
    return w.cq is not None and w.ci < len(w.cq) and w.cq[w.ci] == step.name


def on_timeout(w: Work, step: Step, st: StepState) -> None:
    timeout_s = compensation_of(step).timeout_s
    _attempt_failed(w, step, st, f"no reply within {timeout_s}s", None, unknown=True)


def on_retry(w: Work, step: Step, attempt: int) -> None:
    w.send(step, Phase.COMPENSATION, attempt)
    w.note = f"compensation of step {step.name!r} attempt {attempt}"


def _attempt_failed(
    w: Work, step: Step, st: StepState, why: str, failure: str | None, *, unknown: bool
) -> None:
    n = st.compensation_attempt
    if w.allows_retry(step, Phase.COMPENSATION, n, failure):
        w.schedule_retry(step, Phase.COMPENSATION, n, unknown=unknown)
        w.note = f"compensation of step {step.name!r} attempt {n} failed: {why}"
        return
    w.steps[step.name] = replace(st, status=StepStatus.COMPENSATION_FAILED, unknown=unknown)
    w.note = (
        f"compensation of step {step.name!r} failed after {n} attempt(s): {why}; "
        "the other compensations carry on"
    )
    _next_or_park(w, step)
