"""What a set of saga definitions reads and writes, and how inputs are routed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dirigent.errors import SagaDefinitionError
from dirigent.events import Event
from dirigent.saga import SagaDefinition

__all__ = ["Topology", "events_topic_for"]


def events_topic_for(command_topic: str) -> str:
    """Replies to ``<domain>.commands`` arrive on ``<domain>.events`` (convention)."""
    domain = command_topic.removesuffix(".commands")
    return f"{domain}.events"


@dataclass(frozen=True)
class Topology:
    """Routes: start event type -> saga, saga name -> saga, and the topics to read."""

    by_start: dict[str, SagaDefinition]
    by_name: dict[str, SagaDefinition]
    reply_types: frozenset[str]
    input_topics: tuple[str, ...]
    command_topics: tuple[str, ...]
    models: tuple[type[Event], ...]

    @classmethod
    def of(cls, sagas: Sequence[SagaDefinition], extra_topics: Iterable[str] = ()) -> Topology:
        by_start: dict[str, SagaDefinition] = {}
        by_name: dict[str, SagaDefinition] = {}
        for saga in sagas:
            if saga.name in by_name:
                raise SagaDefinitionError(f"two sagas are named {saga.name!r}")
            if saga.start_type in by_start:
                other = by_start[saga.start_type].name
                raise SagaDefinitionError(
                    f"sagas {other!r} and {saga.name!r} both start on {saga.start_type}"
                )
            by_start[saga.start_type] = saga
            by_name[saga.name] = saga
        commands = sorted({t for s in sagas for t in s.command_topics})
        inputs = sorted({events_topic_for(t) for t in commands} | set(extra_topics))
        return cls(
            by_start=by_start,
            by_name=by_name,
            reply_types=frozenset(t for s in sagas for t in s.reply_types),
            input_topics=tuple(inputs),
            command_topics=tuple(commands),
            models=tuple(_models(sagas)),
        )


def _models(sagas: Sequence[SagaDefinition]) -> set[type[Event]]:
    out: set[type[Event]] = set()
    for saga in sagas:
        out.add(saga.start)
        for step in saga.steps.values():
            out |= {*step.success, *step.failure}
            if step.compensation is not None:
                out |= {*step.compensation.compensated, *step.compensation.failure}
    return out
