"""The step vocabulary of the saga DSL: steps, compensations, retry policies, groups.

A saga is a module-level value built with :func:`define_saga`; it is validated when it
is built and never changes afterwards (no registries, no import side effects).

Four shapes of step share one ``Step`` value:

- a **command step** sends ``command(data)`` to ``topic`` and waits for a reply;
- a **read-only** command step (``read_only=True``) changes nothing, so it has no
  compensation and sends nothing when the saga compensates;
- the **initiating transaction** (:func:`initiating`) is what the start event already
  did: it only has a compensation, counts as done when the saga starts, and is undone
  last;
- a **wait** (:func:`wait_for`) sends nothing and waits for a business event correlated
  to the saga, with a timeout that fails the step or lets the saga continue.

Any step or parallel group may carry ``when=``: a predicate over the saga data,
evaluated when the step is reached; a false one records the step as SKIPPED.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dirigent.events import Event

__all__ = [
    "Awaits",
    "CommandBuilder",
    "Compensation",
    "Condition",
    "DataUpdater",
    "OnTimeout",
    "ParallelGroup",
    "RetryPolicy",
    "Step",
    "StepKind",
    "initiating",
    "parallel",
    "wait_for",
]

CommandBuilder = Callable[[Any], Event]
"""Builds a command from the saga data (the saga's data model, or a mapping):
``lambda d: ReserveStock(order_id=d.order_id)``."""

DataUpdater = Callable[[Any, Event], Any]
"""Returns new saga data from the old data and a reply; must not mutate its input.

With a data model it receives and returns the model (``d.model_copy(update=...)``);
otherwise a dict copy in, a mapping out."""

Condition = Callable[[Any], bool]
"""``when=``: whether a step runs, from the saga data when the step is reached."""

Correlation = str | Callable[[Event], str]
"""How a waited-for event names its saga: a field holding the saga id, or a function."""


class StepKind(StrEnum):
    """Where a step sits relative to the point of no return."""

    COMPENSATABLE = "compensatable"  # before the pivot; undone by its compensation
    PIVOT = "pivot"  # the go/no-go step; once it succeeds the saga only moves forward
    RETRIABLE = "retriable"  # after the pivot; retried until it succeeds or the policy ends


def _names(types: tuple[type[Event], ...]) -> frozenset[str]:
    # Anything that is not an Event type is left out here and rejected by validation,
    # which names the saga and the step.
    return frozenset(n for t in types if isinstance(n := getattr(t, "event_type", None), str))


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often a command is re-sent after a failure reply or a timeout.

    ``max_attempts`` counts the first try; ``None`` retries without bound (usual for
    retriable steps after the pivot), except that no attempt starts after the saga's
    deadline when it has one (the step then ends as its last attempt did). The delay
    before attempt ``n + 1`` is drawn with full jitter from
    ``[0, min(cap, base * 2 ** (n - 1))]``; the engine derives the random fraction from
    the saga id, step and attempt, so replays are identical.
    Failure replies whose type is in ``non_retryable`` end the step at once.

    Example::

        RetryPolicy(max_attempts=5, backoff_base_s=0.5, backoff_cap_s=30,
                    non_retryable=(CardDeclined,))
    """

    max_attempts: int | None = 1
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

    def allows_retry(
        self,
        attempt: int,
        failure_type: str | None,
        *,
        now: float = 0.0,
        deadline_at: float | None = None,
    ) -> bool:
        """Whether another attempt may follow failed attempt ``attempt`` at ``now``."""
        if failure_type is not None and failure_type in self.non_retryable_types:
            return False
        if self.max_attempts is None:
            return deadline_at is None or now < deadline_at
        return attempt < self.max_attempts


NO_RETRY = RetryPolicy()
COMPENSATION_RETRY = RetryPolicy(max_attempts=5, backoff_base_s=1.0, backoff_cap_s=60.0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Compensation:
    """The semantic undo of a compensatable step.

    ``compensated`` are the reply types that mean "undone"; ``failure`` the reply types
    that mean the undo failed (retried by ``retry``; when retries run out the other
    compensations still run and the saga is PARKED with this one owed). Replies arrive
    on ``reply_topic``, by default ``<x>.events`` for ``<x>.commands``.
    """

    command: CommandBuilder
    topic: str
    compensated: tuple[type[Event], ...]
    failure: tuple[type[Event], ...] = ()
    timeout_s: float = 30.0
    retry: RetryPolicy = COMPENSATION_RETRY
    reply_topic: str = ""
    compensated_types: frozenset[str] = field(init=False, repr=False, compare=False)
    failure_types: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compensated_types", _names(self.compensated))
        object.__setattr__(self, "failure_types", _names(self.failure))
        if not self.reply_topic:
            object.__setattr__(self, "reply_topic", events_topic_for(self.topic))


class OnTimeout(StrEnum):
    """What a wait's timeout means."""

    FAIL = "fail"  # the step failed: compensate (before the pivot) or end FAILED (after)
    CONTINUE = "continue"  # go on without the event; the step is recorded TIMED_OUT


@dataclass(frozen=True, slots=True, kw_only=True)
class Awaits:
    """What makes a step a wait (see :func:`wait_for`)."""

    correlate: Correlation
    on_timeout: OnTimeout = OnTimeout.FAIL

    def saga_id_of(self, event: Event) -> str:
        """The saga id an event of this wait names (raises on a missing field)."""
        if callable(self.correlate):
            return self.correlate(event)
        return str(getattr(event, self.correlate))


def events_topic_for(command_topic: str) -> str:
    """Replies to ``<x>.commands`` arrive on ``<x>.events`` (the default reply topic)."""
    return f"{command_topic.removesuffix('.commands')}.events"


def participant_of(command_topic: str) -> str:
    """The service behind a command topic: ``shop.inventory.commands`` -> ``shop.inventory``."""
    return command_topic.removesuffix(".commands")


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One step of a saga, and what its replies mean.

    Example::

        Step(name="reserve_stock", command=lambda d: ReserveStock(order_id=d.order_id),
             topic="inventory.commands", success=(StockReserved,),
             failure=(OutOfStock,),
             compensation=Compensation(command=lambda d: ReleaseStock(order_id=d.order_id),
                                       topic="inventory.commands",
                                       compensated=(StockReleased,)))

    - ``topic``: where the command goes (for a wait: where the event arrives);
      ``reply_topic``: where replies arrive, by default ``<x>.events`` for ``<x>.commands``.
    - ``participant``: the service behind the topic, for circuit breakers; by default the
      topic without ``.commands`` (``shop.inventory.commands`` -> ``shop.inventory``).
    - ``on_success`` / ``on_failure``: data updaters run with a success / failure reply.
      A failure reply's ``reason`` field, when it has one, goes into the saga's reason.
    - ``read_only``: the step changes nothing, so it has no compensation (allowed on either
      side of the pivot).
    - ``when``: a condition over the saga data, evaluated when the step is reached; false
      means the step is SKIPPED (recorded, never sent, never compensated).
    - ``command=None`` is reserved for :func:`initiating` and :func:`wait_for`.
    """

    name: str
    command: CommandBuilder | None
    topic: str
    success: tuple[type[Event], ...]
    failure: tuple[type[Event], ...] = ()
    on_success: DataUpdater | None = None
    on_failure: DataUpdater | None = None
    compensation: Compensation | None = None
    kind: StepKind = StepKind.COMPENSATABLE
    read_only: bool = False
    when: Condition | None = None
    timeout_s: float = 30.0
    retry: RetryPolicy = NO_RETRY
    participant: str = ""
    reply_topic: str = ""
    awaits: Awaits | None = None
    success_types: frozenset[str] = field(init=False, repr=False, compare=False)
    failure_types: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "success_types", _names(self.success))
        object.__setattr__(self, "failure_types", _names(self.failure))
        if self.command is not None:
            if not self.participant:
                object.__setattr__(self, "participant", participant_of(self.topic))
            if not self.reply_topic:
                object.__setattr__(self, "reply_topic", events_topic_for(self.topic))

    @property
    def initiating(self) -> bool:
        """The start event's own transaction: nothing to send, only a compensation."""
        return self.command is None and self.awaits is None

    @property
    def sends(self) -> bool:
        """Whether the step sends a command (not initiating, not a wait)."""
        return self.command is not None

    @property
    def undoable(self) -> bool:
        """Whether the saga compensates this step when it may have happened."""
        return self.compensation is not None


def initiating(name: str, *, compensation: Compensation) -> Step:
    """The transaction that created the start event, as the saga's first step.

    It is counted as done when the saga starts, and its compensation runs last when the
    saga compensates (as Eventuate Tram's ``step().withCompensation(...)``).

    Example::

        initiating("create_order", compensation=Compensation(
            command=lambda d: RejectOrder(order_id=d.order_id),
            topic="orders.commands", compensated=(OrderRejected,)))
    """
    return Step(name=name, command=None, topic="", success=(), compensation=compensation)


def wait_for(
    name: str,
    *,
    event: type[Event] | tuple[type[Event], ...],
    topic: str,
    correlate: Correlation,
    timeout_s: float,
    on_timeout: OnTimeout = OnTimeout.FAIL,
    on_event: DataUpdater | None = None,
    when: Condition | None = None,
    kind: StepKind = StepKind.COMPENSATABLE,
) -> Step:
    """A step that sends nothing and waits for a business event about this saga.

    ``event``: the event type(s) that complete the wait, read from ``topic``;
    ``correlate``: the event's field that holds the saga id (or a function of the event);
    ``on_timeout``: FAIL (compensate before the pivot, FAILED after) or CONTINUE (the
    saga goes on; the step is TIMED_OUT). An event that arrives before the saga reaches
    the wait is kept and completes the wait when it is reached. ``kind=PIVOT`` makes the
    event the point of no return. A wait is read-only: it is never compensated.

    Example::

        wait_for("payment_received", event=PaymentReceived, topic="payments.events",
                 correlate="order_id", timeout_s=3600, on_timeout=OnTimeout.FAIL)
    """
    events = event if isinstance(event, tuple) else (event,)
    return Step(
        name=name,
        command=None,
        topic=topic,
        reply_topic=topic,
        success=events,
        on_success=on_event,
        read_only=True,
        when=when,
        timeout_s=timeout_s,
        kind=kind,
        awaits=Awaits(correlate=correlate, on_timeout=OnTimeout(on_timeout)),
    )


@dataclass(frozen=True, slots=True)
class ParallelGroup:
    """Steps sent together; the saga moves on when all of them succeed (or are skipped).

    If one fails, no sibling is retried any more; siblings still in flight are waited
    for (until their reply or their timeout), then every sibling that succeeded is
    compensated, in reverse declaration order, before the earlier steps. ``when``
    applies to the whole group (each step may have its own as well).
    """

    name: str
    steps: tuple[Step, ...]
    when: Condition | None = None


def parallel(name: str, *steps: Step, when: Condition | None = None) -> ParallelGroup:
    """A fan-out of ``steps`` that joins when all succeed: ``parallel("book", a, b, c)``."""
    return ParallelGroup(name, tuple(steps), when)


Unit = tuple[Step, ...]


def flatten(items: Sequence[Step | ParallelGroup]) -> tuple[Unit, ...]:
    """The saga's units in order: a plain step is a unit of one."""
    return tuple(i.steps if isinstance(i, ParallelGroup) else (i,) for i in items)


def unit_conditions(items: Sequence[Step | ParallelGroup]) -> tuple[Condition | None, ...]:
    """Each unit's group-level ``when`` (``None`` for plain steps and unconditional groups)."""
    return tuple(i.when if isinstance(i, ParallelGroup) else None for i in items)


def index_steps(units: tuple[Unit, ...]) -> Mapping[str, Step]:
    return {s.name: s for unit in units for s in unit}
