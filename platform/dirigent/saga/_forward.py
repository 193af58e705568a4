"""Forward progress: send units, take replies, retry, and hand failures to compensation.

A timeout is not a failure: the participant may have applied the command. A timed-out
attempt is re-sent with the same command id (the participant answers the repeat from
its idempotency store); when the policy runs out while the outcome is still unknown, a
compensatable step is compensated like a succeeded one, and a pivot or later step parks
the saga for an operator (it is never compensated, and never guessed).

Entering a unit evaluates its conditions (a false one SKIPS the step), counts an
initiating step as done, arms a wait (or completes it with an event that came early),
and sends the rest; units that are done at once are passed in the same decision.
"""

from __future__ import annotations

from dataclasses import replace

from dirigent.events import Event
from dirigent.saga import _compensation
from dirigent.saga._work import Work
from dirigent.saga.decision import Phase, TimerKind
from dirigent.saga.state import SagaStatus, StepState, StepStatus
from dirigent.saga.steps import OnTimeout, Step, StepKind

__all__ = [
    "on_late_reply",
    "on_reply",
    "on_retry",
    "on_timeout",
    "on_wait_event",
    "start_unit",
]


def start_unit(w: Work, index: int) -> None:
    """Enter unit ``index`` and every following unit that is done at once; complete the
    saga when none is left."""
    units = w.defn.units
    while index < len(units):
        w.cursor = index
        item = w.defn.items[index]
        group_when = w.defn.unit_when[index]
        group_on = group_when is None or w.condition(item.name, group_when)
        for step in units[index]:
            _enter(w, step, group_on)
        if not all(w.step(s.name).status.done for s in units[index]):
            return
        index += 1
    w.cursor = len(units)
    w.end(SagaStatus.COMPLETED, None)
    w.note = "saga completed"


def _enter(w: Work, step: Step, group_on: bool) -> None:
    if not group_on or (step.when is not None and not w.condition(step.name, step.when)):
        w.steps[step.name] = StepState(StepStatus.SKIPPED)
        w.skipped.append(step.name)  # the transition lists it; its note stays on the cause
    elif step.initiating:
        w.steps[step.name] = StepState(StepStatus.SUCCEEDED)
    elif step.awaits is not None:
        early = w.early.pop(step.name, None)
        if early is None:
            w.begin_wait(step)
        else:
            _take_event(w, step, StepState(StepStatus.RUNNING, 1), _rebuild(step, *early))
            w.note = f"step {step.name!r} completed by an event that came before it"
    else:
        w.send(step, Phase.FORWARD, 1)


def _rebuild(step: Step, event_type: str, fields: object) -> Event:
    model = next(t for t in step.success if t.event_type == event_type)
    return model.model_validate(fields)


def on_wait_event(w: Work, step: Step, st: StepState, event: Event) -> None:
    """A waited-for event: complete the wait, or keep it until the wait is reached."""
    if st.status is StepStatus.RUNNING:
        w.cancel_timer(TimerKind.STEP_TIMEOUT, step.name, Phase.FORWARD, 1)
        _take_event(w, step, st, event)
        w.note = f"step {step.name!r} received {event.event_type}"
        _advance(w)
        return
    w.early[step.name] = (event.event_type, event.model_dump(mode="json"))
    w.note = f"{event.event_type} arrived before step {step.name!r}: kept for it"


def _take_event(w: Work, step: Step, st: StepState, event: Event) -> None:
    if step.on_success is not None:
        w.update(step, step.on_success, event, "event updater (on_event)")
    w.steps[step.name] = replace(st, status=StepStatus.SUCCEEDED)


def on_reply(w: Work, step: Step, st: StepState, event: Event) -> None:
    """The reply to the command in flight."""
    w.cancel_timer(TimerKind.STEP_TIMEOUT, step.name, Phase.FORWARD, st.attempt)
    if event.event_type in step.success_types:
        _succeeded(w, step, st, event)
    else:
        why = _failure_reply(w, step, event)
        _attempt_failed(w, step, st, why, event.event_type, unknown=False)


def _failure_reply(w: Work, step: Step, event: Event) -> str:
    """Apply a failure reply's data updater; the words for the saga's reason."""
    if step.on_failure is not None:
        w.update(step, step.on_failure, event, "failure updater (on_failure)")
    reason = getattr(event, "reason", None)
    detail = f": {reason}" if isinstance(reason, str) and reason else ""
    return f"replied {event.event_type}{detail}"


def on_late_reply(w: Work, step: Step, st: StepState, event: Event) -> None:
    """A reply to a command that timed out: waiting for its re-send, or out of attempts."""
    et = event.event_type
    success = et in step.success_types
    why = "" if success else _failure_reply(w, step, event)
    if st.status is StepStatus.RETRY_WAIT:
        if success:
            w.cancel_timer(TimerKind.RETRY, step.name, Phase.FORWARD, st.attempt + 1)
            _succeeded(w, step, st, event)
        elif w.allows_retry(step, Phase.FORWARD, st.attempt, et):
            w.steps[step.name] = replace(st, unknown=False)  # the next attempt gets a new id
            w.note = f"step {step.name!r} attempt {st.attempt} replied {et} late"
        else:
            w.cancel_timer(TimerKind.RETRY, step.name, Phase.FORWARD, st.attempt + 1)
            _attempt_failed(w, step, replace(st, unknown=False), why, et, unknown=False)
        return
    # UNKNOWN: out of attempts with no reply; the saga is compensating or parked on it.
    if w.status is SagaStatus.COMPENSATING:
        w.steps[step.name] = replace(
            st, status=StepStatus.SUCCEEDED if success else StepStatus.FAILED, unknown=False
        )
        w.note = f"step {step.name!r} replied {et} late; its compensation is queued"
        return
    if success:
        _succeeded(w, step, st, event)
        return
    _failed_for_good(w, step, st, f"{why} late")


