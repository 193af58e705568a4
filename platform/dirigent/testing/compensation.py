"""Fail every step of a saga in turn and check what gets compensated, and in which order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dirigent.events import Event
from dirigent.saga import Command, SagaDefinition, SagaStatus, Step, StepKind, StepStatus
from dirigent.testing.harness import SagaHarness

__all__ = [
    "CompensationCase",
    "CompensationReport",
    "ScriptedReply",
    "assert_compensates_every_step",
    "check_compensations",
]

ScriptedReply = Event | Callable[[Event], Event]
"""A reply, or a function from the command it answers to the reply."""

_MAX_STEPS = 10_000


@dataclass(frozen=True, slots=True)
class CompensationCase:
    """What happened when ``failed_step`` failed."""

    failed_step: str
    expected: tuple[str, ...]
    actual: tuple[str, ...]
    expected_status: SagaStatus
    status: SagaStatus
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.expected == self.actual and self.expected_status == self.status

    def __str__(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        line = f"{mark} {self.failed_step} fails -> {self.status}, compensated {list(self.actual)}"
        if not self.ok:
            line += f"; expected {self.expected_status}, compensated {list(self.expected)}"
        return line


@dataclass(frozen=True, slots=True)
class CompensationReport:
    saga: str
    cases: tuple[CompensationCase, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.cases)

    def __str__(self) -> str:
        return f"saga {self.saga!r}:\n" + "\n".join(f"  {c}" for c in self.cases)


def check_compensations(
    definition: SagaDefinition,
    start_event: Event,
    *,
    success_replies: Mapping[str, ScriptedReply],
    compensation_replies: Mapping[str, ScriptedReply],
    failure_replies: Mapping[str, ScriptedReply] | None = None,
) -> CompensationReport:
    """For every step: run the saga, succeed what comes before, fail that step, and record.

    A step fails with its ``failure_replies`` entry on every attempt, or by timing out
    when it has none (then its outcome is unknown: a compensatable step is compensated
    too, a pivot or later step parks the saga). Parallel siblings succeed before the
    failing one.
    """
    cases = [
        _run_case(
            definition,
            start_event,
            name,
            success_replies,
            compensation_replies,
            failure_replies or {},
        )
        for name in definition.steps
    ]
    return CompensationReport(definition.name, tuple(cases))


def assert_compensates_every_step(
    definition: SagaDefinition,
    start_event: Event,
    *,
    success_replies: Mapping[str, ScriptedReply],
    compensation_replies: Mapping[str, ScriptedReply],
    failure_replies: Mapping[str, ScriptedReply] | None = None,
) -> CompensationReport:
    """:func:`check_compensations`, raising ``AssertionError`` with the report on a mismatch.

    Example::

        assert_compensates_every_step(
            order_fulfilment, OrderPlaced(order_id="o-1", ...),
            success_replies={"reserve_stock": StockReserved(order_id="o-1"), ...},
            compensation_replies={"reserve_stock": StockReleased(order_id="o-1"), ...},
        )
    """
    report = check_compensations(
        definition,
        start_event,
        success_replies=success_replies,
        compensation_replies=compensation_replies,
        failure_replies=failure_replies,
    )
    if not report.ok:
        raise AssertionError(str(report))
    return report


def _expected(
    definition: SagaDefinition, failed: str, *, timed_out: bool
) -> tuple[tuple[str, ...], SagaStatus]:
    """What the engine's outcome rules promise when ``failed`` fails.

    A failure reply means the step did not happen; a timeout means it may have: a timed
    out compensatable step is compensated too, and a timed out pivot or later step parks
    the saga (it is never compensated blindly).
    """
    step = definition.steps[failed]
    if step.kind is not StepKind.COMPENSATABLE and timed_out:
        return (), SagaStatus.PARKED
    if step.kind is StepKind.RETRIABLE:
        return (), SagaStatus.FAILED
    done: list[str] = []
    for unit in definition.units[: definition.unit_of[failed] + 1]:
        done += [
            s.name
            for s in unit
            if (s.name != failed or timed_out) and s.kind is StepKind.COMPENSATABLE
        ]
    return tuple(reversed(done)), SagaStatus.COMPENSATED


def _resolve(reply: ScriptedReply, command: Command) -> Event:
    return reply if isinstance(reply, Event) else reply(command.event)


def _lookup(replies: Mapping[str, ScriptedReply], step: str, what: str) -> ScriptedReply:
    if step not in replies:
        raise ValueError(f"no {what} reply given for step {step!r}")
    return replies[step]


def _run_case(
    definition: SagaDefinition,
    start_event: Event,
    failed: str,
    success: Mapping[str, ScriptedReply],
    compensated: Mapping[str, ScriptedReply],
    failures: Mapping[str, ScriptedReply],
) -> CompensationCase:
    h = SagaHarness(definition)
    h.start(start_event)
    for _ in range(_MAX_STEPS):
        if h.state.status.settled:
            break
        _act(h, definition.steps[failed], success, compensated, failures)
    expected, expected_status = _expected(definition, failed, timed_out=failed not in failures)
    return CompensationCase(
        failed, expected, tuple(h.compensations()), expected_status, h.status, h.reason
    )


def _act(
    h: SagaHarness,
    failed: Step,
    success: Mapping[str, ScriptedReply],
    compensated: Mapping[str, ScriptedReply],
    failures: Mapping[str, ScriptedReply],
) -> None:
    """One move: answer an awaited command (siblings first), or let time pass."""
    awaiting = sorted(h.awaiting(), key=lambda c: c.step == failed.name)
    if not awaiting:
        h.fire_next_timer()
        return
    command = awaiting[0]
    if command.phase == "compensation":
        h.reply_to(command, _resolve(_lookup(compensated, command.step, "compensation"), command))
    elif command.step != failed.name:
        h.reply_to(command, _resolve(_lookup(success, command.step, "success"), command))
    elif failed.name in failures:
        h.reply_to(command, _resolve(failures[failed.name], command))
    else:
        h.fire_next_timer()
    if h.step_status(failed.name) is StepStatus.SUCCEEDED:
        raise AssertionError(f"step {failed.name!r} succeeded while the check was failing it")
