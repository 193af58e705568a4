"""Definition-time checks; every error names the saga and, where it applies, the step."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dirigent.errors import SagaDefinitionError
from dirigent.events import Event
from dirigent.saga.steps import ParallelGroup, RetryPolicy, Step, StepKind, flatten

__all__ = ["validate"]


def _fail(saga: str, step: str | None, message: str) -> SagaDefinitionError:
    where = f"saga {saga!r}" + (f", step {step!r}" if step else "")
    return SagaDefinitionError(f"{where}: {message}")


def validate(
    name: str,
    start: Any,
    saga_id: str | Callable[[Event], str],
    items: Sequence[Step | ParallelGroup],
    deadline_s: float | None,
) -> None:
    if not name:
        raise SagaDefinitionError("a saga needs a non-empty name")
    if not (isinstance(start, type) and issubclass(start, Event) and start.event_type):
        raise _fail(name, None, "missing start event (an Event subclass with an event_type)")
    if isinstance(saga_id, str) and saga_id not in start.model_fields:
        raise _fail(name, None, f"start event {start.__name__} has no saga id field {saga_id!r}")
    if not items:
        raise _fail(name, None, "a saga needs at least one step")
    if deadline_s is not None and deadline_s <= 0:
        raise _fail(name, None, f"deadline_s must be positive, got {deadline_s}")
    _check_names(name, items)
    for item in items:
        if isinstance(item, ParallelGroup):
            _check_group(name, item)
        for step in item.steps if isinstance(item, ParallelGroup) else (item,):
            _check_step(name, step)
    _check_order(name, items)
    _check_reply_roles(name, start.event_type, items)


def _check_names(saga: str, items: Sequence[Step | ParallelGroup]) -> None:
    seen: set[str] = set()
    for item in items:
        names = [item.name]
        if isinstance(item, ParallelGroup):
            names += [s.name for s in item.steps]
        for n in names:
            if not n:
                raise _fail(saga, None, "a step or group has an empty name")
            if n in seen:
                raise _fail(saga, n, "duplicate step name")
            seen.add(n)


def _check_group(saga: str, group: ParallelGroup) -> None:
    if len(group.steps) < 2:
        raise _fail(saga, group.name, "a parallel group needs at least two steps")
    kinds = {s.kind for s in group.steps}
    if StepKind.PIVOT in kinds:
        raise _fail(saga, group.name, "a pivot cannot be part of a parallel group")
    if len(kinds) > 1:
        raise _fail(saga, group.name, "a parallel group mixes compensatable and retriable steps")


def _check_retry(saga: str, step: str, policy: RetryPolicy, what: str) -> None:
    if policy.max_attempts < 1:
        raise _fail(saga, step, f"{what} max_attempts must be at least 1")
    if policy.backoff_base_s < 0 or policy.backoff_cap_s < policy.backoff_base_s:
        raise _fail(saga, step, f"{what} backoff needs 0 <= backoff_base_s <= backoff_cap_s")


def _check_step(saga: str, step: Step) -> None:
    if not step.success:
        raise _fail(saga, step.name, "a step needs at least one success reply type")
    if step.timeout_s <= 0:
        raise _fail(saga, step.name, f"timeout_s must be positive, got {step.timeout_s}")
    if not step.topic:
        raise _fail(saga, step.name, "a step needs a command topic")
    _check_retry(saga, step.name, step.retry, "retry")
    comp = step.compensation
    if step.kind is StepKind.COMPENSATABLE and comp is None:
        raise _fail(saga, step.name, "a compensatable step needs a compensation")
    if step.kind is not StepKind.COMPENSATABLE and comp is not None:
        raise _fail(saga, step.name, f"a {step.kind} step cannot have a compensation")
    if comp is not None:
        if not comp.compensated:
            raise _fail(saga, step.name, "a compensation needs at least one compensated type")
        if comp.timeout_s <= 0 or not comp.topic:
            raise _fail(saga, step.name, "a compensation needs a topic and a positive timeout")
        _check_retry(saga, step.name, comp.retry, "compensation retry")


def _check_order(saga: str, items: Sequence[Step | ParallelGroup]) -> None:
    pivot: str | None = None
    for unit in flatten(items):
        for step in unit:
            if step.kind is StepKind.PIVOT:
                if pivot is not None:
                    raise _fail(saga, step.name, f"more than one pivot (first: {pivot!r})")
                pivot = step.name
            elif step.kind is StepKind.COMPENSATABLE and pivot is not None:
                raise _fail(saga, step.name, f"compensatable step after the pivot {pivot!r}")
            elif step.kind is StepKind.RETRIABLE and pivot is None:
                raise _fail(saga, step.name, "retriable step before the pivot (or no pivot)")


def _check_reply_roles(saga: str, start_type: str, items: Sequence[Step | ParallelGroup]) -> None:
    """An event type keeps one meaning across the saga: success, failure, compensated...

    Replies are matched to steps by causation id, so two steps may share a type in the
    same role (a generic ``CommandRejected``); one type meaning success here and failure
    there is ambiguous and rejected.
    """
    roles: dict[str, tuple[str, str]] = {}
    for unit in flatten(items):
        for step in unit:
            for role, types in _roles(step):
                for t in types:
                    if t == start_type:
                        raise _fail(saga, step.name, f"{t} starts the saga; it cannot be a reply")
                    prev = roles.setdefault(t, (role, step.name))
                    if prev[0] != role:
                        raise _fail(
                            saga,
                            step.name,
                            f"reply type {t} is {role} here but {prev[0]} in step {prev[1]!r}",
                        )


def _roles(step: Step) -> list[tuple[str, frozenset[str]]]:
    out = [("success", step.success_types), ("failure", step.failure_types)]
    if step.compensation is not None:
        out.append(("compensated", step.compensation.compensated_types))
        out.append(("compensation failure", step.compensation.failure_types))
    return out
