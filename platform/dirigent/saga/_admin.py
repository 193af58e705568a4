"""Operator actions on one saga: retry, compensate, abort, resume.

Each is an input like a reply or a timer, decided by the pure engine and applied by the
coordinator that owns the saga's partition (fenced, deduplicated, audited). An action
the saga's state does not allow is refused with the reason (``Decision.ignored``),
never half-applied.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from dirigent.saga import _compensation
from dirigent.saga._work import Work
from dirigent.saga.decision import AdminAction, AdminRequested, Decision, Phase, TimerKind
from dirigent.saga.definition import SagaDefinition
from dirigent.saga.state import SagaState, SagaStatus, StepStatus

__all__ = ["apply"]

_FORWARD_AGAIN = (StepStatus.FAILED, StepStatus.CANCELLED, StepStatus.UNKNOWN)


def apply(
    defn: SagaDefinition, state: SagaState, req: AdminRequested, now: float, *, was_version: int
) -> Decision:
    """The decision for ``req`` on ``state``: applied, or refused with the reason.

    ``state`` is already migrated to ``defn``'s version; ``was_version`` is the version
    it was stored on (for ``migrate``).
    """
    if req.action is AdminAction.MIGRATE:
        refusal = _migrate_refusal(defn, state, was_version)
    else:
        refusal = _refusal(defn, state, req)
    if refusal is not None:
        return Decision(None, ignored=f"{req.action} refused: {refusal}")
    w = Work(defn, state, now, f"admin:{req.action}")
    w.step_name = req.step
    if req.action is not AdminAction.MIGRATE:
        _ACTIONS[req.action](w, req, state)
        w.note = f"{req.action} by {req.who}: {req.why}"
    else:  # the engine migrated it on the way in: writing it down is the action
        w.note = f"migrated v{was_version} -> v{defn.version} by {req.who}: {req.why}"
    return w.finish()


def _migrate_refusal(defn: SagaDefinition, state: SagaState, was_version: int) -> str | None:
    if state.status.terminal:
        return f"the saga is {state.status}"
    if was_version == defn.version:
        return f"it runs on version {defn.version}, the newest, already"
    return None


def _refusal(defn: SagaDefinition, state: SagaState, req: AdminRequested) -> str | None:
    status = state.status
    if req.step is not None and req.step not in defn.steps:
        return f"saga {defn.name!r} has no step {req.step!r}"
    if req.action is AdminAction.ABORT:
        return f"the saga is {status} already" if status.terminal else None
    if req.action is AdminAction.RESUME:
        if status is not SagaStatus.PARKED:
            return f"the saga is {status}; only a PARKED saga can be resumed"
        return None
    if req.action is AdminAction.COMPENSATE:
        if status in (SagaStatus.COMPLETED, SagaStatus.COMPENSATED, SagaStatus.COMPENSATING):
            return f"the saga is {status}"
        if _pivot_succeeded(defn, state):
            return "the pivot succeeded: the saga only moves forward (retry or abort it)"
        return None
    # RETRY
    if status in (SagaStatus.COMPLETED, SagaStatus.COMPENSATED, SagaStatus.COMPENSATING):
        return f"the saga is {status}; nothing to retry"
    if state.compensation_queue is not None:
        return "the saga was compensating: it does not go forward again (resume or compensate it)"
    if not _retryable(defn, state, req.step):
        which = (
            f"step {req.step!r} is {state.step(req.step).status}"
            if req.step
            else ("no step of the current unit failed, timed out or waits for a retry")
        )
        return f"{which}; nothing to retry"
    return None


def _pivot_succeeded(defn: SagaDefinition, state: SagaState) -> bool:
    if defn.pivot_unit is None:
        return False
    return any(state.step(s.name).status.done for s in defn.units[defn.pivot_unit])


def _current(defn: SagaDefinition, state: SagaState) -> list[str]:
    if state.cursor >= len(defn.units):
        return []
    return [s.name for s in defn.units[state.cursor]]


def _retryable(defn: SagaDefinition, state: SagaState, step: str | None) -> list[str]:
    """Steps of the current unit that a retry sends again (forward)."""
    wanted = (*_FORWARD_AGAIN, StepStatus.RETRY_WAIT)
    names = [n for n in _current(defn, state) if state.step(n).status in wanted]
    names = [n for n in names if defn.steps[n].sends]
    return [n for n in names if step is None or n == step]


def _abort(w: Work, req: AdminRequested, state: SagaState) -> None:
    """Stop everything; what was in flight keeps an unknown outcome (a later
    ``compensate`` undoes it like any step that may have happened)."""
    for name, st in list(w.steps.items()):
        if st.status is StepStatus.RUNNING:
            w.cancel_timer(TimerKind.STEP_TIMEOUT, name, Phase.FORWARD, st.attempt)
            sent = st.command_id is not None  # a wait has nothing in flight
            status = StepStatus.UNKNOWN if sent else StepStatus.CANCELLED
            w.steps[name] = replace(st, status=status, unknown=sent)
        elif st.status is StepStatus.RETRY_WAIT:
            w.cancel_timer(TimerKind.RETRY, name, Phase.FORWARD, st.attempt + 1)
            status = StepStatus.UNKNOWN if st.unknown else StepStatus.CANCELLED
            w.steps[name] = replace(st, status=status)
        elif st.status is StepStatus.COMPENSATING:
            w.cancel_timer(TimerKind.STEP_TIMEOUT, name, Phase.COMPENSATION,
                           st.compensation_attempt)  # fmt: skip
            w.steps[name] = replace(st, status=StepStatus.COMPENSATION_FAILED, unknown=True)
        elif st.status is StepStatus.COMPENSATION_RETRY_WAIT:
            w.cancel_timer(TimerKind.RETRY, name, Phase.COMPENSATION,
                           st.compensation_attempt + 1)  # fmt: skip
            w.steps[name] = replace(st, status=StepStatus.COMPENSATION_FAILED)
    w.early.clear()
    w.end(SagaStatus.FAILED, f"aborted by {req.who}: {req.why}")


def _compensate(w: Work, req: AdminRequested, state: SagaState) -> None:
    if w.cq is not None:  # compensation had begun: carry on with what is left of it
        _resume_compensations(w)
        return
    for name, st in list(w.steps.items()):
        if st.status is StepStatus.UNKNOWN and not w.defn.steps[name].undoable:
            # A parked pivot: the operator says it did not happen.
            w.steps[name] = replace(st, status=StepStatus.FAILED, unknown=False)
    _compensation.begin(w, f"compensation asked by {req.who}: {req.why}")


_SETTLED = (StepStatus.COMPENSATED, StepStatus.FAILED, StepStatus.CANCELLED, StepStatus.SKIPPED)


def _owed(w: Work) -> list[str]:
    return [n for n, s in w.steps.items() if s.status is StepStatus.COMPENSATION_FAILED]


def _resume_compensations(w: Work) -> None:
    """Send again the compensations owed, then the ones never sent, in queue order."""
    queue = [n for n in (w.cq or ()) if w.step(n).status not in _SETTLED]
    for name in _owed(w):
        st = w.step(name)
        w.steps[name] = replace(st, status=StepStatus.COMPENSATION_RETRY_WAIT)
    w.status = SagaStatus.COMPENSATING
    w.cq, w.ci = tuple(queue), 0
    _compensation.send_next(w)


def _resend(w: Work, names: list[str]) -> None:
    """Send the steps again: the same command id if their outcome is unknown, else new."""
    for name in names:
        step, st = w.defn.steps[name], w.step(name)
        if st.status is StepStatus.RETRY_WAIT:
            w.cancel_timer(TimerKind.RETRY, name, Phase.FORWARD, st.attempt + 1)
        unknown = st.unknown or st.status is StepStatus.UNKNOWN
        w.steps[name] = replace(st, status=StepStatus.RETRY_WAIT, unknown=unknown)
        w.send(step, Phase.FORWARD, st.attempt + 1)
    w.status, w.reason = SagaStatus.RUNNING, None


def _resume(w: Work, req: AdminRequested, state: SagaState) -> None:
    unknown = [n for n, s in w.steps.items() if s.status is StepStatus.UNKNOWN]
    if unknown:
        _resend(w, unknown)
    elif _owed(w):
        _resume_compensations(w)


def _retry(w: Work, req: AdminRequested, state: SagaState) -> None:
    _resend(w, _retryable(w.defn, state, req.step))


_ACTIONS: dict[AdminAction, Callable[[Work, AdminRequested, SagaState], None]] = {
    AdminAction.ABORT: _abort,
    AdminAction.COMPENSATE: _compensate,
    AdminAction.RESUME: _resume,
    AdminAction.RETRY: _retry,
}
