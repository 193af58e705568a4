"""The harness itself: reply routing and the report (time: test_harness_advance,
expectations: test_harness_expectations)."""

from __future__ import annotations

import pytest

from dirigent.errors import VersionConflict
from dirigent.saga import Decision, Timer, TimerKind
from dirigent.testing import SagaHarness, check_compensations
from dirigent.testing.store import InMemorySagaStore, VirtualClock
from tests.unit.saga.saga_fixtures import (
    Ok,
    Started,
    UndoFailed,
    Undone,
    group_saga,
    linear_saga,
)


def _started() -> SagaHarness:
    h = SagaHarness(group_saga())
    h.start(Started(saga="s"))
    return h


def test_reply_needs_a_step_when_ambiguous() -> None:
    h = _started()
    h.reply(Ok(saga="s"))
    with pytest.raises(AssertionError, match="fits several commands"):
        h.reply(Ok(saga="s"))
    with pytest.raises(AssertionError, match=r"no awaited command accepts test\.Undone"):
        h.reply(Undone(saga="s"))
    h.reply(Ok(saga="s"), step="y")


def test_start_twice_is_refused() -> None:
    h = _started()
    with pytest.raises(AssertionError, match="already started"):
        h.start(Started(saga="s"))


def test_check_compensations_reports_a_wrong_expectation() -> None:
    d = linear_saga()
    ok = {n: Ok(saga="s") for n in d.steps}
    undo_fails = {n: UndoFailed(saga="s") for n in d.steps}
    report = check_compensations(
        d, Started(saga="s"), success_replies=ok, compensation_replies=undo_fails
    )
    # Undoing fails, so the saga parks with compensations owed instead of COMPENSATED; a
    # failed undo does not stop the older ones (b's failure still undoes a).
    assert not report.ok
    assert "FAIL b fails -> PARKED, compensated ['b', 'a']; expected COMPENSATED" in str(report)
    assert "ok   p fails -> PARKED, compensated []" in str(report)  # a silent pivot parks
    with pytest.raises(ValueError, match="no compensation reply given for step 'a'"):
        check_compensations(d, Started(saga="s"), success_replies=ok, compensation_replies={})


def test_store_rejects_stale_versions_and_clock_refuses_going_back() -> None:
    h = _started()
    store = InMemorySagaStore()
    store.apply(h.decisions[0])
    with pytest.raises(VersionConflict):
        store.apply(h.decisions[0])
    with pytest.raises(ValueError, match="backwards"):
        VirtualClock().advance(-1)
    t = Timer("t", "s", "x", TimerKind.RETRY, 5.0, "a")
    assert Timer.from_json(t.to_json()) == t
    assert Decision(None).applied is False
