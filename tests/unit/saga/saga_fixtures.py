"""Small local events and sagas shared by the saga unit tests."""

from __future__ import annotations

from typing import Any, ClassVar

from dirigent.events import Event
from dirigent.saga import (
    Compensation,
    RetryPolicy,
    SagaDefinition,
    Step,
    StepKind,
    define_saga,
    parallel,
)


class Started(Event):
    event_type: ClassVar[str] = "test.Started"
    saga: str
    amount: int = 1


class Cmd(Event):
    """Every command: which step/phase it belongs to travels in ``what``."""

    event_type: ClassVar[str] = "test.Cmd"
    saga: str
    what: str


class Ok(Event):
    event_type: ClassVar[str] = "test.Ok"
    saga: str
    note: str = ""


class Failed(Event):
    event_type: ClassVar[str] = "test.Failed"
    saga: str


class Fatal(Event):
    event_type: ClassVar[str] = "test.Fatal"
    saga: str


class Undone(Event):
    event_type: ClassVar[str] = "test.Undone"
    saga: str


class UndoFailed(Event):
    event_type: ClassVar[str] = "test.UndoFailed"
    saga: str


def cmd(what: str) -> Any:
    return lambda d: Cmd(saga=d["saga"], what=what)


def comp(name: str, attempts: int = 2) -> Compensation:
    return Compensation(
        command=cmd(f"undo-{name}"),
        topic=f"{name}.commands",
        compensated=(Undone,),
        failure=(UndoFailed,),
        timeout_s=10,
        retry=RetryPolicy(max_attempts=attempts, backoff_base_s=1, backoff_cap_s=4),
    )


def step(name: str, kind: StepKind = StepKind.COMPENSATABLE, attempts: int = 1, **kw: Any) -> Step:
    return Step(
        name=name,
        command=cmd(name),
        topic=f"{name}.commands",
        success=(Ok,),
        failure=(Failed, Fatal),
        compensation=comp(name) if kind is StepKind.COMPENSATABLE else None,
        kind=kind,
        timeout_s=10,
        retry=RetryPolicy(
            max_attempts=attempts, backoff_base_s=1, backoff_cap_s=8, non_retryable=(Fatal,)
        ),
        **kw,
    )


def linear_saga(attempts: int = 1, deadline_s: float | None = None) -> SagaDefinition:
    """a, b (compensatable) -> p (pivot) -> r (retriable)."""
    return define_saga(
        "linear",
        start=Started,
        saga_id="saga",
        steps=[
            step("a", attempts=attempts),
            step("b", attempts=attempts),
            step("p", StepKind.PIVOT, attempts=attempts),
            step("r", StepKind.RETRIABLE, attempts=max(attempts, 2)),
        ],
        deadline_s=deadline_s,
    )


def group_saga(attempts: int = 1) -> SagaDefinition:
    """a -> (x | y | z) -> p (pivot)."""
    return define_saga(
        "grouped",
        start=Started,
        saga_id="saga",
        steps=[
            step("a", attempts=attempts),
            parallel(
                "g",
                step("x", attempts=attempts),
                step("y", attempts=attempts),
                step("z", attempts=attempts),
            ),
            step("p", StepKind.PIVOT),
        ],
    )
