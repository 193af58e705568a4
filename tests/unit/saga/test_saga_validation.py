"""Each definition error is caught when the saga is defined, naming saga and step."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from dirigent.errors import SagaDefinitionError
from dirigent.events import Event
from dirigent.saga import (
    Compensation,
    RetryPolicy,
    SagaStatus,
    Step,
    StepKind,
    define_saga,
    parallel,
)
from tests.unit.saga.saga_fixtures import Cmd, Failed, Ok, Started, Undone, comp, step

P, R, C = StepKind.PIVOT, StepKind.RETRIABLE, StepKind.COMPENSATABLE


def _define(*steps: Any, **kw: Any) -> Any:
    return define_saga("s", start=kw.pop("start", Started), saga_id="saga", steps=steps, **kw)


def _raises(match: str, *steps: Any, **kw: Any) -> None:
    with pytest.raises(SagaDefinitionError, match=match):
        _define(*steps, **kw)


def test_valid_definition_is_frozen_and_indexed() -> None:
    d = _define(step("a"), parallel("g", step("x"), step("y")), step("p", P), step("r", R))
    assert [tuple(s.name for s in u) for u in d.units] == [("a",), ("x", "y"), ("p",), ("r",)]
    assert d.pivot_unit == 2
    assert d.start_type == "test.Started"
    assert "test.Undone" in d.reply_types
    assert d.steps["a"].participant == "a"
    with pytest.raises(AttributeError):
        d.name = "other"  # type: ignore[misc]


def test_duplicate_step_name() -> None:
    _raises(r"saga 's', step 'a': duplicate step name", step("a"), step("a"))


def test_group_name_clashes_with_step() -> None:
    _raises(r"step 'a': duplicate", step("a"), parallel("a", step("x"), step("y")))


def test_compensatable_step_without_compensation() -> None:
    bare = Step(name="a", command=lambda d: Cmd(saga="", what=""), topic="t", success=(Ok,))
    _raises(r"step 'a': a compensatable step needs a compensation", bare)


def test_pivot_with_compensation() -> None:
    s = Step(
        name="p",
        command=lambda d: Cmd(saga="", what=""),
        topic="t",
        success=(Ok,),
        kind=P,
        compensation=comp("p"),
    )
    _raises(r"step 'p': a pivot step cannot have a compensation", s)


def test_compensatable_after_pivot() -> None:
    _raises(r"step 'b': compensatable step after the pivot 'p'", step("p", P), step("b"))


def test_two_pivots() -> None:
    _raises(r"step 'q': more than one pivot", step("p", P), step("q", P))


def test_retriable_before_pivot() -> None:
    _raises(r"step 'r': retriable step before the pivot", step("a"), step("r", R), step("p", P))


def test_retriable_without_pivot() -> None:
    _raises(r"step 'r': retriable step before the pivot", step("r", R))


def test_pivot_in_group_and_mixed_group() -> None:
    _raises(r"step 'g': a pivot cannot be", parallel("g", step("x"), step("p", P)))
    _raises(
        r"step 'g': a parallel group mixes", step("p", P), parallel("g", step("x"), step("r", R))
    )
    _raises(r"step 'g': a parallel group needs at least two steps", parallel("g", step("x")))


def test_missing_start_event() -> None:
    class Nameless(Event):
        saga: str

    _raises(r"saga 's': missing start event", step("a"), start=None)
    _raises(r"saga 's': missing start event", step("a"), start=Nameless)


def test_saga_id_field_must_exist() -> None:
    with pytest.raises(SagaDefinitionError, match="has no saga id field 'nope'"):
        define_saga("s", start=Started, saga_id="nope", steps=[step("a")])


def test_no_steps_and_bad_numbers() -> None:
    _raises("at least one step")
    _raises("deadline_s must be positive", step("a"), deadline_s=0)
    s = Step(
        name="a",
        command=lambda d: Cmd(saga="", what=""),
        topic="t",
        success=(Ok,),
        compensation=comp("a"),
        timeout_s=0,
    )
    _raises(r"step 'a': timeout_s must be positive", s)
    s2 = Step(
        name="a",
        command=lambda d: Cmd(saga="", what=""),
        topic="t",
        success=(Ok,),
        compensation=comp("a"),
        retry=RetryPolicy(max_attempts=0),
    )
    _raises(r"step 'a': retry max_attempts", s2)
    s3 = Step(name="a", command=lambda d: Cmd(saga="", what=""), topic="t", success=())
    _raises(r"step 'a': a step needs at least one success", s3)


def test_reply_type_success_here_failure_there() -> None:
    flipped = Step(
        name="b",
        command=lambda d: Cmd(saga="", what=""),
        topic="t",
        success=(Failed,),
        compensation=comp("b"),
    )
    _raises(
        r"step 'b': reply type test.Failed is success here but failure in step 'a'",
        step("a"),
        flipped,
    )


def test_reply_type_both_success_and_failure_in_one_step() -> None:
    s = Step(
        name="a",
        command=lambda d: Cmd(saga="", what=""),
        topic="t",
        success=(Ok,),
        failure=(Ok,),
        compensation=comp("a"),
    )
    _raises(r"step 'a': reply type test.Ok is failure here but success in step 'a'", s)


def test_start_event_cannot_be_a_reply() -> None:
    s = Step(
        name="a",
        command=lambda d: Cmd(saga="", what=""),
        topic="t",
        success=(Started,),
        compensation=comp("a"),
    )
    _raises(r"step 'a': test.Started starts the saga", s)


def test_shared_reply_type_in_same_role_is_allowed() -> None:
    # Replies are matched by causation id, so a generic type may serve many steps.
    d = _define(step("a"), step("b"))
    assert d.steps["a"].success_types == d.steps["b"].success_types


def test_compensation_needs_compensated_types() -> None:
    s = Step(
        name="a",
        command=lambda d: Cmd(saga="", what=""),
        topic="t",
        success=(Ok,),
        compensation=Compensation(
            command=lambda d: Cmd(saga="", what=""), topic="t", compensated=()
        ),
    )
    _raises(r"step 'a': a compensation needs at least one compensated", s)


class Custom(Event):
    event_type: ClassVar[str] = "test.Custom"
    key: str


def test_saga_id_function_and_initial_data() -> None:
    s = Step(
        name="a",
        command=lambda d: Cmd(saga=d["k"], what=""),
        topic="t",
        success=(Ok,),
        compensation=Compensation(
            command=lambda d: Cmd(saga="", what=""), topic="t", compensated=(Undone,)
        ),
    )
    d = define_saga(
        "s",
        start=Custom,
        steps=[s],
        saga_id=lambda e: f"id-{e.key}",  # type: ignore[attr-defined]
        initial_data=lambda e: {"k": "v"},
    )
    assert d.saga_id_for(Custom(key="1")) == "id-1"
    assert d.initial_data(Custom(key="1")) == {"k": "v"}
    assert SagaStatus.RUNNING == "RUNNING"
