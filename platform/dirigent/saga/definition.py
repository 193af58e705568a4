"""The frozen ``SagaDefinition`` and :func:`define_saga`, which validates it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dirigent.events import Event
from dirigent.saga._validate import validate
from dirigent.saga.steps import ParallelGroup, Step, StepKind, Unit, flatten, index_steps

__all__ = ["SagaDefinition", "define_saga"]

SagaIdFn = Callable[[Event], str]
InitialDataFn = Callable[[Event], dict[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class SagaDefinition:
    """A validated, immutable saga. Build it with :func:`define_saga`.

    ``units`` are the steps in execution order, a parallel group being one unit;
    ``pivot_unit`` is the index of the unit holding the pivot (``None``: no pivot).
    """

    name: str
    start: type[Event]
    items: tuple[Step | ParallelGroup, ...]
    id_of: SagaIdFn
    initial_data: InitialDataFn
    deadline_s: float | None = None
    units: tuple[Unit, ...] = field(init=False, repr=False, compare=False)
    steps: Mapping[str, Step] = field(init=False, repr=False, compare=False)
    unit_of: Mapping[str, int] = field(init=False, repr=False, compare=False)
    pivot_unit: int | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        units = flatten(self.items)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "steps", index_steps(units))
        object.__setattr__(
            self, "unit_of", {s.name: i for i, unit in enumerate(units) for s in unit}
        )
        pivots = [i for i, u in enumerate(units) for s in u if s.kind is StepKind.PIVOT]
        object.__setattr__(self, "pivot_unit", pivots[0] if pivots else None)

    @property
    def start_type(self) -> str:
        """The Avro name of the event that starts this saga."""
        return self.start.event_type

    @property
    def reply_types(self) -> frozenset[str]:
        """Every event type this saga consumes as a reply (forward or compensation)."""
        out: set[str] = set()
        for s in self.steps.values():
            out |= s.success_types | s.failure_types
            if s.compensation is not None:
                out |= s.compensation.compensated_types | s.compensation.failure_types
        return frozenset(out)

    @property
    def command_topics(self) -> frozenset[str]:
        """Every topic this saga sends commands to."""
        topics = {s.topic for s in self.steps.values()}
        topics |= {s.compensation.topic for s in self.steps.values() if s.compensation}
        return frozenset(topics)

    def saga_id_for(self, event: Event) -> str:
        """The saga id a start event belongs to."""
        return self.id_of(event)


def _id_fn(saga_id: str | SagaIdFn) -> SagaIdFn:
    if callable(saga_id):
        return saga_id
    field_name = saga_id

    def from_field(event: Event) -> str:
        return str(getattr(event, field_name))

    return from_field


def _default_data(event: Event) -> dict[str, Any]:
    return event.model_dump(mode="json")


def define_saga(
    name: str,
    *,
    start: type[Event],
    steps: Sequence[Step | ParallelGroup],
    saga_id: str | SagaIdFn = "id",
    initial_data: InitialDataFn | None = None,
    deadline_s: float | None = None,
) -> SagaDefinition:
    """Validate and freeze a saga; raises ``SagaDefinitionError`` naming saga and step.

    ``saga_id`` is a field name of the start event or a function of it; ``initial_data``
    defaults to the start event's JSON dump.

    Example::

        order_fulfilment = define_saga(
            "order_fulfilment",
            start=OrderPlaced,
            saga_id="order_id",
            steps=[reserve_stock, authorize_payment, schedule_shipment, approve_order],
            deadline_s=3600,
        )
    """
    validate(name, start, saga_id, steps, deadline_s)
    return SagaDefinition(
        name=name,
        start=start,
        items=tuple(steps),
        id_of=_id_fn(saga_id),
        initial_data=initial_data or _default_data,
        deadline_s=deadline_s,
    )
