"""The step vocabulary of the saga DSL: steps, compensations, retry policies, groups.

A saga is a module-level value built with :func:`define_saga`; it is validated when it
is built and never changes afterwards (no registries, no import side effects).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dirigent.events import Event

__all__ = [
    "CommandBuilder",
    "Compensation",
    "DataUpdater",
    "ParallelGroup",
    "RetryPolicy",
    "Step",
    "StepKind",
    "parallel",
]

CommandBuilder = Callable[[Mapping[str, Any]], Event]
"""Builds a command from the saga data: ``lambda d: ReserveStock(order_id=d["order_id"])``."""

DataUpdater = Callable[[dict[str, Any], Event], dict[str, Any]]
"""Returns new saga data from the old data and a success reply; must not mutate its input."""


class StepKind(StrEnum):
    """Where a step sits relative to the point of no return."""

    COMPENSATABLE = "compensatable"  # before the pivot; undone by its compensation
    PIVOT = "pivot"  # the go/no-go step; once it succeeds the saga only moves forward
    RETRIABLE = "retriable"  # after the pivot; retried until it succeeds or the policy ends


def _names(types: tuple[type[Event], ...]) -> frozenset[str]:
    return frozenset(t.event_type for t in types)


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often a command is re-sent after a failure reply or a timeout.

    ``max_attempts`` counts the first try. The delay before attempt ``n + 1`` is drawn
    with full jitter from ``[0, min(cap, base * 2 ** (n - 1))]``; the engine derives the
    random fraction from the saga id, step and attempt, so replays are identical.
    Failure replies whose type is in ``non_retryable`` end the step at once.

    Example::

        RetryPolicy(max_attempts=5, backoff_base_s=0.5, backoff_cap_s=30,
                    non_retryable=(CardDeclined,))
    """

    max_attempts: int = 1
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 60.0
    non_retryable: tuple[type[Event], ...] = ()
    non_retryable_types: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "non_retryable_types", _names(self.non_retryable))

    def delay_s(self, attempt: int, fraction: float) -> float:
        """Backoff after failed attempt ``attempt`` (1-based), ``fraction`` in ``[0, 1)``."""
        ceiling = min(self.backoff_cap_s, self.backoff_base_s * 2.0 ** min(attempt - 1, 60))
        return ceiling * fraction

    def allows_retry(self, attempt: int, failure_type: str | None) -> bool:
        """Whether another attempt may follow failed attempt ``attempt``."""
        if failure_type is not None and failure_type in self.non_retryable_types:
            return False
        return attempt < self.max_attempts


NO_RETRY = RetryPolicy()
COMPENSATION_RETRY = RetryPolicy(max_attempts=5, backoff_base_s=1.0, backoff_cap_s=60.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Compensation:
    """The semantic undo of a compensatable step.

    ``compensated`` are the reply types that mean "undone"; ``failure`` the reply types
    that mean the undo failed (retried by ``retry``, then the saga is FAILED).
    """

    command: CommandBuilder
    topic: str
    compensated: tuple[type[Event], ...]
    failure: tuple[type[Event], ...] = ()
    timeout_s: float = 30.0
    retry: RetryPolicy = COMPENSATION_RETRY
    compensated_types: frozenset[str] = field(init=False, repr=False, compare=False)
    failure_types: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compensated_types", _names(self.compensated))
        object.__setattr__(self, "failure_types", _names(self.failure))


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One command the saga sends, and what its replies mean.

    Example::

        Step(name="reserve_stock", command=lambda d: ReserveStock(order_id=d["order_id"]),
             topic="inventory.commands", success=(StockReserved,),
             failure=(OutOfStock,),
             compensation=Compensation(command=lambda d: ReleaseStock(order_id=d["order_id"]),
                                       topic="inventory.commands",
                                       compensated=(StockReleased,)))

    ``participant`` names the service behind the topic (for circuit breakers); it
    defaults to the topic's first dotted segment (``inventory``).
    """

    name: str
    command: CommandBuilder
    topic: str
    success: tuple[type[Event], ...]
    failure: tuple[type[Event], ...] = ()
    on_success: DataUpdater | None = None
    compensation: Compensation | None = None
    kind: StepKind = StepKind.COMPENSATABLE
    timeout_s: float = 30.0
    retry: RetryPolicy = NO_RETRY
    participant: str = ""
    success_types: frozenset[str] = field(init=False, repr=False, compare=False)
    failure_types: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "success_types", _names(self.success))
        object.__setattr__(self, "failure_types", _names(self.failure))
        if not self.participant:
            object.__setattr__(self, "participant", self.topic.split(".", 1)[0])


@dataclass(frozen=True, slots=True)
class ParallelGroup:
    """Steps sent together; the saga moves on when all of them succeed.

    If one fails, no sibling is retried any more; siblings still in flight are waited
    for (until their reply or their timeout), then every sibling that succeeded is
    compensated, in reverse declaration order, before the earlier steps.
    """

    name: str
    steps: tuple[Step, ...]


def parallel(name: str, *steps: Step) -> ParallelGroup:
    """A fan-out of ``steps`` that joins when all succeed: ``parallel("book", a, b, c)``."""
    return ParallelGroup(name, tuple(steps))


Unit = tuple[Step, ...]


def flatten(items: Sequence[Step | ParallelGroup]) -> tuple[Unit, ...]:
    """The saga's units in order: a plain step is a unit of one."""
    return tuple(i.steps if isinstance(i, ParallelGroup) else (i,) for i in items)


def index_steps(units: tuple[Unit, ...]) -> Mapping[str, Step]:
    return {s.name: s for unit in units for s in unit}
