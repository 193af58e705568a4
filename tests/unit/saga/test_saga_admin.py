"""Operator actions: what each does, and what the saga's state refuses."""

from __future__ import annotations

from dirigent.saga import AdminAction, SagaStatus, StepStatus
from dirigent.testing import SagaHarness
from tests.unit.saga.saga_fixtures import Failed, Fatal, Ok, Started, Undone, linear_saga


def _at_pivot() -> SagaHarness:
    h = SagaHarness(linear_saga())
    h.start(Started(saga="s"))
    h.reply(Ok(saga="s"))  # a
    h.reply(Ok(saga="s"))  # b
    return h  # p (the pivot) is in flight


def _parked_on_the_pivot() -> SagaHarness:
    h = _at_pivot()
    h.advance(11)  # p times out, one attempt: its outcome is unknown
    assert h.status is SagaStatus.PARKED
    return h


def test_resume_resends_the_unknown_step_with_the_same_command_id() -> None:
    h = _parked_on_the_pivot()
    first = h.state.step("p").command_id
    d = h.operate("resume", why="payments is back", who="ops-1")
    assert [c.command_id for c in d.commands] == [first]  # a repeat, never a second effect
    assert h.status is SagaStatus.RUNNING
    assert d.transition is not None
    assert d.transition.reason == "resume by ops-1: payments is back"
    h.reply(Ok(saga="s"))  # p
    h.reply(Ok(saga="s"))  # r
    assert h.status is SagaStatus.COMPLETED


def test_resume_resends_the_compensations_still_owed() -> None:
    h = SagaHarness(linear_saga())
    h.start(Started(saga="s"))
    h.reply(Ok(saga="s"))  # a
    h.reply(Failed(saga="s"))  # b fails: undo a
    h.advance(10.5)
    h.advance(10)  # undo-a times out twice (two attempts): owed
    h.advance(10)
    assert h.status is SagaStatus.PARKED
    assert h.step_status("a") is StepStatus.COMPENSATION_FAILED
    owed_id = h.state.step("a").command_id
    d = h.operate(AdminAction.RESUME)
    assert [(c.step, c.phase, c.command_id) for c in d.commands] == [
        ("a", "compensation", owed_id)  # it timed out: the same id
    ]
    h.reply(Undone(saga="s"))
    assert h.status is SagaStatus.COMPENSATED


def test_compensate_a_parked_pivot_undoes_the_earlier_steps() -> None:
    h = _parked_on_the_pivot()
    d = h.operate("compensate", why="the card service says it never charged")
    assert h.step_status("p") is StepStatus.FAILED  # the operator's word: it did not happen
    assert [(c.step, c.phase) for c in d.commands] == [("b", "compensation")]
    h.reply(Undone(saga="s"))
    h.reply(Undone(saga="s"))
    assert h.status is SagaStatus.COMPENSATED
    assert "compensation asked by test" in (h.reason or "")


def test_compensate_is_refused_once_the_pivot_succeeded() -> None:
    h = _at_pivot()
    h.reply(Ok(saga="s"))  # p succeeded; r in flight
    d = h.operate("compensate")
    assert d.state is None
    assert d.ignored == (
        "compensate refused: the pivot succeeded: the saga only moves forward (retry or abort it)"
    )
    assert h.status is SagaStatus.RUNNING


def test_retry_a_failed_saga_sends_the_failed_step_again_with_a_new_id() -> None:
    h = _at_pivot()
    h.reply(Ok(saga="s"))  # p
    h.reply(Fatal(saga="s"), step="r")  # non-retryable: FAILED, nothing undone
    assert h.status is SagaStatus.FAILED
    failed_id = h.state.step("r").command_id
    d = h.operate("retry", step="r")
    [resent] = d.commands
    assert resent.step == "r"
    assert resent.command_id != failed_id  # a failure reply: it did not happen
    h.reply(Ok(saga="s"), step="r")
    assert h.status is SagaStatus.COMPLETED


def test_abort_ends_the_saga_failed_and_stops_its_timers() -> None:
    h = _at_pivot()
    d = h.operate("abort", why="customer cancelled by phone", who="ops-2")
    assert d.commands == ()
    assert h.status is SagaStatus.FAILED
    assert h.reason == "aborted by ops-2: customer cancelled by phone"
    assert h.step_status("p") is StepStatus.UNKNOWN  # its command was out: it may have happened
    assert h.advance(100) == []  # no timer is left to fire
    assert h.deliver(Ok(saga="s"), causation_id=d.state.step("p").command_id).ignored  # type: ignore[union-attr]


def test_actions_the_state_does_not_allow_are_refused_with_the_reason() -> None:
    h = _at_pivot()
    assert h.operate("resume").ignored == (
        "resume refused: the saga is RUNNING; only a PARKED saga can be resumed"
    )
    assert h.operate("retry").ignored == (
        "retry refused: no step of the current unit failed, timed out or waits for a retry; "
        "nothing to retry"
    )
    assert h.operate("retry", step="nope").ignored == (
        "retry refused: saga 'linear' has no step 'nope'"
    )
    h.operate("abort")
    assert h.operate("abort").ignored == "abort refused: the saga is FAILED already"
    assert h.status is SagaStatus.FAILED


def test_an_aborted_saga_before_its_pivot_can_still_be_compensated() -> None:
    h = _at_pivot()
    h.operate("abort", why="stuck")
    d = h.operate("compensate", why="undo what it did")
    assert [(c.step, c.phase) for c in d.commands] == [("b", "compensation")]
    h.reply(Undone(saga="s"))
    h.reply(Undone(saga="s"))
    assert h.status is SagaStatus.COMPENSATED
    assert h.operate("compensate").ignored == "compensate refused: the saga is COMPENSATED"


def test_compensate_after_an_abort_mid_compensation_carries_on_where_it_stopped() -> None:
    h = _at_pivot()
    h.reply(Failed(saga="s"))  # p fails for good: undo b, then a
    h.operate("abort", why="stop everything")  # while undo-b is in flight
    assert h.step_status("b") is StepStatus.COMPENSATION_FAILED
    d = h.operate("compensate", why="finish the undo")
    undo_b = next(c for c in h.sent if c.step == "b" and c.phase == "compensation")
    assert [(c.step, c.command_id) for c in d.commands] == [("b", undo_b.command_id)]
    h.reply(Undone(saga="s"))  # b
    h.reply(Undone(saga="s"))  # a
    assert h.status is SagaStatus.COMPENSATED


def test_a_saga_parked_with_compensations_owed_is_not_retried_forward() -> None:
    h = SagaHarness(linear_saga())
    h.start(Started(saga="s"))
    h.reply(Ok(saga="s"))  # a
    h.reply(Failed(saga="s"))  # b fails: undo a
    h.advance(10.5)
    h.advance(10)
    h.advance(10)  # undo-a never answers: owed, parked
    assert h.status is SagaStatus.PARKED
    assert h.operate("retry", step="b").ignored == (
        "retry refused: the saga was compensating: it does not go forward again "
        "(resume or compensate it)"
    )
