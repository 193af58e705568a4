"""Fail every step of a saga in turn and compare what happens with the author's table.

Example::

    assert_compensates_every_step(
        order_fulfilment, ORDER,
        expected={
            "reserve_stock": Outcome("COMPENSATED", "reserve_stock"),
            "authorize_payment": Outcome("COMPENSATED", "authorize_payment", "reserve_stock"),
            "schedule_shipment": Outcome("PARKED"),
            "approve_order": Outcome("PARKED"),
        },
        success_replies={"reserve_stock": RESERVED, ...},
        compensation_replies={"reserve_stock": StockReleased(order_id="o-1"), ...},
    )
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from dirigent.events import Event
from dirigent.saga import SagaDefinition
from dirigent.testing._drive import Replies, ScriptedReply, failable, run_case
from dirigent.testing._outcome import Outcome

__all__ = [
    "CompensationCase",
    "CompensationReport",
    "Outcome",
    "ScriptedReply",
    "assert_compensates_every_step",
    "check_compensations",
]


@dataclass(frozen=True, slots=True)
class CompensationCase:
    """One row of the report: ``step`` was failed (``how``), with what was expected
    (``None``: the table had no entry for it) and what happened (``actual``, ``reason``)."""

    step: str
    how: str
    expected: Outcome | None
    actual: Outcome
    reason: str | None

    @property
    def ok(self) -> bool:
        """Whether the saga ended as the table says."""
        return self.expected == self.actual


@dataclass(frozen=True, slots=True)
class CompensationReport:
    """Every case of one check, plus the table entries that fit no step that can fail
    (``stray``: each name and why), and the names of the steps that can (``steps``)."""

    saga: str
    cases: tuple[CompensationCase, ...]
    stray: tuple[tuple[str, str], ...] = ()
    steps: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every step ended as expected and every table entry named a step."""
        return not self.stray and all(c.ok for c in self.cases)

    @property
    def failures(self) -> list[str]:
        """The names of the rows that failed: steps, and table entries naming no step."""
        return [c.step for c in self.cases if not c.ok] + [name for name, _ in self.stray]

    def __str__(self) -> str:
        rows = [_Row(c.ok, c.step, c.how, _or(c.expected), str(c.actual), c.reason)
                for c in self.cases]  # fmt: skip
        rows += [_Row(False, name, "-", "(in the table)", why) for name, why in self.stray]
        bad = len(self.failures)
        head = f"saga {self.saga!r}, each step failed in turn: "
        head += f"{bad} of {len(rows)} FAIL" if bad else "all ok"
        text = head + "\n" + _render(rows)
        if self.stray:
            text += f"\n  the steps that can fail: {', '.join(self.steps)}"
        return text


def check_compensations(
    definition: SagaDefinition,
    start_event: Event,
    *,
    expected: Mapping[str, Outcome],
    success_replies: Mapping[str, ScriptedReply],
    compensation_replies: Mapping[str, ScriptedReply],
    failure_replies: Mapping[str, ScriptedReply] | None = None,
) -> CompensationReport:
    """For every step: start the saga, succeed what comes before, fail that step, record.

    ``expected`` maps each step name to the :class:`Outcome` the author expects when
    that step fails: the saga's status and the compensations sent, in order. A step
    missing from it, or an entry naming no step that can fail (an initiating step is
    done when the saga starts), is a failed row of the report.

    The reply maps are keyed by step name. ``success_replies`` answer the steps'
    commands (for a ``wait_for`` step: the event it waits for), ``compensation_replies``
    their compensations, ``failure_replies`` the step being failed, on every attempt; a
    step with no failure reply fails by staying silent until its attempts time out. A
    reply is an event, or a function from the command event it answers to the reply
    (:data:`ScriptedReply`). Parallel siblings of the failing step succeed before it
    fails; a step its ``when=`` skips is reported as skipped. A key naming no step that
    takes such a reply, a reply the check needs but is not given, or a scripted reply the
    engine ignores raises ``ValueError``; a table value that is not an ``Outcome`` raises
    ``TypeError``.
    """
    for name, outcome in expected.items():
        if not isinstance(outcome, Outcome):
            raise TypeError(
                f"expected[{name!r}] is {outcome!r}: write Outcome(status, *compensated_steps)"
            )
    replies = Replies.of(definition, success_replies, compensation_replies, failure_replies)
    steps = failable(definition)
    cases = []
    for name in steps:
        ran = run_case(definition, start_event, name, replies)
        cases.append(CompensationCase(name, ran.how, expected.get(name), ran.outcome, ran.reason))
    stray = tuple((name, _stray(definition, name)) for name in expected if name not in steps)
    return CompensationReport(definition.name, tuple(cases), stray, tuple(steps))


def assert_compensates_every_step(
    definition: SagaDefinition,
    start_event: Event,
    *,
    expected: Mapping[str, Outcome],
    success_replies: Mapping[str, ScriptedReply],
    compensation_replies: Mapping[str, ScriptedReply],
    failure_replies: Mapping[str, ScriptedReply] | None = None,
) -> CompensationReport:
    """:func:`check_compensations`, raising ``AssertionError`` with the report unless ok."""
    report = check_compensations(
        definition,
        start_event,
        expected=expected,
        success_replies=success_replies,
        compensation_replies=compensation_replies,
        failure_replies=failure_replies,
    )
    if not report.ok:
        raise AssertionError(str(report))
    return report


class _Row(NamedTuple):
    ok: bool
    step: str
    how: str
    expected: str
    actual: str
    reason: str | None = None


def _stray(definition: SagaDefinition, name: str) -> str:
    return "(initiating: cannot fail)" if name in definition.steps else "(no such step)"


def _or(outcome: Outcome | None) -> str:
    return "(not in the table)" if outcome is None else str(outcome)


def _render(rows: list[_Row]) -> str:
    """One aligned line per row, and the reason under a failed one."""
    cells = [("", "step", "failed by", "expected", "actual")]
    cells += [("ok" if r.ok else "FAIL", r.step, r.how, r.expected, r.actual) for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(4)]
    reasons = [None, *(r.reason if not r.ok else None for r in rows)]
    lines = []
    for line, reason in zip(cells, reasons, strict=True):
        padded = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        lines.append("  " + "  ".join([*padded, line[4]]))
        if reason is not None:
            lines.append(f"  {' ' * widths[0]}  reason: {reason}")
    return "\n".join(line.rstrip() for line in lines)
