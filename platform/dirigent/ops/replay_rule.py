"""Does a dead letter's saga still expect it? The one rule replay decides by (pure).

A record is matched to its saga by ids, never by type:

- a **command** (its message id is a step's command id): expected while that step
  waits for it, forward (RUNNING, RETRY_WAIT, UNKNOWN) or compensating (COMPENSATING,
  COMPENSATION_RETRY_WAIT, COMPENSATION_FAILED);
- a **reply** (its causation id is a step's command id or forward id): expected while
  that step is in one of those statuses;
- a **start event** (no causation id): expected only while no saga has its id; once
  the saga exists, an event without causation id is expected only by a step that waits
  for an event (``wait_for``: RUNNING with no command), as an orphan awaited event
  dead-lettered before its saga started is.

A terminal saga (COMPLETED, COMPENSATED, FAILED) expects nothing. A PARKED saga is not
terminal: the step it waits on may be exactly what is replayed. A record without a saga
id is replayed on its own merits.
"""

from __future__ import annotations

from dataclasses import dataclass

from dirigent.saga.state import SagaState, StepState, StepStatus

__all__ = ["WAITING", "Verdict", "expects"]

FORWARD_WAITING = frozenset({StepStatus.RUNNING, StepStatus.RETRY_WAIT, StepStatus.UNKNOWN})
COMPENSATION_WAITING = frozenset(
    {
        StepStatus.COMPENSATING,
        StepStatus.COMPENSATION_RETRY_WAIT,
        StepStatus.COMPENSATION_FAILED,
    }
)
WAITING = FORWARD_WAITING | COMPENSATION_WAITING


@dataclass(frozen=True, slots=True)
class Verdict:
    """Replay or skip, and why (``code`` is stable for counting, ``reason`` for people)."""

    replay: bool
    code: str
    reason: str


def expects(
    *,
    saga_id: str | None,
    message_id: str | None,
    causation_id: str | None,
    state: SagaState | None,
) -> Verdict:
    """Whether the saga (``state``, ``None`` if none is stored) expects this record."""
    if saga_id is None:
        return Verdict(True, "not-saga-bound", "not saga-bound")
    if state is None:
        if causation_id is None:
            return Verdict(True, "start", f"start event: no saga {saga_id} yet")
        return Verdict(False, "saga-not-found",
                       f"saga {saga_id} not found (ended and expired, or another group or "
                       f"partition count)")  # fmt: skip
    if state.is_terminal:
        return Verdict(False, "saga-terminal", f"saga {saga_id} is {state.status.value}")
    if message_id is not None and (hit := _step(state, message_id, forward=False)):
        return _waiting(hit, "command")
    if message_id is not None and (hit := _step(state, message_id, forward=True)):
        name, st = hit
        return Verdict(False, "step-moved-on",
                       f"step {name} is {st.status.value}: its forward command is no longer "
                       f"awaited")  # fmt: skip
    if causation_id is None:
        waiting = [n for n, st in state.steps.items()
                   if st.status is StepStatus.RUNNING and st.command_id is None]  # fmt: skip
        if waiting:
            return Verdict(True, "wait-awaited", f"step {waiting[0]} waits for an event")
        return Verdict(False, "saga-exists", f"start event: saga {saga_id} exists already")
    hit = _step(state, causation_id, forward=False) or _step(state, causation_id, forward=True)
    if hit is None:
        return Verdict(False, "not-awaited",
                       f"no step of saga {saga_id} awaits causation id {causation_id}")  # fmt: skip
    return _waiting(hit, "reply")


def _step(state: SagaState, cid: str, *, forward: bool) -> tuple[str, StepState] | None:
    for name, st in state.steps.items():
        if (st.forward_id if forward else st.command_id) == cid:
            return name, st
    return None


def _waiting(hit: tuple[str, StepState], kind: str) -> Verdict:
    name, st = hit
    if st.status in WAITING:
        return Verdict(True, f"{kind}-awaited", f"step {name} awaits this {kind} "
                       f"({st.status.value})")  # fmt: skip
    return Verdict(False, "step-moved-on",
                   f"step {name} is {st.status.value}: no longer awaits this {kind}")  # fmt: skip
