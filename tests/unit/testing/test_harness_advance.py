"""``SagaHarness.advance``: one test per sentence of its docstring, then ``fire_next_timer``."""

from __future__ import annotations

import dataclasses
import math

import pytest

from dirigent.saga import Decision, SagaDefinition, Step, TimerKind, define_saga, parallel
from dirigent.testing import SagaHarness
from tests.unit.saga.saga_fixtures import Started, linear_saga, step


def _timed(name: str, timeout_s: float) -> Step:
    return dataclasses.replace(step(name), timeout_s=timeout_s)


def _fan_out(*steps: Step) -> SagaDefinition:
    return define_saga("fan", start=Started, saga_id="saga", steps=[parallel("g", *steps)])


def _started(definition: SagaDefinition, start_time: float = 1000.0) -> SagaHarness:
    h = SagaHarness(definition, start_time=start_time)
    h.start(Started(saga="s"))
    return h


def _steps(fired: list[Decision]) -> list[str | None]:
    return [d.transition.step for d in fired if d.transition is not None]


# 1. A negative or non-finite ``seconds`` raises ``ValueError``; nothing changes.
@pytest.mark.parametrize("seconds", [-0.5, math.nan, math.inf])
def test_1_negative_or_non_finite_seconds_raise_and_change_nothing(seconds: float) -> None:
    h = _started(linear_saga())
    timers, decisions = h.timers(), len(h.decisions)
    with pytest.raises(ValueError, match="finite number >= 0"):
        h.advance(seconds)
    assert (h.now, h.timers(), len(h.decisions)) == (1000.0, timers, decisions)


# 2. Every timer due at or before the target time (now + ``seconds``) fires.
def test_2_a_timer_due_at_the_target_fires_and_one_due_after_it_does_not() -> None:
    early = _started(linear_saga())  # step a: 10 s timeout, due at 1010
    assert early.advance(9.5) == []
    on_time = _started(linear_saga())
    fired = on_time.advance(10)
    assert [d.transition.cause for d in fired if d.transition] == ["timer:step_timeout"]


# 3. Timers fire in due-time order; timers due at the same time, in the order set.
def test_3_timers_fire_by_due_time_then_in_the_order_they_were_set() -> None:
    # Set in declaration order: zulu, alpha, mike. Due: mike first, then zulu and alpha
    # together; alpha's id sorts first, so an order by id would fire it before zulu.
    h = _started(_fan_out(_timed("zulu", 20), _timed("alpha", 20), _timed("mike", 5)))
    assert _steps(h.advance(20)) == ["mike", "zulu", "alpha"]


# 4. Each timer fires with the clock at its due time.
def test_4_each_timer_fires_with_the_clock_at_its_due_time() -> None:
    h = _started(_fan_out(_timed("x", 5), _timed("y", 20)))
    due = [t.due_at for t in h.timers() if t.kind is TimerKind.STEP_TIMEOUT]
    fired = h.advance(20)
    assert [d.transition.at for d in fired if d.transition] == due == [1005.0, 1020.0]


# 5. A timer set by a fired one fires too if due at or before the target.
def test_5_timers_set_by_fired_timers_fire_within_the_same_advance() -> None:
    h = _started(linear_saga(attempts=3))  # a: 10 s timeout, then a backoff of up to 1 s
    h.advance(10)
    (retry,) = h.timers()
    assert retry.kind is TimerKind.RETRY
    assert retry.due_at > h.now
    h.advance(60)  # retry -> attempt 2 -> timeout -> retry -> attempt 3 -> timeout
    assert [c.attempt for c in h.sent if c.step == "a" and c.phase == "forward"] == [1, 2, 3]


# 6. Afterwards the clock is at the target time: it moved by exactly ``seconds``.
def test_6_the_clock_ends_at_the_target_whether_or_not_timers_fired() -> None:
    h = _started(linear_saga())
    h.advance(2.5)
    assert h.now == 1002.5
    assert h.advance(30) != []  # the timeout fired at 1010 on the way
    assert h.now == 1032.5


def test_fire_next_timer_fires_one_timer_at_its_due_time() -> None:
    h = _started(_fan_out(_timed("zulu", 20), _timed("alpha", 20)))
    first = h.fire_next_timer()
    assert first is not None
    assert first.transition is not None
    assert (first.transition.step, h.now) == ("zulu", 1020.0)
    assert [t.step for t in h.timers() if t.kind is TimerKind.STEP_TIMEOUT] == ["alpha"]


def test_fire_next_timer_without_timers_returns_none_and_keeps_the_clock() -> None:
    h = SagaHarness(linear_saga(), start_time=5.0)
    assert h.fire_next_timer() is None
    assert h.now == 5.0
