"""The engine's scratch pad: a mutable copy of one saga's state plus the outputs so far.

One ``Work`` lives for one input; ``finish()`` freezes it into a ``Decision``. Nothing
here does I/O or reads a clock.
"""

from __future__ import annotations

from dataclasses import replace
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
        """Queue the command for ``attempt`` and arm its timeout.

        After a timeout the re-send carries the *same* command id (the first one may
        have been applied, and the participant's idempotency answers the repeat); only
        after a definitive failure reply does the next attempt get a new id.
        """
        prev = self.step(step.name)
        if phase is Phase.FORWARD:
            event, topic, timeout_s = step.command(self.data), step.topic, step.timeout_s
            again = prev.status is StepStatus.RETRY_WAIT and prev.unknown
        else:
            comp = compensation_of(step)
            event, topic, timeout_s = comp.command(self.data), comp.topic, comp.timeout_s
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
                step.participant,
                event,
                timeout_timer_id=timer.timer_id,
                timeout_s=timeout_s,
            )
        )
        unknown = again  # still unknown until a reply says otherwise
        if phase is Phase.FORWARD:
            self.steps[step.name] = StepState(StepStatus.RUNNING, attempt, cid, 0, cid, unknown)
        else:
            self.steps[step.name] = replace(
                prev, status=StepStatus.COMPENSATING, command_id=cid,
                compensation_attempt=attempt, unknown=unknown,
            )  # fmt: skip

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
