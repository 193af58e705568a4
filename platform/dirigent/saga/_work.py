"""The engine's scratch pad: a mutable copy of one saga's state plus the outputs so far.

One ``Work`` lives for one input; ``finish()`` freezes it into a ``Decision``. Nothing
here does I/O or reads a clock.
"""

from __future__ import annotations

from typing import Any

from dirigent.saga._ids import command_id, deadline_timer_id, jitter_fraction, timer_id
from dirigent.saga.decision import Command, Decision, Phase, Timer, TimerKind, Transition
from dirigent.saga.definition import SagaDefinition
from dirigent.saga.state import PENDING_STEP, SagaState, SagaStatus, StepState, StepStatus
from dirigent.saga.steps import Compensation, Step

__all__ = ["Work", "compensation_of"]


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
        "from_status",
        "note",
        "now",
        "reason",
        "saga_id",
        "started_at",
        "status",
        "step_name",
        "steps",
        "timers",
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
        self.commands: list[Command] = []
        self.timers: list[Timer] = []
        self.cancels: list[str] = []

    def step(self, name: str) -> StepState:
        return self.steps.get(name, PENDING_STEP)

    def send(self, step: Step, phase: Phase, attempt: int) -> None:
        """Build and queue the command for ``attempt``, and arm its timeout."""
        if phase is Phase.FORWARD:
            event, topic, timeout_s = step.command(self.data), step.topic, step.timeout_s
        else:
            comp = compensation_of(step)
            event, topic, timeout_s = comp.command(self.data), comp.topic, comp.timeout_s
        cid = command_id(self.saga_id, step.name, phase.value, attempt)
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
                step.participant,
                event,
            )
        )
        self.set_timer(TimerKind.STEP_TIMEOUT, step.name, phase, attempt, self.now + timeout_s)
        prev = self.step(step.name)
        if phase is Phase.FORWARD:
            self.steps[step.name] = StepState(StepStatus.RUNNING, attempt, cid, 0)
        else:
            self.steps[step.name] = StepState(StepStatus.COMPENSATING, prev.attempt, cid, attempt)

    def schedule_retry(self, step: Step, phase: Phase, failed_attempt: int) -> None:
        """Arm the backoff timer that sends attempt ``failed_attempt + 1``."""
        policy = step.retry if phase is Phase.FORWARD else compensation_of(step).retry
        nxt = failed_attempt + 1
        fraction = jitter_fraction(self.saga_id, step.name, phase.value, nxt)
        due = self.now + policy.delay_s(failed_attempt, fraction)
        self.set_timer(TimerKind.RETRY, step.name, phase, nxt, due)
        prev = self.step(step.name)
        if phase is Phase.FORWARD:
            self.steps[step.name] = StepState(StepStatus.RETRY_WAIT, failed_attempt, None, 0)
        else:
            status = StepStatus.COMPENSATION_RETRY_WAIT
            self.steps[step.name] = StepState(status, prev.attempt, None, failed_attempt)

    def set_timer(self, kind: TimerKind, step: str, phase: Phase, attempt: int, due: float) -> None:
        tid = timer_id(self.saga_id, step, phase.value, kind.value, attempt)
        self.timers.append(
            Timer(tid, self.saga_id, self.defn.name, kind, due, step, phase, attempt)
        )

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
        )
        return Decision(
            state, tuple(self.commands), tuple(self.timers), tuple(self.cancels), transition
        )


def compensation_of(step: Step) -> Compensation:
    """The step's compensation; validation guarantees one on every compensatable step."""
    if step.compensation is None:  # pragma: no cover - excluded by validation
        raise AssertionError(f"step {step.name!r} has no compensation")
    return step.compensation
