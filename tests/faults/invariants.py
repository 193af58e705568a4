"""The invariants every fault run ends with, checked from the effect ledger and the store.

Per saga (saga id = order id):

- **double**: a forward effect (reserve, authorize, ship, approve) applied more than
  once for the saga, whatever the command ids;
- **leaked**: a COMPENSATED saga holding an effect it did not undo (a reservation or an
  authorisation never released or voided, or a shipment/approval at all: a compensated
  saga must not have passed its pivot); a FAILED or PARKED saga holding an undone
  compensatable effect that its reason does not name as owed (unless it stopped at or
  after the pivot, whose outcome an operator must settle first);
- **stuck**: not at an end (COMPLETED, COMPENSATED, FAILED, PARKED) by the deadline;
- **lost**: a start event produced whose saga does not exist anywhere;
- **misplaced**: a saga whose state lives on a partition other than its id's (murmur2);
- **completed**: a COMPLETED saga must hold every forward effect exactly once, the ones
  its data names, and nothing undone;
- **reason**: a FAILED or PARKED saga must say why;
- **status**: a status this audit does not know fails loudly;
- **outcome** (only where a scenario asks, ``expect_outcomes``): a saga that must
  complete (say, a start event from a misrouting producer) did not.

A compensation that found nothing to undo is allowed and only counted (``noop_undos``).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dirigent.store.saga_store import SagaStore
from dirigent.transport.reader import partition_for
from tests.heavy.harness import ENDS, IN_FLIGHT, PARTITIONS
from tests.heavy.participants import FORWARD, NOTHING, UNDO, Effect

COMPENSATABLE = {
    "reserve": ("reserve_stock", "release"),
    "authorize": ("authorize_payment", "void"),
}
DATA_KEYS = {"reserve": "reservation_id", "authorize": "authorization_id", "ship": "shipment_id"}
PIVOT = ("ship", "approve")
PIVOT_AND_AFTER = ("schedule_shipment", "approve_order")  # step names
CATEGORIES = ("lost", "stuck", "double", "leaked", "completed", "misplaced", "reason",
              "status", "outcome", "dead_letters", "process")  # fmt: skip


@dataclass(frozen=True)
class SagaView:
    """What the audit needs of a saga's stored state, read leniently (format may evolve)."""

    saga_id: str
    partition: int
    status: str
    reason: str
    data: dict[str, Any]

    @classmethod
    def parse(cls, saga_id: str, partition: int, raw: str | bytes) -> SagaView:
        doc = json.loads(raw)
        status = doc.get("s") or doc.get("status")
        if not isinstance(status, str):
            raise AssertionError(f"saga {saga_id}: no status in its state document {doc!r:.300}")
        reason = doc.get("r") or doc.get("reason") or ""
        return cls(saga_id, partition, status, str(reason), dict(doc.get("d") or {}))


async def load_views(store: SagaStore, ids: Sequence[str]) -> dict[str, SagaView]:
    """Each saga from its own partition; the missing ones are looked for everywhere else."""
    by_part: dict[int, list[str]] = defaultdict(list)
    for sid in ids:
        by_part[partition_for(sid, PARTITIONS)].append(sid)
    out: dict[str, SagaView] = {}
    for p, group in by_part.items():
        out |= await _load(store, p, group)
    missing = [sid for sid in ids if sid not in out]
    for p in range(PARTITIONS):
        if missing:
            out |= await _load(store, p, missing)
            missing = [sid for sid in missing if sid not in out]
    return out


async def _load(store: SagaStore, partition: int, ids: list[str]) -> dict[str, SagaView]:
    rows = await store.load_many(partition, ids)
    return {
        sid: SagaView.parse(sid, partition, row.state_json)
        for sid, row in zip(ids, rows, strict=True)
        if row is not None
    }


@dataclass
class Report:
    """Violations by category (each line names the saga), plus the figures of the run."""

    sagas: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    violations: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    counts: Counter[str] = field(default_factory=Counter)  # violating effects/sagas
    figures: dict[str, Any] = field(default_factory=dict)

    def add(self, category: str, line: str, n: int = 1) -> None:
        assert category in CATEGORIES, category
        self.violations[category].append(line)
        self.counts[category] += n

    @property
    def ok(self) -> bool:
        return not any(self.violations.values())

    def render(self, examples: int = 8) -> str:
        head = [f"{self.sagas} sagas, statuses {dict(self.statuses)}, figures {self.figures}"]
        for cat in CATEGORIES:
            lines = self.violations.get(cat, [])
            if lines:
                head.append(f"{cat}: {self.counts[cat]} ({len(lines)} lines)")
                head += [f"    {line}" for line in lines[:examples]]
        return "\n".join(head)


