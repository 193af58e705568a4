"""The engine's scratch pad: a mutable copy of one saga's state plus the outputs so far.

One ``Work`` lives for one input; ``finish()`` freezes it into a ``Decision``. Nothing
here does I/O or reads a clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ValidationError

from dirigent.errors import SagaCodeError
from dirigent.events import Event
from dirigent.saga._ids import command_id, deadline_timer_id, jitter_fraction, timer_id
from dirigent.saga.decision import Command, Decision, Phase, Timer, TimerKind, Transition
from dirigent.saga.definition import SagaDefinition
from dirigent.saga.state import PENDING_STEP, SagaState, SagaStatus, StepState, StepStatus
from dirigent.saga.steps import Compensation, Step, participant_of

__all__ = ["Work", "compensation_of", "initial_data"]


class Work:
    __slots__ = (
        "base_version",
        "cancels",
        "cause",
        "ci",
        "commands",
        "cq",
        "cursor",
        "data",
        "deadline_at",
        "defn",
        "early",
        "from_status",
        "note",
        "now",
        "reason",
        "saga_id",
        "skipped",
        "started_at",
        "status",
        "step_name",
        "steps",
        "timers",
        "trace",
        "view_cache",
    )

    def __init__(self, defn: SagaDefinition, state: SagaState, now: float, cause: str) -> None:
        self.defn = defn
        self.now = now
        self.cause = cause
        self.step_name: str | None = None
        self.note: str | None = None
        self.from_status: SagaStatus | None = state.status
        self.saga_id = state.saga_id
        self.base_version = state.version
        self.status = state.status
        self.reason = state.reason
        self.cursor = state.cursor
        self.data: dict[str, Any] | Any = state.data
        self.steps = dict(state.steps)
        self.cq = state.compensation_queue
        self.ci = state.compensation_index
        self.started_at = state.started_at
        self.deadline_at = state.deadline_at
        self.early = dict(state.early)
        self.trace = state.trace
        self.commands: list[Command] = []
        self.timers: list[Timer] = []
        self.cancels: list[str] = []
        self.skipped: list[str] = []
        self.view_cache: Any = None

    def step(self, name: str) -> StepState:
        return self.steps.get(name, PENDING_STEP)

    # -- the saga's own code: every call named, every result checked ---------------------

    def where(self, step: str | None) -> str:
        return f"saga {self.defn.name!r}" + (f", step {step!r}" if step else "")

    def call(self, step: str | None, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run saga code; anything it raises becomes a ``SagaCodeError`` naming it."""
        try:
            return fn(*args)
        except SagaCodeError:
            raise
        except Exception as exc:
            raise SagaCodeError(
                f"{self.where(step)}: {what} raised {type(exc).__name__}: {exc}"
            ) from exc

    def view(self) -> Any:
        """The saga data as saga code sees it: the data model, or a read-only mapping."""
        if self.view_cache is None:
            model = self.defn.data_model
            if model is None:
                self.view_cache = MappingProxyType(self.data)
            else:
                try:
                    self.view_cache = model.model_validate(self.data)
                except ValidationError as exc:
                    raise SagaCodeError(
                        f"{self.where(None)}: stored data is not a valid {model.__name__} "
                        f"(version {self.defn.version}): {exc}"
                    ) from exc
        return self.view_cache

    def build(self, step: Step, fn: Callable[[Any], Any], what: str) -> Event:
        event = self.call(step.name, what, fn, self.view())
        if not isinstance(event, Event):
            raise SagaCodeError(
                f"{self.where(step.name)}: {what} returned {type(event).__name__}, "
                "expected an Event"
            )
        return event

    def condition(self, name: str, fn: Callable[[Any], Any]) -> bool:
        verdict = self.call(name, "condition (when=)", fn, self.view())
        if not isinstance(verdict, bool):
            raise SagaCodeError(
                f"{self.where(name)}: condition (when=) returned {type(verdict).__name__}, "
                "expected bool"
            )
        return verdict

    def update(self, step: Step, fn: Callable[[Any, Event], Any], event: Event, what: str) -> None:
        """Replace the data with what the updater returns, validated against the model."""
        arg = self.view() if self.defn.data_model is not None else dict(self.data)
        out = self.call(step.name, what, fn, arg, event)
        self.data = coerce_data(self.defn, out, f"{self.where(step.name)}: {what}")
        self.view_cache = None

    def send(self, step: Step, phase: Phase, attempt: int) -> None:
        """Queue the command for ``attempt`` and arm its timeout.

        After a timeout the re-send carries the *same* command id (the first one may
        have been applied, and the participant's idempotency answers the repeat); only
        after a definitive failure reply does the next attempt get a new id.
        """
        prev = self.step(step.name)
        if phase is Phase.FORWARD:
            assert step.command is not None
            event = self.build(step, step.command, "command builder")
            topic, timeout_s, participant = step.topic, step.timeout_s, step.participant
            again = prev.status is StepStatus.RETRY_WAIT and prev.unknown
        else:
            comp = compensation_of(step)
            event = self.build(step, comp.command, "compensation builder")
            topic, timeout_s = comp.topic, comp.timeout_s
            same = comp.topic == step.topic and step.participant
            participant = step.participant if same else participant_of(comp.topic)
            again = prev.status is StepStatus.COMPENSATION_RETRY_WAIT and prev.unknown
        if again and prev.command_id is not None:
            cid = prev.command_id
        else:
            cid = command_id(self.saga_id, step.name, phase.value, attempt)
        timer = self.set_timer(
            TimerKind.STEP_TIMEOUT, step.name, phase, attempt, self.now + timeout_s
        )
        self.commands.append(
            Command(
                cid,
                self.saga_id,
                self.defn.name,
                step.name,
                phase,
                attempt,
                topic,
                self.saga_id,
                participant,
                event,
                timeout_timer_id=timer.timer_id,
                timeout_s=timeout_s,
            )
        )
        if self.trace is not None:  # the start of this attempt's span
            self.trace = self.trace.sent_at(step.name, self.now)
        unknown = again  # still unknown until a reply says otherwise
        if phase is Phase.FORWARD:
            self.steps[step.name] = StepState(StepStatus.RUNNING, attempt, cid, 0, cid, unknown)
        else:
            self.steps[step.name] = replace(
                prev, status=StepStatus.COMPENSATING, command_id=cid,
                compensation_attempt=attempt, unknown=unknown,
            )  # fmt: skip

    def begin_wait(self, step: Step) -> None:
        """Arm a wait's timeout; the step waits (RUNNING) with no command in flight."""
        due = self.now + step.timeout_s
        self.set_timer(TimerKind.STEP_TIMEOUT, step.name, Phase.FORWARD, 1, due)
        self.steps[step.name] = StepState(StepStatus.RUNNING, 1)
        if self.trace is not None:
            self.trace = self.trace.sent_at(step.name, self.now)

    def allows_retry(self, step: Step, phase: Phase, attempt: int, failure: str | None) -> bool:
        """Whether the policy allows another attempt now (unbounded ones stop at the
        saga's deadline in the forward phase; compensations are never cut short)."""
        if phase is Phase.FORWARD:
            return step.retry.allows_retry(
                attempt, failure, now=self.now, deadline_at=self.deadline_at
            )
        return compensation_of(step).retry.allows_retry(attempt, failure)

    def schedule_retry(
        self, step: Step, phase: Phase, failed_attempt: int, *, unknown: bool
    ) -> None:
        """Arm the backoff timer that sends attempt ``failed_attempt + 1``.

        ``unknown``: the failed attempt timed out (its re-send reuses the command id).
        """
        policy = step.retry if phase is Phase.FORWARD else compensation_of(step).retry
        nxt = failed_attempt + 1
        fraction = jitter_fraction(self.saga_id, step.name, phase.value, nxt)
        due = self.now + policy.delay_s(failed_attempt, fraction)
        self.set_timer(TimerKind.RETRY, step.name, phase, nxt, due)
        prev = self.step(step.name)
        status = (
            StepStatus.RETRY_WAIT if phase is Phase.FORWARD else StepStatus.COMPENSATION_RETRY_WAIT
        )
        self.steps[step.name] = replace(prev, status=status, unknown=unknown)

    def set_timer(
        self, kind: TimerKind, step: str, phase: Phase, attempt: int, due: float
    ) -> Timer:
        tid = timer_id(self.saga_id, step, phase.value, kind.value, attempt)
        timer = Timer(tid, self.saga_id, self.defn.name, kind, due, step, phase, attempt)
        self.timers.append(timer)
        return timer

    def set_deadline(self, due: float) -> None:
        tid = deadline_timer_id(self.saga_id)
        self.timers.append(Timer(tid, self.saga_id, self.defn.name, TimerKind.SAGA_DEADLINE, due))

    def cancel_timer(self, kind: TimerKind, step: str, phase: Phase, attempt: int) -> None:
        self.cancels.append(timer_id(self.saga_id, step, phase.value, kind.value, attempt))

    def cancel_deadline(self) -> None:
        if self.deadline_at is not None:
            self.cancels.append(deadline_timer_id(self.saga_id))

    def end(self, status: SagaStatus, reason: str | None) -> None:
        self.status = status
        if reason is not None:
            self.reason = reason
        self.cancel_deadline()

    def finish(self) -> Decision:
        state = SagaState(
            saga_id=self.saga_id,
            saga_type=self.defn.name,
            status=self.status,
            version=self.base_version + 1,
            data=self.data,
            steps=self.steps,
            cursor=self.cursor,
            reason=self.reason,
            started_at=self.started_at,
            updated_at=self.now,
            deadline_at=self.deadline_at,
            compensation_queue=self.cq,
            compensation_index=self.ci,
            definition_version=self.defn.version,
            early=self.early,
            trace=self.trace,
        )
        transition = Transition(
            self.saga_id,
            self.defn.name,
            state.version,
            self.from_status,
            self.status,
            self.step_name,
            self.cause,
            self.note or self.reason,
            self.now,
            skipped=tuple(self.skipped),
            definition_version=self.defn.version,
            commands=tuple(
                f"{c.step}/{c.phase}#{c.attempt} {c.event.event_type} ({c.command_id})"
                for c in self.commands
            ),
        )
        return Decision(
            state, tuple(self.commands), tuple(self.timers), tuple(self.cancels), transition
        )


