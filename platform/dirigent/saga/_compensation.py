"""Backward recovery: undo the succeeded compensatable steps, newest first, one at a time."""

from __future__ import annotations

from dirigent.saga._work import Work, compensation_of
from dirigent.saga.decision import Phase, TimerKind
from dirigent.saga.state import SagaStatus, StepState, StepStatus
from dirigent.saga.steps import Step, StepKind

__all__ = ["begin", "on_reply", "on_retry", "on_timeout", "start_when_drained"]


def begin(w: Work, reason: str) -> None:
    """Turn the saga to COMPENSATING; pending retries are cancelled, in-flight steps drain."""
    w.status = SagaStatus.COMPENSATING
    w.reason = reason
    w.cancel_deadline()
    for name, st in list(w.steps.items()):
        if st.status is StepStatus.RETRY_WAIT:
            w.steps[name] = StepState(StepStatus.CANCELLED, st.attempt, None, 0)
            w.cancel_timer(TimerKind.RETRY, name, Phase.FORWARD, st.attempt + 1)
    start_when_drained(w)


def start_when_drained(w: Work) -> None:
    """Once no forward command is in flight, fix the queue and send the first undo."""
    if any(st.status is StepStatus.RUNNING for st in w.steps.values()):
        return
    w.cq = tuple(
        s.name
        for unit in reversed(w.defn.units)
        for s in reversed(unit)
        if s.kind is StepKind.COMPENSATABLE and w.step(s.name).status is StepStatus.SUCCEEDED
    )
    w.ci = 0
    _send_next(w)


def _send_next(w: Work) -> None:
    assert w.cq is not None
    if w.ci >= len(w.cq):
        w.end(SagaStatus.COMPENSATED, None)
        return
    w.send(w.defn.steps[w.cq[w.ci]], Phase.COMPENSATION, 1)


def on_reply(w: Work, step: Step, st: StepState, event_type: str) -> None:
    comp = compensation_of(step)
    n = st.compensation_attempt
    w.cancel_timer(TimerKind.STEP_TIMEOUT, step.name, Phase.COMPENSATION, n)
    if event_type in comp.compensated_types:
        w.steps[step.name] = StepState(StepStatus.COMPENSATED, st.attempt, None, n)
        w.note = f"step {step.name!r} compensated"
        w.ci += 1
        _send_next(w)
    else:
        _attempt_failed(w, step, st, f"replied {event_type}", event_type)


def on_timeout(w: Work, step: Step, st: StepState) -> None:
    timeout_s = compensation_of(step).timeout_s
    _attempt_failed(w, step, st, f"no reply within {timeout_s}s", None)


def on_retry(w: Work, step: Step, attempt: int) -> None:
    w.send(step, Phase.COMPENSATION, attempt)
    w.note = f"compensation of step {step.name!r} attempt {attempt}"


def _attempt_failed(w: Work, step: Step, st: StepState, why: str, failure: str | None) -> None:
    n = st.compensation_attempt
    if compensation_of(step).retry.allows_retry(n, failure):
        w.schedule_retry(step, Phase.COMPENSATION, n)
        w.note = f"compensation of step {step.name!r} attempt {n} failed: {why}"
        return
    w.steps[step.name] = StepState(StepStatus.COMPENSATION_FAILED, st.attempt, None, n)
    w.end(
        SagaStatus.FAILED,
        f"compensation of step {step.name!r} failed after {n} attempt(s): {why}"
        f" (compensating because: {w.reason})",
    )
