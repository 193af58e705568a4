"""Tables for operator commands (rich), kept apart from the logic and the CLI wiring."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from rich.table import Table

from dirigent.coordinator.version_check import InstancePlan
from dirigent.ops.dlt import DeadLetter, FingerprintGroup
from dirigent.ops.sagas import SagaView
from dirigent.saga.state import SagaStatus
from dirigent.store.saga_queries import IndexedSaga

__all__ = ["dead_letters_table", "groups_table", "saga_list_table", "saga_table", "steps_table"]

MESSAGE_WIDTH = 60


def dead_letters_table(letters: Sequence[DeadLetter], title: str) -> Table:
    table = Table(title=title)
    for column in ("dlt p:offset", "original", "error class", "fingerprint", "attempts",
                   "last failure"):  # fmt: skip
        table.add_column(column, no_wrap=column != "original", overflow="fold")
    table.add_column("message", ratio=1, overflow="ellipsis")
    for d in letters:
        table.add_row(
            f"{d.record.partition}:{d.record.offset}",
            f"{d.topic or '-'}[{_s(d.partition)}]@{_s(d.offset)}",
            _short_class(d.error_class),
            d.fingerprint or "-",
            _s(d.attempts),
            ms_time(d.last_failure_ms or d.record.timestamp_ms),
            truncate(d.message),
        )
    return table


def groups_table(groups: Sequence[FingerprintGroup], title: str) -> Table:
    table = Table(title=title)
    for column in ("fingerprint", "count", "error class", "sample message", "topics"):
        table.add_column(column)
    for g in groups:
        table.add_row(g.fingerprint, str(g.count), _short_class(g.error_class),
                      truncate(g.sample_message), ", ".join(g.topics))  # fmt: skip
    return table


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


def _short_class(name: str | None) -> str:
    return (name or "-").rsplit(".", 1)[-1]


def _s(value: int | None) -> str:
    return "-" if value is None else str(value)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
