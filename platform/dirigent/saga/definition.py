"""The frozen ``SagaDefinition`` and :func:`define_saga`, which validates it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from dirigent.events import Event
from dirigent.saga._validate import validate, validate_definition
from dirigent.saga.migration import Migration
from dirigent.saga.steps import (
    Condition,
    ParallelGroup,
    Step,
    StepKind,
    Unit,
    flatten,
    index_steps,
    unit_conditions,
)

__all__ = ["SagaDefinition", "define_saga"]

SagaIdFn = Callable[[Event], str]
InitialDataFn = Callable[[Event], Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class SagaDefinition:
    """A validated, immutable saga. Build it with :func:`define_saga`.

    ``units`` are the steps in execution order, a parallel group being one unit;
    ``pivot_unit`` is the index of the unit holding the pivot (``None``: no pivot).
    ``version`` is recorded in every instance it starts; ``migrations`` move instances of
    older versions forward (see :class:`~dirigent.saga.Migration`).
    """

    name: str
    start: type[Event]
    items: tuple[Step | ParallelGroup, ...]
    id_of: SagaIdFn
    initial_data: InitialDataFn
    deadline_s: float | None = None
    data_model: type[BaseModel] | None = None
    version: int = 1
    migrations: tuple[Migration, ...] = ()
    start_topic: str | None = None
    units: tuple[Unit, ...] = field(init=False, repr=False, compare=False)
    unit_when: tuple[Condition | None, ...] = field(init=False, repr=False, compare=False)
    steps: Mapping[str, Step] = field(init=False, repr=False, compare=False)
    unit_of: Mapping[str, int] = field(init=False, repr=False, compare=False)
    pivot_unit: int | None = field(init=False, repr=False, compare=False)
    renamed: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        units = flatten(self.items)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "unit_when", unit_conditions(self.items))
        object.__setattr__(self, "steps", index_steps(units))
        object.__setattr__(
            self, "unit_of", {s.name: i for i, unit in enumerate(units) for s in unit}
        )
        pivots = [i for i, u in enumerate(units) for s in u if s.kind is StepKind.PIVOT]
        object.__setattr__(self, "pivot_unit", pivots[0] if pivots else None)
        object.__setattr__(self, "renamed", _renames(self.migrations))

    @property
    def start_type(self) -> str:
        """The Avro name of the event that starts this saga."""
        return self.start.event_type

    def step_named(self, name: str | None) -> Step | None:
        """The step called ``name`` here, following the migrations' renames (old timers)."""
        if name is None:
            return None
        return self.steps.get(name) or self.steps.get(self.renamed.get(name, ""))

    def after_pivot(self, step: Step) -> bool:
        """Whether ``step`` comes after the pivot (the saga only moves forward there)."""
        return self.pivot_unit is not None and self.unit_of[step.name] > self.pivot_unit

    @property
    def reply_types(self) -> frozenset[str]:
        """Every event type this saga consumes as a reply (forward or compensation)."""
        out: set[str] = set()
        for s in self.steps.values():
            if s.sends:
                out |= s.success_types | s.failure_types
            if s.compensation is not None:
                out |= s.compensation.compensated_types | s.compensation.failure_types
        return frozenset(out)

    @property
    def wait_types(self) -> Mapping[str, Step]:
        """Event type -> the wait step it completes."""
        return {t: s for s in self.steps.values() if s.awaits for t in s.success_types}

    @property
    def command_topics(self) -> frozenset[str]:
        """Every topic this saga sends commands to."""
        topics = {s.topic for s in self.steps.values() if s.sends}
        topics |= {s.compensation.topic for s in self.steps.values() if s.compensation}
        return frozenset(topics)

    @property
    def input_topics(self) -> frozenset[str]:
        """Every topic this saga reads: its start topic, reply topics and waits' topics."""
        topics = {s.reply_topic for s in self.steps.values() if s.reply_topic}
        topics |= {s.compensation.reply_topic for s in self.steps.values() if s.compensation}
        if self.start_topic:
            topics.add(self.start_topic)
        return frozenset(topics)

    @property
    def models(self) -> frozenset[type[Event]]:
        """Every event model this saga reads (start, replies, waited-for events)."""
        out: set[type[Event]] = {self.start}
        for step in self.steps.values():
            out |= {*step.success, *step.failure}
            if step.compensation is not None:
                out |= {*step.compensation.compensated, *step.compensation.failure}
        return frozenset(out)

    def saga_id_for(self, event: Event) -> str:
        """The saga id a start event belongs to."""
        return self.id_of(event)


def _renames(migrations: Sequence[Migration]) -> dict[str, str]:
    """Old step name -> its name in the newest version, through every migration."""
    out: dict[str, str] = {}
    for m in sorted(migrations, key=lambda m: m.from_version):
        out = {old: m.renames.get(new, new) for old, new in out.items()}
        for old, new in m.renames.items():
            out.setdefault(old, new)
    return out


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
    data: type[BaseModel] | None = None,
    deadline_s: float | None = None,
    start_topic: str | None = None,
    version: int = 1,
    migrations: Sequence[Migration] = (),
) -> SagaDefinition:
    """Validate and freeze a saga; raises ``SagaDefinitionError`` naming saga and step.

    - ``saga_id``: a field name of the start event, or a function of it.
    - ``data``: a pydantic model for the saga data. Builders, conditions and updaters
      then receive the model, updaters return one, and it is validated on every update.
      ``initial_data`` builds the first data from the start event; by default the start
      event's fields (validated into ``data`` when it is given).
    - ``start_topic``: the topic the start event arrives on (the coordinator reads it).
    - ``version`` is recorded in each instance; ``migrations`` move running instances of
      older versions to this one (see :class:`Migration`).

    Example::

        order_fulfilment = define_saga(
            "order_fulfilment",
            start=OrderPlaced,
            start_topic="orders.events",
            saga_id="order_id",
            data=OrderData,
            steps=[reserve_stock, authorize_payment, schedule_shipment, approve_order],
            deadline_s=3600,
        )
    """
    validate(name, start, saga_id, steps, deadline_s)
    definition = SagaDefinition(
        name=name,
        start=start,
        items=tuple(steps),
        id_of=_id_fn(saga_id),
        initial_data=initial_data or _default_data,
        deadline_s=deadline_s,
        data_model=data,
        version=version,
        migrations=tuple(migrations),
        start_topic=start_topic,
    )
    validate_definition(definition)
    return definition
