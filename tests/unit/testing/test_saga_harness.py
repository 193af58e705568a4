"""The harness itself: reply routing, starting, the in-memory store and clock.

Virtual time: test_harness_advance; expectations: test_harness_expectations; coordinator
parity: test_harness_parity; the compensation check: test_compensation_table.
"""

from __future__ import annotations

from typing import ClassVar

import pytest

from dirigent.errors import VersionConflict
from dirigent.events import Event
from dirigent.saga import Decision, StepKind, StepStatus, Timer, TimerKind, define_saga, wait_for
from dirigent.testing import SagaHarness
from dirigent.testing.store import InMemorySagaStore, VirtualClock
from tests.unit.saga.saga_fixtures import Ok, Started, Undone, group_saga, step


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


class Paid(Event):
    event_type: ClassVar[str] = "test.Paid"
    saga: str


def test_reply_delivers_a_waited_for_event_by_its_type() -> None:
    paid = wait_for("paid", event=Paid, topic="pay.events", correlate="saga", timeout_s=60)
    h = SagaHarness(
        define_saga("w", start=Started, saga_id="saga", steps=[paid, step("p", StepKind.PIVOT)])
    )
    h.start(Started(saga="s"))
    assert h.waiting() == ["paid"]
    assert h.awaiting() == []  # a wait sends nothing
    h.reply(Paid(saga="s"))
    assert h.step_status("paid") is StepStatus.SUCCEEDED
    assert h.waiting() == []
    assert [c.step for c in h.awaiting()] == ["p"]


def test_an_awaited_event_for_another_saga_is_routed_away_as_by_the_coordinator() -> None:
    paid = wait_for("paid", event=Paid, topic="pay.events", correlate="saga", timeout_s=60)
    h = SagaHarness(
        define_saga("w", start=Started, saga_id="saga", steps=[paid, step("p", StepKind.PIVOT)])
    )
    h.start(Started(saga="s"))
    decision = h.reply(Paid(saga="other"))
    assert decision.ignored == (
        "test.Paid correlates to saga 'other', not 's': the coordinator routes it there"
    )
    assert h.waiting() == ["paid"]


def test_start_twice_is_refused() -> None:
    h = _started()
    with pytest.raises(AssertionError, match="already started"):
        h.start(Started(saga="s"))


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
