"""Tables of dead letters, groups and replays that stay readable at 80 columns.

Identifying columns (the record's place, the fingerprint that ``--fingerprint`` takes,
the original record) are never cut: they keep their full width and never wrap; optional
columns are added only when the terminal is wide enough, and free text (the message)
takes what is left and is the one thing shortened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.table import Table

from dirigent.ops.dlt_groups import FingerprintGroup
from dirigent.ops.dlt_scan import Found
from dirigent.ops.replay_select import SelectionEntry

__all__ = [
    "counts_line",
    "dead_letters_table",
    "groups_table",
    "ms_time",
    "plan_table",
    "short_class",
    "truncate",
]

NARROW, WIDE = 100, 130  # terminal widths at which optional columns join


@dataclass(frozen=True)
class _Column:
    name: str
    cell: Callable[[Any], str]
    from_width: int = 0  # shown only on terminals at least this wide
    identifying: bool = False  # full width, never cut
    flexible: bool = False  # takes the width left over, cut with an ellipsis
    max_width: int = 24  # for the others


MIN_FLEXIBLE = 8


def _table(columns: Sequence[_Column], rows: Sequence[Any], title: str | None, width: int) -> Table:
    """Widths computed here, not by rich: rich would squeeze any column when the
    table is too wide, the identifying ones included."""
    chosen = [c for c in columns if width >= c.from_width]
    cells = [[c.cell(row) for c in chosen] for row in rows]
    widths = [_natural(c, [r[i] for r in cells]) for i, c in enumerate(chosen)]
    while True:
        left = width - sum(w for c, w in zip(chosen, widths, strict=True) if not c.flexible)
        left -= 3 * len(chosen) + 1 - 2  # borders and padding (no padding at the edges)
        optional = [i for i, c in enumerate(chosen) if not (c.identifying or c.flexible)]
        if left >= MIN_FLEXIBLE or not optional:
            break
        drop = optional[-1]
        del chosen[drop], widths[drop]
        for r in cells:
            del r[drop]
    table = Table(title=title, pad_edge=False)
    for c, w in zip(chosen, widths, strict=True):
        fixed = max(left, MIN_FLEXIBLE) if c.flexible else w
        table.add_column(c.name, width=fixed, no_wrap=True, overflow="ellipsis")
    for r in cells:
        table.add_row(*r)
    return table


def _natural(c: _Column, values: list[str]) -> int:
    longest = max([len(c.name), *map(len, values)])
    return longest if c.identifying or c.flexible else min(longest, c.max_width)


_LETTER_COLUMNS = (
    _Column("p:offset", lambda f: f"{f.letter.record.partition}:{f.letter.record.offset}",
            identifying=True),
    _Column("fingerprint", lambda f: f.letter.fingerprint or "-", identifying=True),
    _Column("error", lambda f: short_class(f.letter.error_class), max_width=18),
    _Column("state", lambda f: _state(f), from_width=NARROW),
    _Column("original", lambda f: _original(f), from_width=NARROW, max_width=64),
    _Column("failed", lambda f: ms_time(f.letter.failed_at_ms), from_width=WIDE),
    _Column("tries", lambda f: _s(f.letter.attempts), from_width=WIDE),
    _Column("saga", lambda f: f.letter.saga_id or "-", from_width=WIDE),
    _Column("message", lambda f: _line(f.letter.message), flexible=True),
)  # fmt: skip


def dead_letters_table(found: Sequence[Found], title: str | None, *, width: int = 80) -> Table:
    """One row per dead letter; at 80 columns: place, fingerprint, error, message."""
    return _table(_LETTER_COLUMNS, found, title, width)


_GROUP_COLUMNS = (
    _Column("fingerprint", lambda g: g.fingerprint, identifying=True),
    _Column("count", lambda g: str(g.count), identifying=True),
    _Column("open", lambda g: str(g.open), identifying=True),
    _Column("error", lambda g: short_class(g.error_class), max_width=18),
    _Column("replayed", lambda g: str(g.replayed), from_width=NARROW),
    _Column("returned", lambda g: str(g.returned), from_width=NARROW),
    _Column("topics", lambda g: ", ".join(g.topics), from_width=NARROW, max_width=40),
    _Column("last failure", lambda g: ms_time(g.last_failure_ms), from_width=WIDE),
    _Column("sample message", lambda g: _line(g.sample_message), flexible=True),
)  # fmt: skip


_SIMILAR_COLUMNS = (
    _Column("count", lambda g: str(g.count), identifying=True),
    _Column("open", lambda g: str(g.open), identifying=True),
    _Column("error", lambda g: short_class(g.error_class), max_width=18),
    _Column("fingerprints", lambda g: str(len(g.fingerprints)), from_width=NARROW),
    _Column("topics", lambda g: ", ".join(g.topics), from_width=WIDE, max_width=40),
    _Column("template", lambda g: g.template, flexible=True),
)  # fmt: skip


def similar_table(groups: Sequence[Any], title: str | None, *, width: int = 80) -> Table:
    """One row per failure pattern (``SimilarGroup``): its masked message template."""
    return _table(_SIMILAR_COLUMNS, groups, title, width)


def groups_table(
    groups: Sequence[FingerprintGroup], title: str | None, *, width: int = 80
) -> Table:
    """One row per fingerprint; ``open`` = not yet replayed nor judged dead."""
    return _table(_GROUP_COLUMNS, groups, title, width)


def _state(f: Found) -> str:
    state = f.accounting.value if f.accounting else "open"
    return f"{state}, returned" if f.letter.replays else state


def _original(f: Found) -> str:
    d = f.letter
    return f"{d.topic or '-'}[{_s(d.partition)}]@{_s(d.offset)}"


def truncate(text: str | None, width: int = 60) -> str:
    """``text`` on one line, cut to ``width`` with an ellipsis."""
    line = _line(text)
    return line if len(line) <= width else line[: width - 1] + "…"


def _line(text: str | None) -> str:
    return " ".join(text.split()) if text else "-"


def ms_time(ms: int | None) -> str:
    """Epoch ms as UTC ``YYYY-MM-DD HH:MM:SSZ``."""
    if not ms:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def short_class(name: str | None) -> str:
    """The last dotted part of a class name."""
    return (name or "-").rsplit(".", 1)[-1]


def _s(value: int | None) -> str:
    return "-" if value is None else str(value)


_PLAN_COLUMNS = (
    _Column("p:offset", lambda x: f"{x[1].partition}:{x[1].offset}", identifying=True),
    _Column("act", lambda x: x[1].act, identifying=True),
    _Column("fingerprint", lambda x: x[1].fingerprint or "-", identifying=True),
    _Column("saga", lambda x: x[1].saga_id or "-", from_width=NARROW),
    _Column("to", lambda x: x[1].target or "-", from_width=WIDE, max_width=40),
    _Column("why", lambda x: x[1].reason or x[1].why, flexible=True),
)  # fmt: skip


def plan_table(
    rows: Sequence[tuple[Found, SelectionEntry]], title: str | None, *, width: int = 80
) -> Table:
    """The dry run's decisions: replay, skip (and why) or dup, one row per dead letter."""
    return _table(_PLAN_COLUMNS, rows, title, width)


def counts_line(counts: Mapping[str, int]) -> str:
    """``3 replay, 2 skip`` from ``{"replay": 3, "skip": 2}`` (largest first)."""
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "none"
