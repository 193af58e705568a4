"""Every engine path, driven through the harness (same engine, virtual time)."""

from __future__ import annotations

import pytest

from dirigent.saga import StepStatus
from dirigent.testing import SagaHarness
from tests.unit.saga.saga_fixtures import (
    Cmd,
    Failed,
    Fatal,
    Ok,
    Started,
    UndoFailed,
    Undone,
    group_saga,
    linear_saga,
)

S = "s1"


def _ok(h: SagaHarness, step: str) -> None:
    h.reply(Ok(saga=S), step=step)


def _started(attempts: int = 1, deadline_s: float | None = None) -> SagaHarness:
    h = SagaHarness(linear_saga(attempts, deadline_s))
    h.start(Started(saga=S))
    return h


def test_happy_path_completes_in_order() -> None:
    h = _started(deadline_s=100)
    for name in ("a", "b", "p", "r"):
        h.expect_commands(Cmd(saga=S, what=name))
        _ok(h, name)
    assert h.status == "COMPLETED"
    assert h.store.timers() == []  # step timeouts and the deadline were cancelled
    assert h.state.version == 5


def test_failure_reply_compensates_completed_steps_in_reverse() -> None:
    h = _started()
    _ok(h, "a")
    _ok(h, "b")
    h.reply(Failed(saga=S), step="p")
    h.expect_commands(*(Cmd(saga=S, what=w) for w in ("a", "b", "p", "undo-b")))
    h.reply(Undone(saga=S))
    h.expect_commands(Cmd(saga=S, what="undo-a"))
    h.reply(Undone(saga=S))
    assert h.status == "COMPENSATED"
    assert h.reason == "step 'p' failed after 1 attempt(s): replied test.Failed"
    assert h.step_status("b") is StepStatus.COMPENSATED


def test_retry_after_failure_uses_bounded_deterministic_backoff() -> None:
    h = _started(attempts=3)
    h.reply(Failed(saga=S), step="a")
    (retry,) = h.decisions[-1].timers
    assert retry.kind == "retry"
    assert retry.attempt == 2
    assert 0 <= retry.due_at - h.now <= 1  # base 1s * 2**0, full jitter
    assert h.awaiting() == []
    h.advance(seconds=1)
    assert [c.attempt for c in h.awaiting()] == [2]
    _ok(h, "a")
    assert h.step_status("a") is StepStatus.SUCCEEDED
    again = _started(attempts=3)
    again.reply(Failed(saga=S), step="a")
    assert again.decisions[-1].timers == (retry,)


def test_non_retryable_failure_skips_remaining_attempts() -> None:
    h = _started(attempts=3)
    _ok(h, "a")
    h.reply(Fatal(saga=S), step="b")
    assert h.status == "COMPENSATING"
    assert h.reason == "step 'b' failed after 1 attempt(s): replied test.Fatal"


def test_timeout_resends_the_same_command_then_compensates_the_unknown_step() -> None:
    h = _started(attempts=2)
    _ok(h, "a")
    first = h.awaiting()[0]
    h.advance(seconds=10)  # b attempt 1 times out, retry armed
    h.advance(seconds=1)  # retry fires
    (second,) = h.awaiting()
    assert second.attempt == 2
    assert second.command_id == first.command_id  # b may have been applied: same command
    h.advance(seconds=10)  # attempt 2 times out: exhausted, outcome still unknown
    assert h.status == "COMPENSATING"
    assert h.reason == "step 'b': no reply after 2 attempt(s), outcome unknown"
    assert h.step_status("b") is StepStatus.COMPENSATING  # b is undone first, then a
    h.reply(Undone(saga=S))
    h.reply(Undone(saga=S))
    assert h.compensations() == ["b", "a"]
    assert h.status == "COMPENSATED"


def test_failure_reply_gives_the_next_attempt_a_new_command_id() -> None:
    h = _started(attempts=3)
    first = h.awaiting()[0]
    h.reply(Failed(saga=S), step="a")
    h.advance(seconds=1)
    (second,) = h.awaiting()
    assert second.command_id != first.command_id  # a definitive failure: it did not happen


def test_late_reply_to_a_timed_out_attempt_is_its_reply() -> None:
    h = _started(attempts=2)
    first = h.awaiting()[0]
    h.advance(seconds=10)  # timeout: the retry waits for its backoff
    assert h.step_status("a") is StepStatus.RETRY_WAIT
    h.reply_to(first, Ok(saga=S))
    assert h.step_status("a") is StepStatus.SUCCEEDED
    assert not any(t.kind == "retry" for t in h.store.timers())  # the re-send is off
    assert [c.step for c in h.awaiting()] == ["b"]