def compensation_of(step: Step) -> Compensation:
    """The step's compensation; validation guarantees one on every compensatable step."""
    if step.compensation is None:  # pragma: no cover - excluded by validation
        raise AssertionError(f"step {step.name!r} has no compensation")
    return step.compensation


def coerce_data(defn: SagaDefinition, out: Any, what: str) -> dict[str, Any]:
    """Saga data in its stored (JSON) form, validated against the data model if any."""
    model = defn.data_model
    if model is None:
        if not isinstance(out, Mapping):
            raise SagaCodeError(f"{what} returned {type(out).__name__}, expected a mapping")
        return dict(out)
    if isinstance(out, BaseModel) and not isinstance(out, model):
        raise SagaCodeError(f"{what} returned {type(out).__name__}, expected {model.__name__}")
    raw = out.model_dump() if isinstance(out, BaseModel) else out
    if not isinstance(raw, Mapping):
        raise SagaCodeError(f"{what} returned {type(out).__name__}, expected {model.__name__}")
    try:
        return model.model_validate(raw).model_dump(mode="json")
    except ValidationError as exc:
        raise SagaCodeError(
            f"{what} returned data that is not a valid {model.__name__}: {exc}"
        ) from exc


def initial_data(defn: SagaDefinition, event: Event) -> dict[str, Any]:
    """The first saga data, from the start event (validated like every update)."""
    where = f"saga {defn.name!r}: initial_data"
    try:
        out = defn.initial_data(event)
    except Exception as exc:
        raise SagaCodeError(f"{where} raised {type(exc).__name__}: {exc}") from exc
    return coerce_data(defn, out, where)
