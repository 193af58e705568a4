"""Tables of saga history and selections, for ``dirigent saga``."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

from dirigent.ops.render import epoch_time
from dirigent.ops.saga_history import HistoryEntry
from dirigent.ops.sagas import SagaView

__all__ = ["history_table", "saga_selection_table"]


def history_table(entries: Sequence[HistoryEntry], title: str) -> Table:
    """One row per entry; the identifying columns (time, change) are never cut."""
    table = Table(title=title)
    table.add_column("time", no_wrap=True)
    table.add_column("change", no_wrap=True)
    table.add_column("cause / step", overflow="fold")
    table.add_column("sent / reason", overflow="fold")
    for e in entries:
        cause = " ".join(x for x in (e.cause, f"[{e.step}]" if e.step else "") if x)
        sent = "\n".join(e.commands)
        if e.skipped:
            sent = "\n".join(x for x in (sent, f"skipped: {', '.join(e.skipped)}") if x)
        note = "\n".join(x for x in (sent, e.reason or "") if x)
        table.add_row(e.at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3], e.what, cause or "-",
                      note or "-")  # fmt: skip
    return table


def saga_selection_table(views: Sequence[SagaView], title: str) -> Table:
    table = Table(title=title)
    table.add_column("saga id", no_wrap=True)
    table.add_column("type")
    table.add_column("status", no_wrap=True)
    table.add_column("updated", no_wrap=True)
    table.add_column("reason", overflow="fold")
    for v in views:
        s = v.state
        table.add_row(s.saga_id, s.saga_type, s.status.value, epoch_time(s.updated_at),
                      s.reason or "-")  # fmt: skip
    return table