def test_late_success_after_the_undo_was_answered_is_undone_again() -> None:
    h = _started(attempts=1)
    first = h.awaiting()[0]
    h.advance(seconds=10)  # a: unknown, compensated
    h.reply(Undone(saga=S))  # "nothing to undo" (the command had not been applied yet)
    assert h.status == "COMPENSATED"
    h.reply_to(first, Ok(saga=S))  # ... then it was applied: the effect must not leak
    assert h.status == "COMPENSATING"
    (undo,) = h.awaiting()
    assert (undo.step, undo.phase, undo.attempt) == ("a", "compensation", 2)
    h.reply(Undone(saga=S))
    assert h.status == "COMPENSATED"
    assert h.reason == "step 'a': no reply after 1 attempt(s), outcome unknown"


def test_late_success_while_its_undo_is_in_flight_is_covered_by_it() -> None:
    h = _started(attempts=1)
    first = h.awaiting()[0]
    h.advance(seconds=10)
    d = h.reply_to(first, Ok(saga=S))
    assert d.state is None  # the compensation, sent after the command, undoes it
    h.reply(Undone(saga=S))
    assert h.status == "COMPENSATED"


def test_silent_pivot_parks_and_a_late_failure_compensates() -> None:
    h = _started()
    _ok(h, "a")
    _ok(h, "b")
    pivot = h.awaiting()[0]
    h.advance(seconds=10)
    assert h.status == "PARKED"
    assert h.reason is not None
    assert "'p': no reply after 1 attempt(s)" in h.reason
    assert h.compensations() == []
    assert h.store.timers() == []
    h.reply_to(pivot, Failed(saga=S))  # the pivot answers at last: it did not happen
    assert h.status == "COMPENSATING"
    assert h.compensations() == ["b"]


def test_silent_retriable_step_parks_instead_of_failing() -> None:
    h = _started()
    for name in ("a", "b", "p"):
        _ok(h, name)
    last = h.awaiting()[0]
    h.advance(seconds=100)
    assert h.status == "PARKED"
    assert h.compensations() == []
    h.reply_to(last, Ok(saga=S))
    assert h.status == "COMPLETED"


def test_commands_carry_their_timeout_for_re_arming_at_send() -> None:
    h = _started()
    (cmd,) = h.awaiting()
    (timeout,) = [t for t in h.store.timers() if t.kind == "step_timeout"]
    assert (cmd.timeout_timer_id, cmd.timeout_s) == (timeout.timer_id, 10)


def test_duplicate_reply_and_duplicate_message_are_ignored() -> None:
    h = _started()
    cmd = h.awaiting()[0]
    h.deliver(Ok(saga=S), causation_id=cmd.command_id, message_id="m")
    assert h.deliver(Ok(saga=S), causation_id=cmd.command_id, message_id="m").state is None
    assert h.deliver(Ok(saga=S), causation_id=cmd.command_id).state is None
    assert h.state.version == 2


def test_unexpected_reply_type_is_ignored() -> None:
    h = _started()
    d = h.deliver(Undone(saga=S), causation_id=h.awaiting()[0].command_id)
    assert d.ignored == "step 'a' does not expect test.Undone (forward reply)"


def test_start_is_idempotent_and_strangers_are_ignored() -> None:
    h = _started()
    assert h.deliver(Started(saga=S)).ignored == "duplicate start event"
    fresh = SagaHarness(linear_saga())
    assert fresh.deliver(Ok(saga=S)).state is None


def test_retriable_step_after_pivot_retries_then_fails_without_compensation() -> None:
    h = _started()
    for name in ("a", "b", "p"):
        _ok(h, name)
    h.reply(Failed(saga=S), step="r")
    h.advance(seconds=2)
    h.reply(Failed(saga=S), step="r")
    assert h.status == "FAILED"
    assert h.reason == "step 'r' failed after 2 attempt(s): replied test.Failed"
    assert h.compensations() == []


def test_failing_compensation_is_retried_then_parks_with_what_is_owed() -> None:
    h = _started()
    _ok(h, "a")
    h.reply(Failed(saga=S), step="b")
    h.reply(UndoFailed(saga=S))
    h.advance(seconds=1)  # compensation retry (base 1s)
    h.reply(UndoFailed(saga=S))
    assert h.status == "PARKED"
    assert h.reason is not None
    assert h.reason.startswith("compensation owed for step(s) a")
    assert "compensating because: step 'b' failed" in h.reason
    assert h.step_status("a") is StepStatus.COMPENSATION_FAILED


def test_a_compensation_that_fails_for_good_does_not_stop_the_older_ones() -> None:
    h = _started()
    _ok(h, "a")
    _ok(h, "b")
    h.reply(Failed(saga=S), step="p")
    h.reply(UndoFailed(saga=S))  # undo-b, attempt 1
    h.advance(seconds=1)
    h.reply(UndoFailed(saga=S))  # undo-b, attempt 2: owed
    assert [(c.step, c.phase) for c in h.awaiting()] == [("a", "compensation")]
    h.reply(Undone(saga=S))
    assert h.status == "PARKED"
    assert h.reason is not None
    assert h.reason.startswith("compensation owed for step(s) b")