def on_timeout(w: Work, step: Step, st: StepState) -> None:
    if step.awaits is None:
        _attempt_failed(w, step, st, f"no reply within {step.timeout_s}s", None, unknown=True)
        return
    names = "/".join(sorted(step.success_types))
    if step.awaits.on_timeout is OnTimeout.CONTINUE:
        w.steps[step.name] = replace(st, status=StepStatus.TIMED_OUT)
        w.note = f"step {step.name!r}: no {names} within {step.timeout_s}s; continuing"
        _advance(w)
        return
    _failed_for_good(w, step, st, f"no {names} within {step.timeout_s}s")


def on_retry(w: Work, step: Step, attempt: int) -> None:
    w.send(step, Phase.FORWARD, attempt)
    w.note = f"step {step.name!r} attempt {attempt}"


def _succeeded(w: Work, step: Step, st: StepState, event: Event) -> None:
    if step.on_success is not None:
        w.update(step, step.on_success, event, "success updater (on_success)")
    w.steps[step.name] = replace(st, status=StepStatus.SUCCEEDED, unknown=False)
    w.note = f"step {step.name!r} succeeded"
    if w.status is SagaStatus.COMPENSATING:
        _compensation.start_when_drained(w)  # a sibling that was still in flight
        return
    if w.status is SagaStatus.PARKED:
        if _unknown_steps(w):
            return  # still parked on another step
        w.status, w.reason = SagaStatus.RUNNING, None
        w.note = f"step {step.name!r} succeeded late: saga resumed"
    _advance(w)


def _advance(w: Work) -> None:
    unit = w.defn.units[w.cursor]
    if all(w.step(s.name).status.done for s in unit):
        start_unit(w, w.cursor + 1)


def _unknown_steps(w: Work) -> list[str]:
    return [n for n, s in w.steps.items() if s.status is StepStatus.UNKNOWN]


def _attempt_failed(
    w: Work, step: Step, st: StepState, why: str, failure: str | None, *, unknown: bool
) -> None:
    n = st.attempt
    if w.status is SagaStatus.COMPENSATING:
        # A sibling in flight when compensation began: no more attempts. If it may have
        # happened, it is compensated with the others.
        status = StepStatus.UNKNOWN if unknown else StepStatus.FAILED
        w.steps[step.name] = replace(st, status=status, unknown=unknown)
        w.note = f"step {step.name!r} ended while compensating: {why}"
        _compensation.start_when_drained(w)
        return
    if w.allows_retry(step, Phase.FORWARD, n, failure):
        w.schedule_retry(step, Phase.FORWARD, n, unknown=unknown)
        w.note = f"step {step.name!r} attempt {n} failed: {why}"
        return
    if unknown and step.read_only:
        _failed_for_good(w, step, st, f"{why} (read-only: nothing to undo)")
        return
    if unknown:
        w.steps[step.name] = replace(st, status=StepStatus.UNKNOWN, unknown=True)
        reason = f"step {step.name!r}: no reply after {n} attempt(s), outcome unknown"
        if step.kind is StepKind.COMPENSATABLE:
            _compensation.begin(w, reason)  # compensated like a succeeded step
        else:
            _park(w, f"{reason}; a {step.kind} step is never compensated blindly")
        return
    _failed_for_good(w, step, st, why)


def _failed_for_good(w: Work, step: Step, st: StepState, why: str) -> None:
    """A definitive failure with no attempt left: it did not happen. Before the pivot
    (and the pivot itself) the saga compensates; after it, the saga ends FAILED."""
    w.steps[step.name] = replace(st, status=StepStatus.FAILED, unknown=False)
    attempts = f" after {st.attempt} attempt(s)" if step.sends else ""
    reason = f"step {step.name!r} failed{attempts}: {why}"
    if w.defn.after_pivot(step):
        _fail_forward(w, reason)
    else:
        _compensation.begin(w, reason)


def _park(w: Work, reason: str) -> None:
    """Wait for a late reply or an operator; the reason says what is unknown."""
    w.status, w.reason = SagaStatus.PARKED, reason
    w.cancel_deadline()
    w.note = reason


def _fail_forward(w: Work, reason: str) -> None:
    """After the pivot nothing is undone: stop the other in-flight steps and park as FAILED."""
    for name, st in list(w.steps.items()):
        if st.status is StepStatus.RUNNING:
            w.cancel_timer(TimerKind.STEP_TIMEOUT, name, Phase.FORWARD, st.attempt)
        elif st.status is StepStatus.RETRY_WAIT:
            w.cancel_timer(TimerKind.RETRY, name, Phase.FORWARD, st.attempt + 1)
        else:
            continue
        w.steps[name] = replace(st, status=StepStatus.CANCELLED)
    w.end(SagaStatus.FAILED, reason)
