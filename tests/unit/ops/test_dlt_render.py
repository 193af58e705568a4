"""Tables at 80 columns keep what identifies a record whole; wider ones add columns."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.table import Table

from dirigent.ops.dlt_groups import group_by_fingerprint
from dirigent.ops.dlt_render import dead_letters_table, groups_table
from dirigent.ops.dlt_scan import Found
from tests.unit.ops.dlt_fixtures import failure, letter

LONG = "a very long error message " * 20
FP = "3f9c0a1b2c3d4e5f"


def _text(table: Table, width: int) -> str:
    console = Console(width=width, record=True, color_system=None)
    console.print(table)
    out = console.export_text()
    assert max(len(line) for line in out.splitlines()) <= width
    return out


def _letters() -> list[Found]:
    fail = failure(FP, cls="inventory.errors.WarehouseTemporarilyUnavailableError", message=LONG)
    return [Found(letter(123_456 + i, fail=fail, dlt_partition=11, topic="shop.inventory.commands"
                         ".with.a.long.name")) for i in range(3)]  # fmt: skip


@pytest.mark.parametrize("width", [60, 80])
def test_list_at_narrow_widths_keeps_place_and_fingerprint_whole(width: int) -> None:
    out = _text(dead_letters_table(_letters(), "t", width=width), width)
    assert "11:123456" in out
    assert "11:123458" in out
    assert out.count(FP) == 3
    assert "a very long" in out  # the message gets what is left, shortened
    assert "original" not in out  # optional columns wait for a wider terminal


def test_list_on_a_wide_terminal_adds_the_original_place_and_state() -> None:
    out = _text(dead_letters_table(_letters(), "t", width=160), 160)
    assert "shop.inventory.commands.with.a.long.name[1]@" in out
    assert "open" in out
    assert out.count(FP) == 3


@pytest.mark.parametrize("width", [50, 80])
def test_groups_keep_fingerprint_count_and_open(width: int) -> None:
    groups = group_by_fingerprint(f.letter for f in _letters())
    out = _text(groups_table(groups, None, width=width), width)
    row = next(line for line in out.splitlines() if FP in line)
    cells = [c.strip() for c in row.strip("│").split("│")]
    assert cells[:3] == [FP, "3", "3"]  # fingerprint, count, open
