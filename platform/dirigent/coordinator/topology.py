"""What a set of saga definitions reads and writes, and how inputs are routed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from dirigent.errors import SagaDefinitionError
from dirigent.events import Event
from dirigent.saga import SagaCatalog, SagaDefinition, Step
from dirigent.saga.steps import events_topic_for

__all__ = ["Topology", "events_topic_for"]


@dataclass(frozen=True)
class Topology:
    """Routes: start event type -> saga, awaited event type -> wait step, saga name ->
    saga (its newest version), and the topics to read and write.

    Several versions of one saga may be loaded side by side (``catalog``); new instances
    start on the newest, stored ones run on the version the catalog picks.
    """

    by_start: dict[str, SagaDefinition]
    by_name: dict[str, SagaDefinition]
    by_wait: dict[str, tuple[SagaDefinition, Step]]
    reply_types: frozenset[str]
    input_topics: tuple[str, ...]
    command_topics: tuple[str, ...]
    start_topics: tuple[str, ...]
    models: tuple[type[Event], ...]
    catalog: SagaCatalog

    @classmethod
    def of(cls, sagas: Sequence[SagaDefinition], extra_topics: Iterable[str] = ()) -> Topology:
        catalog = SagaCatalog(sagas)
        newest = dict(catalog.newest)
        by_start: dict[str, SagaDefinition] = {}
        for saga in newest.values():
            if saga.start_type in by_start:
                other = by_start[saga.start_type].name
                raise SagaDefinitionError(
                    f"sagas {other!r} and {saga.name!r} both start on {saga.start_type}"
                )
            by_start[saga.start_type] = saga
        replies = frozenset(t for s in sagas for t in s.reply_types)
        by_wait = _waits(sagas, newest, replies, frozenset(by_start))
        inputs = {t for s in sagas for t in s.input_topics} | set(extra_topics)
        return cls(
            by_start=by_start,
            by_name=newest,
            by_wait=by_wait,
            reply_types=replies,
            input_topics=tuple(sorted(inputs)),
            command_topics=tuple(sorted({t for s in sagas for t in s.command_topics})),
            start_topics=tuple(sorted({s.start_topic for s in sagas if s.start_topic})),
            models=tuple(sorted({m for s in sagas for m in s.models}, key=_model_key)),
            catalog=catalog,
        )


def _model_key(model: type[Event]) -> str:
    return model.event_type


def _waits(
    sagas: Sequence[SagaDefinition],
    newest: Mapping[str, SagaDefinition],
    replies: frozenset[str],
    starts: frozenset[str],
) -> dict[str, tuple[SagaDefinition, Step]]:
    """Awaited event type -> (the newest saga of that name, its wait step)."""
    out: dict[str, tuple[SagaDefinition, Step]] = {}
    # Older versions first, so the newest version's wait wins for a shared type.
    for saga in sorted(sagas, key=lambda s: s.version):
        for etype, step in saga.wait_types.items():
            if etype in replies or etype in starts:
                role = "a reply" if etype in replies else "a start event"
                raise SagaDefinitionError(
                    f"saga {saga.name!r}, step {step.name!r}: {etype} is also {role}; "
                    "an awaited event needs a type of its own"
                )
            prev = out.get(etype)
            if prev is not None and prev[0].name != saga.name:
                raise SagaDefinitionError(
                    f"sagas {prev[0].name!r} and {saga.name!r} both wait for {etype}"
                )
            out[etype] = (newest[saga.name], step)
    return out
