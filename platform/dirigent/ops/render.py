"""Tables for operator commands (rich), kept apart from the logic and the CLI wiring."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from rich.table import Table

from dirigent.coordinator.version_check import InstancePlan
from dirigent.ops import dlt_render
from dirigent.ops.dlt import DeadLetter
from dirigent.ops.dlt_groups import FingerprintGroup
from dirigent.ops.dlt_scan import Found
from dirigent.ops.sagas import SagaView
from dirigent.saga.state import SagaStatus
from dirigent.store.saga_queries import IndexedSaga

__all__ = ["dead_letters_table", "groups_table", "saga_list_table", "saga_table", "steps_table"]

MESSAGE_WIDTH = 60


def dead_letters_table(letters: Sequence[DeadLetter], title: str, *, width: int = 80) -> Table:
    """Dead letters at ``width`` columns (see ``dirigent.ops.dlt_render``)."""
    return dlt_render.dead_letters_table([Found(d) for d in letters], title, width=width)


def groups_table(groups: Sequence[FingerprintGroup], title: str, *, width: int = 80) -> Table:
    """Fingerprint groups at ``width`` columns (see ``dirigent.ops.dlt_render``)."""
    return dlt_render.groups_table(groups, title, width=width)


def saga_table(view: SagaView) -> Table:
    s = view.state
    table = Table(title=f"saga {s.saga_id}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows = [
        ("type", s.saga_type), ("status", view.status), ("version", str(view.version)),
        ("definition version", str(s.definition_version)),
        ("group / partition", f"{view.group_id} / {view.partition}"),
        ("reason", s.reason or "-"), ("started", epoch_time(s.started_at)),
        ("updated", epoch_time(s.updated_at)),
        ("deadline", epoch_time(s.deadline_at) if s.deadline_at else "-"),
        ("data", _json(dict(s.data))),
    ]  # fmt: skip
    for field, value in rows:
        table.add_row(field, value)
    return table


def steps_table(view: SagaView) -> Table:
    table = Table(title="steps")
    for column in ("step", "status", "attempt", "compensation attempt", "command id"):
        table.add_column(column)
    for name, st in view.state.steps.items():
        table.add_row(name, st.status.value, str(st.attempt), str(st.compensation_attempt),
                      st.command_id or "-")  # fmt: skip
    return table


def saga_list_table(rows: Sequence[tuple[SagaStatus, IndexedSaga]], title: str) -> Table:
    table = Table(title=title)
    for column in ("saga id", "status", "partition", "updated"):
        table.add_column(column)
    for status, r in rows:
        table.add_row(r.saga_id, status.value, str(r.partition), epoch_time(r.updated_at))
    return table


def migration_table(plans: Sequence[InstancePlan], limit: int, title: str) -> Table:
    """Counts per saga type and plan, then up to ``limit`` instances of each plan."""
    table = Table(title=title, show_lines=False)
    for col in ("saga type", "plan", "instances"):
        table.add_column(col, overflow="fold")
    counts = Counter((p.saga_type, _plan_kind(p)) for p in plans)
    for (saga_type, plan), n in sorted(counts.items()):
        table.add_row(saga_type, plan, str(n))
    shown: Counter[str] = Counter()
    for p in plans:
        kind = _plan_kind(p)
        if shown[kind] < limit:
            shown[kind] += 1
            table.add_row(f"  {p.saga_id} (p{p.partition})", p.plan, f"v{p.version}")
    return table


def _plan_kind(p: InstancePlan) -> str:
    return "stranded" if p.stranded else p.plan


def truncate(text: str | None, width: int = MESSAGE_WIDTH) -> str:
    if not text:
        return "-"
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def ms_time(ms: int | None) -> str:
    return "-" if ms is None else epoch_time(ms / 1000)


def epoch_time(seconds: float | None) -> str:
    if not seconds:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
