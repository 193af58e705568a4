"""What goes into the engine (inputs) and what comes out (a ``Decision``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from dirigent.events import Event
from dirigent.saga.state import SagaState, SagaStatus, SagaTrace

__all__ = [
    "AdminAction",
    "AdminRequested",
    "Command",
    "Decision",
    "EventReceived",
    "Input",
    "Phase",
    "Timer",
    "TimerFired",
    "TimerKind",
    "Transition",
]


class Phase(StrEnum):
    FORWARD = "forward"
    COMPENSATION = "compensation"


class TimerKind(StrEnum):
    STEP_TIMEOUT = "step_timeout"
    RETRY = "retry"
    SAGA_DEADLINE = "saga_deadline"


@dataclass(frozen=True, slots=True)
class EventReceived:
    """An event or reply consumed from Kafka, with its envelope's ids.

    ``trace``: the trace context a saga started by this event keeps (the coordinator
    sets it for a start event when there is one).
    """

    message_id: str
    event: Event
    causation_id: str | None = None
    saga_id: str | None = None
    trace: SagaTrace | None = None

    @property
    def event_type(self) -> str:
        return self.event.event_type


@dataclass(frozen=True, slots=True)
class Timer:
    """A timer the store keeps until ``due_at`` (epoch seconds), then feeds back in.

    ``timer_id`` is deterministic, so setting the same timer twice is harmless.
    ``attempt`` is the attempt the timer belongs to (for ``RETRY``: the one to send).
    """

    timer_id: str
    saga_id: str
    saga_type: str
    kind: TimerKind
    due_at: float
    step: str | None = None
    phase: Phase = Phase.FORWARD
    attempt: int = 0

    def to_json(self) -> bytes:
        doc = [
            self.timer_id,
            self.saga_id,
            self.saga_type,
            self.kind.value,
            self.due_at,
            self.step,
            self.phase.value,
            self.attempt,
        ]
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Timer:
        tid, sid, stype, kind, due, step, phase, attempt = json.loads(raw)
        return cls(tid, sid, stype, TimerKind(kind), due, step, Phase(phase), attempt)


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A timer came due (the coordinator passes back the ``Timer`` it stored)."""

    timer: Timer


class AdminAction(StrEnum):
    """What an operator can ask of one saga (``dirigent saga <action> ID``)."""

    RETRY = "retry"  # FAILED or PARKED: send the failed or unknown step again
    COMPENSATE = "compensate"  # before the pivot succeeded: undo what may have happened
    ABORT = "abort"  # end it FAILED now, sending nothing
    RESUME = "resume"  # PARKED: re-send the unknown step, or the compensations still owed
    MIGRATE = "migrate"  # move it to the newest definition version now (not on its next input)


@dataclass(frozen=True, slots=True)
class AdminRequested:
    """An operator's request, consumed from the admin topic like every other input."""

    request_id: str
    action: AdminAction
    who: str
    why: str
    step: str | None = None

    @property
    def message_id(self) -> str:
        return self.request_id


Input = EventReceived | TimerFired | AdminRequested


@dataclass(frozen=True, slots=True)
class Command:
    """A command to produce: ``event`` to ``topic`` with key ``key`` (= saga id).

    ``command_id`` is deterministic (saga id, step, phase, and the attempt that first
    used it): use it as the message id. A re-send after a timeout keeps the id, so the
    participant answers it from its idempotency store instead of applying it twice.

    ``timeout_timer_id``/``timeout_s``: the step timeout armed for this command; the
    coordinator re-arms it when the broker acknowledges the command, so the timeout runs
    from the send, not from the decision.
    """

    command_id: str
    saga_id: str
    saga_type: str
    step: str
    phase: Phase
    attempt: int
    topic: str
    key: str
    participant: str
    event: Event
    timeout_timer_id: str | None = None
    timeout_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Transition:
    """The audit record of one applied input (``dirigent.saga.transitions``)."""

    saga_id: str
    saga_type: str
    version: int
    from_status: SagaStatus | None
    to_status: SagaStatus
    step: str | None
    cause: str  # "start", "reply:<event type>", "event:<event type>", "timer:<kind>"
    reason: str | None
    at: float
    skipped: tuple[str, ...] = ()  # steps whose condition was false in this change
    definition_version: int = 1
    commands: tuple[str, ...] = ()  # "step/phase#attempt type (command id)" of each sent


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer to one input.

    ``state is None`` means the input was ignored (``ignored`` says why) and nothing is
    to be written; otherwise persist ``state``, send ``commands``, add ``timers`` and
    remove ``cancel_timers`` atomically, and publish ``transition``.
    """

    state: SagaState | None
    commands: tuple[Command, ...] = ()
    timers: tuple[Timer, ...] = ()
    cancel_timers: tuple[str, ...] = ()
    transition: Transition | None = None
    ignored: str | None = None

    @property
    def applied(self) -> bool:
        return self.state is not None
