"""Definition-time checks; every error names the saga and, where it applies, the step."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from dirigent.errors import SagaDefinitionError
from dirigent.events import Event
from dirigent.saga.steps import OnTimeout, ParallelGroup, RetryPolicy, Step, StepKind, flatten

if TYPE_CHECKING:
    from dirigent.saga.definition import SagaDefinition

__all__ = ["validate", "validate_definition"]


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
    for item in items:
        if not isinstance(item, Step | ParallelGroup):
            raise _fail(name, None, f"{item!r} is neither a Step nor a parallel group")
    _check_names(name, items)
    for item in items:
        if isinstance(item, ParallelGroup):
            _check_group(name, item)
        for step in item.steps if isinstance(item, ParallelGroup) else (item,):
            _check_step(name, step)
    _check_initiating(name, items)
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
    if group.when is not None and not callable(group.when):
        raise _fail(saga, group.name, "when= must be a function of the saga data")
    if any(not s.sends for s in group.steps):
        raise _fail(saga, group.name, "a parallel group holds command steps only")
    kinds = {s.kind for s in group.steps}
    if StepKind.PIVOT in kinds:
        raise _fail(saga, group.name, "a pivot cannot be part of a parallel group")
    if len({s.kind for s in group.steps if not s.read_only}) > 1:
        raise _fail(saga, group.name, "a parallel group mixes compensatable and retriable steps")


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _check_retry(saga: str, step: str, policy: object, what: str) -> None:
    if not isinstance(policy, RetryPolicy):
        raise _fail(saga, step, f"{what} must be a RetryPolicy, got {policy!r}")
    n = policy.max_attempts
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise _fail(saga, step, f"{what} max_attempts must be None or at least 1, got {n!r}")
    base, cap = policy.backoff_base_s, policy.backoff_cap_s
    if not (_is_number(base) and _is_number(cap) and 0 <= base <= cap):
        raise _fail(saga, step, f"{what} backoff needs 0 <= backoff_base_s <= backoff_cap_s")
    for t in policy.non_retryable:
        if not (isinstance(t, type) and issubclass(t, Event)):
            raise _fail(saga, step, f"{what} non_retryable holds {t!r}, not an Event type")


def _check_step(saga: str, step: Step) -> None:
    if not _is_number(step.timeout_s) or step.timeout_s <= 0:
        raise _fail(saga, step.name, f"timeout_s must be positive, got {step.timeout_s}")
    if step.when is not None and not callable(step.when):
        raise _fail(saga, step.name, "when= must be a function of the saga data")
    for t in (*step.success, *step.failure):
        if not (isinstance(t, type) and issubclass(t, Event)):
            raise _fail(saga, step.name, f"reply type {t!r} is not an Event subclass")
    if step.initiating:
        _check_initiating_step(saga, step)
    elif step.awaits is not None:
        _check_wait(saga, step)
    else:
        _check_command_step(saga, step)
    comp = step.compensation
    if comp is not None:
        if not comp.compensated:
            raise _fail(saga, step.name, "a compensation needs at least one compensated type")
        if not _is_number(comp.timeout_s) or comp.timeout_s <= 0 or not comp.topic:
            raise _fail(saga, step.name, "a compensation needs a topic and a positive timeout")
        if not callable(comp.command):
            raise _fail(saga, step.name, "a compensation's command must be a function")
        _check_retry(saga, step.name, comp.retry, "compensation retry")


def _check_command_step(saga: str, step: Step) -> None:
    if not callable(step.command):
        raise _fail(saga, step.name, "command= must be a function of the saga data")
    if not step.success:
        raise _fail(saga, step.name, "a step needs at least one success reply type")
    if not step.topic:
        raise _fail(saga, step.name, "a step needs a command topic")
    _check_retry(saga, step.name, step.retry, "retry")
    comp = step.compensation
    if step.read_only:
        if comp is not None:
            raise _fail(saga, step.name, "a read-only step changes nothing: no compensation")
        if step.kind is StepKind.PIVOT:
            raise _fail(saga, step.name, "a read-only step cannot be the pivot")
        return
    if step.kind is StepKind.COMPENSATABLE and comp is None:
        raise _fail(
            saga,
            step.name,
            "a compensatable step needs a compensation (or read_only=True if it changes nothing)",
        )
    if step.kind is not StepKind.COMPENSATABLE and comp is not None:
        raise _fail(saga, step.name, f"a {step.kind} step cannot have a compensation")


def _check_initiating_step(saga: str, step: Step) -> None:
    if step.compensation is None:
        raise _fail(saga, step.name, "an initiating step needs a compensation")
    if step.kind is not StepKind.COMPENSATABLE or step.when is not None or step.read_only:
        raise _fail(saga, step.name, "an initiating step is compensatable and unconditional")


def _check_wait(saga: str, step: Step) -> None:
    assert step.awaits is not None
    if not step.success:
        raise _fail(saga, step.name, "a wait needs at least one event type")
    if not step.topic:
        raise _fail(saga, step.name, "a wait needs the topic its event arrives on")
    if step.compensation is not None or step.failure:
        raise _fail(saga, step.name, "a wait has no compensation and no failure replies")
    if step.kind is StepKind.RETRIABLE:
        raise _fail(saga, step.name, "a wait cannot be retriable (it sends nothing)")
    if not isinstance(step.awaits.on_timeout, OnTimeout):
        raise _fail(saga, step.name, f"on_timeout must be an OnTimeout, got {step.awaits!r}")
    corr = step.awaits.correlate
    if isinstance(corr, str):
        for t in step.success:
            if corr not in t.model_fields:
                raise _fail(saga, step.name, f"{t.__name__} has no correlation field {corr!r}")
    elif not callable(corr):
        raise _fail(saga, step.name, "correlate= is a field name or a function of the event")


def _check_initiating(saga: str, items: Sequence[Step | ParallelGroup]) -> None:
    seen_other = False
    for item in items:
        first = item if isinstance(item, Step) else None
        if first is not None and first.initiating:
            if seen_other:
                raise _fail(saga, first.name, "an initiating step must come first")
        else:
            seen_other = True


def _check_order(saga: str, items: Sequence[Step | ParallelGroup]) -> None:
    pivot: str | None = None
    for unit in flatten(items):
        for step in unit:
            if step.kind is StepKind.PIVOT:
                if pivot is not None:
                    raise _fail(saga, step.name, f"more than one pivot (first: {pivot!r})")
                pivot = step.name
            elif step.read_only:
                continue  # nothing to undo: allowed on either side of the pivot
            elif step.kind is StepKind.COMPENSATABLE and pivot is not None:
                raise _fail(saga, step.name, f"compensatable step after the pivot {pivot!r}")
            elif step.kind is StepKind.RETRIABLE and pivot is None:
                raise _fail(saga, step.name, "retriable step before the pivot (or no pivot)")


def validate_definition(d: SagaDefinition) -> None:
    """The checks that need the assembled definition: data model, versions, migrations."""
    if d.data_model is not None and not (
        isinstance(d.data_model, type) and issubclass(d.data_model, BaseModel)
    ):
        raise _fail(d.name, None, f"data= must be a pydantic model class, got {d.data_model!r}")
    if not isinstance(d.version, int) or isinstance(d.version, bool) or d.version < 1:
        raise _fail(d.name, None, f"version must be an integer >= 1, got {d.version!r}")
    if d.start_topic is not None and not d.start_topic:
        raise _fail(d.name, None, "start_topic must be a topic name (or None)")
    seen: set[int] = set()
    for m in d.migrations:
        if not 1 <= m.from_version < d.version:
            raise _fail(
                d.name, None,
                f"a migration from version {m.from_version} cannot lead to version {d.version}",
            )  # fmt: skip
        if m.from_version in seen:
            raise _fail(d.name, None, f"two migrations from version {m.from_version}")
        seen.add(m.from_version)
    newest = max(seen, default=None)
    for m in d.migrations:
        if m.from_version == newest:
            for old, new in m.renames.items():
                if new not in d.steps:
                    raise _fail(d.name, new, f"migration renames {old!r} to an unknown step")


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
                    if prev[0] == role == "awaited" and prev[1] != step.name:
                        raise _fail(saga, step.name, f"{t} is awaited in step {prev[1]!r} too")
                    if prev[0] != role:
                        raise _fail(
                            saga,
                            step.name,
                            f"reply type {t} is {role} here but {prev[0]} in step {prev[1]!r}",
                        )


def _roles(step: Step) -> list[tuple[str, frozenset[str]]]:
    if step.awaits is not None:
        return [("awaited", step.success_types)]
    out = [("success", step.success_types), ("failure", step.failure_types)]
    if step.compensation is not None:
        out.append(("compensated", step.compensation.compensated_types))
        out.append(("compensation failure", step.compensation.failure_types))
    return out
