"""Turning consumed records and due timers into engine inputs (or poison)."""

from __future__ import annotations

from dataclasses import dataclass

from dirigent.coordinator.topology import Topology
from dirigent.errors import ContractError, DecodeError, EnvelopeError
from dirigent.events import AvroCodec, Envelope, EnvelopeLimits, Event
from dirigent.saga import EventReceived, Input, SagaDefinition, Timer, TimerFired
from dirigent.transport import InboundRecord

__all__ = ["Poison", "Routed", "route_record", "route_timer"]

# What a user's saga-id function may raise on an event it cannot handle.
_ID_ERRORS = (AttributeError, KeyError, TypeError, ValueError)


@dataclass(frozen=True, slots=True)
class Routed:
    """One engine input for one saga; ``definition`` is known up front for starts."""

    saga_id: str
    input: Input
    definition: SagaDefinition | None
    record: InboundRecord | None = None

    @property
    def message_id(self) -> str:
        if isinstance(self.input, TimerFired):
            return self.input.timer.timer_id
        return self.input.message_id


@dataclass(frozen=True, slots=True)
class Poison:
    """A record that can never be processed: it goes to the dead-letter topic."""

    record: InboundRecord
    error: Exception


def route_record(
    record: InboundRecord, topology: Topology, codec: AvroCodec, limits: EnvelopeLimits
) -> Routed | Poison | None:
    """``Routed`` for a saga, ``Poison`` for bad input, ``None`` if no saga cares."""
    try:
        env = Envelope.from_headers(record.headers, limits)
        start = topology.by_start.get(env.type)
        if start is None and env.type not in topology.reply_types:
            return None
        limits.check_payload(record.value)
        event = codec.decode(record.value or b"")
        if event.event_type != env.type:
            raise DecodeError(
                f"header dirigent-type is {env.type} but the body is {event.event_type}"
            )
        saga_id = _saga_id(start, event, env)
    except ContractError as exc:
        return Poison(record, exc)
    received = EventReceived(env.message_id, event, env.causation_id, saga_id)
    return Routed(saga_id, received, start, record)


def _saga_id(start: SagaDefinition | None, event: Event, env: Envelope) -> str:
    if start is None:
        if not env.saga_id:
            raise EnvelopeError(f"reply {env.type} has no dirigent-saga-id header")
        return env.saga_id
    try:
        return start.saga_id_for(event)
    except _ID_ERRORS as exc:
        raise DecodeError(f"saga {start.name} cannot derive a saga id: {exc!r}") from exc


def route_timer(timer: Timer, topology: Topology) -> Routed | None:
    definition = topology.by_name.get(timer.saga_type)
    if definition is None:
        return None
    return Routed(timer.saga_id, TimerFired(timer), definition)
