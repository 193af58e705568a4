"""Does the saga still expect the dead letter? The replay rule, row by row."""

from __future__ import annotations

import pytest

from dirigent.ops.replay_rule import expects
from dirigent.saga.state import SagaState, SagaStatus, StepState, StepStatus

S = StepStatus


def _state(status: SagaStatus = SagaStatus.RUNNING, **steps: StepState) -> SagaState:
    return SagaState(saga_id="o1", saga_type="order", status=status, version=4, data={},
                     steps=steps)  # fmt: skip


def _step(
    status: StepStatus, command_id: str | None = "c1", forward_id: str | None = None
) -> StepState:
    return StepState(status, 1, command_id, 0, forward_id or command_id)


COMMAND = {"message_id": "c1", "causation_id": "m0"}  # a command the coordinator sent
REPLY = {"message_id": "r1", "causation_id": "c1"}  # a participant's reply to it
START = {"message_id": "e1", "causation_id": None}  # the event that starts the saga

ROWS = [
    # (record, saga state, replay?, code)
    (COMMAND, None, False, "saga-not-found"),
    (REPLY, None, False, "saga-not-found"),
    (START, None, True, "start"),
    (START, _state(), False, "saga-exists"),
    (START, _state(reserve=_step(S.SUCCEEDED)), False, "saga-exists"),
    # an orphan awaited event, replayed once its saga waits for it
    (START, _state(ticket=_step(S.RUNNING, None)), True, "wait-awaited"),
    (START, _state(ticket=_step(S.TIMED_OUT, None)), False, "saga-exists"),
    *[(COMMAND, _state(reserve=_step(st)), True, "command-awaited")
      for st in (S.RUNNING, S.RETRY_WAIT, S.UNKNOWN)],
    *[(COMMAND, _state(SagaStatus.COMPENSATING, reserve=_step(st)), True, "command-awaited")
      for st in (S.COMPENSATING, S.COMPENSATION_RETRY_WAIT, S.COMPENSATION_FAILED)],
    *[(COMMAND, _state(reserve=_step(st)), False, "step-moved-on")
      for st in (S.SUCCEEDED, S.FAILED, S.CANCELLED, S.COMPENSATED, S.PENDING, S.SKIPPED,
                 S.TIMED_OUT)],
    # compensation under way: the step's command id is the undo's, the forward one is old
    (COMMAND, _state(SagaStatus.COMPENSATING, reserve=_step(S.COMPENSATING, "u1", "c1")),
     False, "step-moved-on"),
    *[(REPLY, _state(reserve=_step(st)), True, "reply-awaited")
      for st in (S.RUNNING, S.RETRY_WAIT, S.UNKNOWN)],
    (REPLY, _state(reserve=_step(S.SUCCEEDED)), False, "step-moved-on"),
    # a late forward reply while the step compensates: matched through forward_id
    (REPLY, _state(SagaStatus.COMPENSATING, reserve=_step(S.COMPENSATING, "u1", "c1")),
     True, "reply-awaited"),
    (REPLY, _state(pay=_step(S.RUNNING, "c9")), False, "not-awaited"),
    # a parked saga is not terminal: its unknown step may be exactly what is replayed
    (COMMAND, _state(SagaStatus.PARKED, ship=_step(S.UNKNOWN)), True, "command-awaited"),
    (REPLY, _state(SagaStatus.PARKED, ship=_step(S.UNKNOWN)), True, "reply-awaited"),
    *[(rec, _state(status, reserve=_step(S.RUNNING)), False, "saga-terminal")
      for rec in (COMMAND, REPLY, START)
      for status in (SagaStatus.COMPLETED, SagaStatus.COMPENSATED, SagaStatus.FAILED)],
]  # fmt: skip


@pytest.mark.parametrize(("record", "state", "replay", "code"), ROWS)
def test_rule(
    record: dict[str, str | None], state: SagaState | None, replay: bool, code: str
) -> None:
    v = expects(saga_id="o1", state=state, **record)
    assert (v.replay, v.code) == (replay, code), v.reason


def test_a_record_of_no_saga_is_replayed_on_its_own_merits() -> None:
    v = expects(saga_id=None, message_id="x", causation_id="y", state=_state(SagaStatus.COMPLETED))
    assert (v.replay, v.code, v.reason) == (True, "not-saga-bound", "not saga-bound")


def test_reasons_name_the_saga_and_the_step() -> None:
    v = expects(saga_id="o1", state=_state(SagaStatus.COMPENSATED), **COMMAND)
    assert v.reason == "saga o1 is COMPENSATED"
    v = expects(saga_id="o1", state=_state(reserve=_step(S.SUCCEEDED)), **COMMAND)
    assert v.reason == "step reserve is SUCCEEDED: no longer awaits this command"
