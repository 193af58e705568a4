"""Forward progress: send units, take replies, retry, and hand failures to compensation."""

from __future__ import annotations

from dirigent.events import Event
from dirigent.saga import _compensation
from dirigent.saga._work import Work
from dirigent.saga.decision import Phase, TimerKind
from dirigent.saga.state import SagaStatus, StepState, StepStatus
from dirigent.saga.steps import Step, StepKind

__all__ = ["on_reply", "on_retry", "on_timeout", "start_unit"]


def start_unit(w: Work, index: int) -> None:
    """Send the first attempt of every step in unit ``index`` (one, or a parallel group)."""
    w.cursor = index
    for step in w.defn.units[index]:
        w.send(step, Phase.FORWARD, 1)


def on_reply(w: Work, step: Step, st: StepState, event: Event) -> None:
    w.cancel_timer(TimerKind.STEP_TIMEOUT, step.name, Phase.FORWARD, st.attempt)
    if event.event_type in step.success_types:
        _succeeded(w, step, st, event)
    else:
        _attempt_failed(w, step, st, f"replied {event.event_type}", event.event_type)


def on_timeout(w: Work, step: Step, st: StepState) -> None:
    _attempt_failed(w, step, st, f"no reply within {step.timeout_s}s", None)


def on_retry(w: Work, step: Step, attempt: int) -> None:
    w.send(step, Phase.FORWARD, attempt)
    w.note = f"step {step.name!r} attempt {attempt}"


def _succeeded(w: Work, step: Step, st: StepState, event: Event) -> None:
    if step.on_success is not None:
        w.data = step.on_success(dict(w.data), event)
    w.steps[step.name] = StepState(StepStatus.SUCCEEDED, st.attempt, None, 0)
    w.note = f"step {step.name!r} succeeded"
    if w.status is SagaStatus.COMPENSATING:
        _compensation.start_when_drained(w)  # a sibling that was still in flight
        return
    unit = w.defn.units[w.cursor]
    if any(w.step(s.name).status is not StepStatus.SUCCEEDED for s in unit):
        return
    if w.cursor + 1 == len(w.defn.units):
        w.cursor += 1
        w.end(SagaStatus.COMPLETED, None)
        w.note = "saga completed"
        return
    start_unit(w, w.cursor + 1)


def _attempt_failed(w: Work, step: Step, st: StepState, why: str, failure: str | None) -> None:
    n = st.attempt
    if w.status is SagaStatus.COMPENSATING:
        # A sibling in flight when compensation began: no more attempts, nothing to undo.
        w.steps[step.name] = StepState(StepStatus.FAILED, n, None, 0)
        w.note = f"step {step.name!r} ended while compensating: {why}"
        _compensation.start_when_drained(w)
        return
    if step.retry.allows_retry(n, failure):
        w.schedule_retry(step, Phase.FORWARD, n)
        w.note = f"step {step.name!r} attempt {n} failed: {why}"
        return
    w.steps[step.name] = StepState(StepStatus.FAILED, n, None, 0)
    reason = f"step {step.name!r} failed after {n} attempt(s): {why}"
    if step.kind is StepKind.RETRIABLE:
        _fail_forward(w, reason)
    else:
        _compensation.begin(w, reason)


def _fail_forward(w: Work, reason: str) -> None:
    """After the pivot nothing is undone: stop the other in-flight steps and park as FAILED."""
    for name, st in list(w.steps.items()):
        if st.status is StepStatus.RUNNING:
            w.cancel_timer(TimerKind.STEP_TIMEOUT, name, Phase.FORWARD, st.attempt)
        elif st.status is StepStatus.RETRY_WAIT:
            w.cancel_timer(TimerKind.RETRY, name, Phase.FORWARD, st.attempt + 1)
        else:
            continue
        w.steps[name] = StepState(StepStatus.CANCELLED, st.attempt, None, 0)
    w.end(SagaStatus.FAILED, reason)