def test_an_owed_compensation_answering_late_completes_the_saga() -> None:
    h = _started()
    _ok(h, "a")
    h.reply(Failed(saga=S), step="b")
    undo = h.awaiting()[0]
    h.advance(seconds=10)  # undo-a times out ...
    h.advance(seconds=1)
    h.advance(seconds=10)  # ... twice: owed, parked
    assert h.status == "PARKED"
    h.reply_to(undo, Undone(saga=S))  # same command id both times: this is its reply
    assert h.status == "COMPENSATED"
    assert h.reason == "step 'b' failed after 1 attempt(s): replied test.Failed"


def test_compensation_timeout_is_retried() -> None:
    h = _started()
    _ok(h, "a")
    h.reply(Failed(saga=S), step="b")
    h.advance(seconds=10)
    h.advance(seconds=1)
    assert [(c.step, c.phase, c.attempt) for c in h.awaiting()] == [("a", "compensation", 2)]
    h.reply(Undone(saga=S))
    assert h.status == "COMPENSATED"


def test_deadline_before_pivot_compensates() -> None:
    h = _started(deadline_s=5)
    _ok(h, "a")
    h.advance(seconds=5)
    assert h.status == "COMPENSATING"
    assert h.reason == "saga deadline of 5s exceeded"
    # b was in flight: it drains first; its success means it gets undone too
    _ok(h, "b")
    assert h.compensations() == ["b"]


def test_deadline_after_pivot_was_sent_is_ignored() -> None:
    h = _started(deadline_s=5)
    _ok(h, "a")
    _ok(h, "b")
    (d,) = h.advance(seconds=5)
    assert d.ignored == "deadline after the pivot was sent: the saga continues forward"
    assert h.status == "RUNNING"


def test_data_updater_feeds_later_commands() -> None:
    from dirigent.saga import Step, define_saga
    from tests.unit.saga.saga_fixtures import comp

    s = Step(
        name="a",
        command=lambda d: Cmd(saga=d["saga"], what="a"),
        topic="t",
        success=(Ok,),
        on_success=lambda d, r: {**d, "note": r.note},  # type: ignore[attr-defined]
        compensation=comp("a"),
    )
    s2 = Step(
        name="b",
        command=lambda d: Cmd(saga=d["saga"], what=d["note"]),
        topic="t",
        success=(Ok,),
        compensation=comp("b"),
    )
    h = SagaHarness(define_saga("d", start=Started, saga_id="saga", steps=[s, s2]))
    h.start(Started(saga=S))
    h.reply(Ok(saga=S, note="hello"))
    assert h.data["note"] == "hello"
    assert h.awaiting()[0].event == Cmd(saga=S, what="hello")


def test_parallel_group_failure_drains_in_flight_siblings() -> None:
    h = SagaHarness(group_saga())
    h.start(Started(saga=S))
    _ok(h, "a")
    h.expect_commands(*(Cmd(saga=S, what=n) for n in "axyz"))
    h.reply(Failed(saga=S), step="x")
    assert h.status == "COMPENSATING"
    assert h.compensations() == []  # y and z still in flight
    _ok(h, "z")
    h.advance(seconds=10)  # y times out: it may have happened, so it is undone too
    assert h.step_status("x") is StepStatus.FAILED
    assert h.compensations() == ["z"]
    h.reply(Undone(saga=S))
    h.reply(Undone(saga=S))
    h.reply(Undone(saga=S))
    assert h.compensations() == ["z", "y", "a"]
    assert h.status == "COMPENSATED"


def test_parallel_sibling_waiting_for_retry_is_cancelled() -> None:
    h = SagaHarness(group_saga(attempts=3))
    h.start(Started(saga=S))
    _ok(h, "a")
    h.reply(Failed(saga=S), step="y")  # y waits for a retry
    h.reply(Fatal(saga=S), step="x")  # x fails for good
    assert h.step_status("y") is StepStatus.CANCELLED
    _ok(h, "z")
    assert h.compensations() == ["z"]
    assert not any(t.kind == "retry" and t.step == "y" for t in h.store.timers())


def test_parallel_group_joins_when_all_succeed() -> None:
    h = SagaHarness(group_saga())
    h.start(Started(saga=S))
    _ok(h, "a")
    for name in "zyx":
        assert [c.step for c in h.awaiting()].count("p") == 0
        _ok(h, name)
    assert [c.step for c in h.awaiting()] == ["p"]


@pytest.mark.parametrize("when", [0.0, 10.0])
def test_stale_timers_are_ignored(when: float) -> None:
    h = _started(attempts=2)
    first_timeout = h.store.timers()[0]
    _ok(h, "a")
    from dirigent.saga import TimerFired, decide

    d = decide(h.definition, h.state, TimerFired(first_timeout), when)
    assert d.state is None
    assert "stale step_timeout timer" in (d.ignored or "")