def audit(ids: Sequence[str], views: dict[str, SagaView], effects: Iterable[Effect]) -> Report:
    """Every invariant over every saga started (``ids``) and every effect applied."""
    report = Report(sagas=len(ids))
    by_saga: dict[str, list[Effect]] = defaultdict(list)
    for e in effects:
        by_saga[e.saga_id].append(e)
    for sid in sorted(set(by_saga) - set(ids)):
        report.add("leaked", f"{sid}: effects for a saga never started: {_kinds(by_saga[sid])}")
    report.figures["noop_undos"] = sum(1 for e in _all(by_saga) if e.kind.endswith(NOTHING))
    for sid in ids:
        view = views.get(sid)
        if view is None:
            report.add(
                "lost", f"{sid}: started, but no saga exists (effects {_kinds(by_saga[sid])})"
            )
            continue
        report.statuses[view.status] += 1
        _audit_saga(report, view, by_saga[sid])
    return report


def expect_outcomes(report: Report, views: dict[str, SagaView], expected: dict[str, str]) -> None:
    """Sagas whose end the scenario knows (saga id -> status) must end exactly so."""
    for sid, status in expected.items():
        got = views[sid].status if sid in views else "no saga"
        if got != status:
            reason = views[sid].reason if sid in views else ""
            report.add("outcome", f"{sid}: {got} (reason {reason!r}), expected {status}")


def _all(by_saga: dict[str, list[Effect]]) -> Iterable[Effect]:
    for effects in by_saga.values():
        yield from effects


def _kinds(effects: Sequence[Effect]) -> dict[str, int]:
    return dict(Counter(e.kind for e in effects))


def _audit_saga(report: Report, view: SagaView, effects: list[Effect]) -> None:
    sid, status = view.saga_id, view.status
    if view.partition != (home := partition_for(sid, PARTITIONS)):
        report.add(
            "misplaced", f"{sid}: state on partition {view.partition}, its id maps to {home}"
        )
    forward = {k: [e for e in effects if e.kind == k] for k in FORWARD}
    undone = {e.ref for e in effects if e.kind in UNDO}
    for kind, applied in forward.items():
        if len(applied) > 1:
            cmds = [e.command_id for e in applied]
            report.add("double", f"{sid} ({status}): {kind} applied {len(applied)} times, "
                       f"commands {cmds}", n=len(applied) - 1)  # fmt: skip
    if status in IN_FLIGHT:
        report.add("stuck", f"{sid}: still {status} at the deadline, effects {_kinds(effects)}")
    elif status not in ENDS:
        report.add("status", f"{sid}: unknown status {status!r} (reason {view.reason!r})")
    elif status == "COMPLETED":
        _audit_completed(report, view, forward, undone)
    elif status == "COMPENSATED":
        _audit_compensated(report, view, forward, undone)
    else:
        _audit_parked(report, view, forward, undone)


def _audit_completed(
    report: Report, view: SagaView, forward: dict[str, list[Effect]], undone: set[str]
) -> None:
    sid = view.saga_id
    for kind, applied in forward.items():
        if not applied:
            report.add("completed", f"{sid}: COMPLETED without a {kind} effect")
        elif kind in DATA_KEYS and view.data.get(DATA_KEYS[kind]) not in {e.ref for e in applied}:
            report.add("completed", f"{sid}: COMPLETED on {kind} {view.data.get(DATA_KEYS[kind])!r}"
                       f", the participant applied {[e.ref for e in applied]}")  # fmt: skip
    if undone:
        report.add("completed", f"{sid}: COMPLETED but undone: {sorted(undone)}")


def _audit_compensated(
    report: Report, view: SagaView, forward: dict[str, list[Effect]], undone: set[str]
) -> None:
    sid = view.saga_id
    for kind in PIVOT:
        for e in forward[kind]:
            report.add("leaked", f"{sid}: COMPENSATED after its pivot: {kind} {e.ref} applied")
    for kind in COMPENSATABLE:
        for e in forward[kind]:
            if e.ref not in undone:
                report.add("leaked", f"{sid}: COMPENSATED, {kind} {e.ref} never undone "
                           f"(reason {view.reason!r})")  # fmt: skip


def _audit_parked(
    report: Report, view: SagaView, forward: dict[str, list[Effect]], undone: set[str]
) -> None:
    sid = view.saga_id
    if not view.reason.strip():
        report.add("reason", f"{sid}: {view.status} without a reason")
    if forward["ship"] or any(n in view.reason for n in PIVOT_AND_AFTER):
        # at or past the pivot (done or unknown): what is owed is resolving it, so the
        # earlier effects are rightly held until an operator decides
        return
    for kind, names in COMPENSATABLE.items():
        for e in forward[kind]:
            if e.ref not in undone and not any(n in view.reason for n in names):
                report.add("leaked", f"{sid}: {view.status}, {kind} {e.ref} never undone and "
                           f"not named as owed in its reason {view.reason!r}")  # fmt: skip
