"""Turning consumed records and due timers into engine inputs, forwards, or poison.

Every record ends in exactly one of these: a ``Routed`` input for the saga it belongs
to; a ``Routed`` with ``forward_to`` set when it landed on a partition other than the
one its saga id hashes to (a null key, another client's partitioner); ``Poison`` for
anything that can never be processed (it goes to the dead-letter topic); or ``None``
for a type listed in ``ignored_types`` on purpose. Nothing vanishes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dirigent.coordinator.topology import Topology
from dirigent.coordinator.trace_context import begin_trace
from dirigent.errors import ContractError, DecodeError, EnvelopeError, UnknownSchema
from dirigent.events import AvroCodec, Envelope, EnvelopeLimits, Event, SagaAdmin
from dirigent.saga import (
    AdminAction,
    AdminRequested,
    EventReceived,
    Input,
    SagaDefinition,
    Step,
    Timer,
    TimerFired,
)
from dirigent.transport import InboundRecord
from dirigent.transport.reader import partition_for

__all__ = ["Poison", "Routed", "Router", "route_timer", "wait_saga_id"]

# What a user's saga-id function may raise on an event it cannot handle.
_ID_ERRORS = (AttributeError, KeyError, TypeError, ValueError)


@dataclass(frozen=True, slots=True)
class Routed:
    """One engine input for one saga; ``definition`` is known up front for starts.

    ``forward_to``: the partition the saga lives on, when the record landed elsewhere;
    it is then forwarded (same bytes, same message id), never applied here.
    ``traceparent``: the record's own, if it carried one.
    """

    saga_id: str
    input: Input
    definition: SagaDefinition | None
    record: InboundRecord | None = None
    forward_to: int | None = None
    traceparent: str | None = None

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


@dataclass(frozen=True)
class Router:
    """Routes the records of the coordinator's input topics.

    ``partitions`` holds each input topic's partition count (co-partitioned topics
    share it); ``ignored_types`` are event types other services put on these topics
    that no saga reads (they are skipped and counted, not dead-lettered).
    """

    topology: Topology
    codec: AvroCodec
    limits: EnvelopeLimits
    partitions: Mapping[str, int]
    ignored_types: frozenset[str] = frozenset()
    admin_topic: str | None = None
    # Tracing on: a saga whose start carries no traceparent gets a new trace from this.
    new_trace: Callable[[str, str], str] | None = None

    def route(self, record: InboundRecord) -> Routed | Poison | None:
        """``Routed`` for a saga, ``Poison`` for bad input, ``None`` if ignored on purpose."""
        try:
            return self._route(record)
        except ContractError as exc:
            return Poison(record, exc)

    def _route(self, record: InboundRecord) -> Routed | None:
        if record.defect is not None:
            raise DecodeError(f"{_where(record)} cannot be read: {record.defect}")
        env = Envelope.from_headers(record.headers, self.limits)
        if record.topic == self.admin_topic:
            return self._admin(record, env)
        start = self.topology.by_start.get(env.type)
        wait = self.topology.by_wait.get(env.type)
        if start is None and wait is None and env.type not in self.topology.reply_types:
            if env.type in self.ignored_types:
                return None
            raise UnknownSchema(
                f"{_where(record)}: no saga starts on or awaits {env.type} (list it in "
                "DIRIGENT_COORDINATOR_IGNORED_TYPES if it belongs on this topic)"
            )
        self.limits.check_payload(record.value)
        event = self.codec.decode(record.value or b"")
        if event.event_type != env.type:
            raise DecodeError(
                f"{_where(record)}: header dirigent-type is {env.type} "
                f"but the body is {event.event_type}"
            )
        saga_id = wait_saga_id(*wait, event) if wait is not None else _saga_id(start, event, env)
        trace = None
        if start is not None and (env.traceparent is not None or self.new_trace is not None):
            trace = begin_trace(env.traceparent, saga_id, env.message_id, self.new_trace)
        received = EventReceived(env.message_id, event, env.causation_id, saga_id, trace)
        home = self.home_of(record.topic, saga_id)
        forward_to = home if home != record.partition else None
        return Routed(saga_id, received, start, record, forward_to, env.traceparent)

    def _admin(self, record: InboundRecord, env: Envelope) -> Routed:
        """An operator's request: for the saga it names, on that saga's partition."""
        if env.type != SagaAdmin.event_type:
            raise UnknownSchema(f"{_where(record)}: the admin topic carries {env.type}")
        self.limits.check_payload(record.value)
        request = self.codec.decode(record.value or b"", reader=SagaAdmin)
        assert isinstance(request, SagaAdmin)
        try:
            action = AdminAction(request.action)
        except ValueError:
            known = ", ".join(a.value for a in AdminAction)
            raise DecodeError(
                f"{_where(record)}: unknown saga action {request.action!r} (one of {known})"
            ) from None
        if not request.saga_id:
            raise DecodeError(f"{_where(record)}: an admin request names no saga")
        inp = AdminRequested(env.message_id, action, request.who, request.why, request.step)
        home = self.home_of(record.topic, request.saga_id)
        forward_to = home if home != record.partition else None
        return Routed(request.saga_id, inp, None, record, forward_to)

    def home_of(self, topic: str, saga_id: str) -> int:
        """The partition a saga lives on: murmur2 of its id, as the Java client keys it."""
        count = self.partitions.get(topic)
        if count is None:
            raise EnvelopeError(f"topic {topic} is not one of the coordinator's inputs")
        return partition_for(saga_id, count)


def _where(record: InboundRecord) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


def _saga_id(start: SagaDefinition | None, event: Event, env: Envelope) -> str:
    if start is None:
        if not env.saga_id:
            raise EnvelopeError(f"reply {env.type} has no dirigent-saga-id header")
        return env.saga_id
    try:
        saga_id = start.saga_id_for(event)
    except _ID_ERRORS as exc:
        raise DecodeError(f"saga {start.name} cannot derive a saga id: {exc!r}") from exc
    if not saga_id:
        raise DecodeError(f"saga {start.name} derived an empty saga id from {env.type}")
    return saga_id


def wait_saga_id(saga: SagaDefinition, step: Step, event: Event) -> str:
    """The saga an awaited event names through the wait's correlation (``DecodeError``
    naming saga and step if it cannot be read or names no saga)."""
    assert step.awaits is not None
    try:
        saga_id = step.awaits.saga_id_of(event)
    except _ID_ERRORS as exc:
        raise DecodeError(
            f"saga {saga.name}, step {step.name}: cannot correlate {event.event_type}: {exc!r}"
        ) from exc
    if not isinstance(saga_id, str) or not saga_id:
        raise DecodeError(
            f"saga {saga.name}, step {step.name}: {event.event_type} correlates to "
            f"{saga_id!r}, not a saga id"
        )
    return saga_id


def route_timer(timer: Timer, topology: Topology) -> Routed | None:
    definition = topology.by_name.get(timer.saga_type)
    if definition is None:
        return None
    return Routed(timer.saga_id, TimerFired(timer), definition)
