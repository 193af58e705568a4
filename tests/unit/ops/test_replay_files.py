"""Selection and progress files: written as a stream, refused when cut or changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dirigent.errors import ContractError
from dirigent.ops.replay_checkpoint import Checkpoint, checkpoint_path
from dirigent.ops.replay_select import SelectionEntry, SelectionWriter, message_hash, read_selection


def _write(path: Path) -> None:
    with SelectionWriter(path, {"id": "s1", "dlt": "orders.dlt"}) as w:
        w.add(SelectionEntry(1, 9, "replay", "command-awaited", "step x awaits", "m9",
                             target="orders"))  # fmt: skip
        w.add(SelectionEntry(0, 4, "replay", "not-saga-bound", message_id="m4", target="orders"))
        w.add(SelectionEntry(0, 5, "skip", "saga-terminal", "saga o5 is COMPENSATED", "m5"))
        w.add(SelectionEntry(0, 7, "dup", "same-message-id", message_id="m4", of=(0, 4)))
        w.add(SelectionEntry(0, 2, "replay", "start", message_id="m2", target="payments"))


def test_a_selection_round_trips_and_sorts_what_to_replay(tmp_path: Path) -> None:
    path = tmp_path / "sel.jsonl"
    _write(path)
    sel = read_selection(path)
    assert (sel.id, sel.dlt, sel.replay_count) == ("s1", "orders.dlt", 3)
    assert sel.trailer["counts"] == {"replay": 3, "skip": 1, "dup": 1}
    assert sel.trailer["skipped"] == {"saga-terminal": 1}
    assert sel.targets == ["orders", "payments"]
    chosen = sel.replay_list()
    assert {p: list(a) for p, a in chosen.offsets.items()} == {0: [2, 4], 1: [9]}
    assert list(chosen.hashes[0]) == [message_hash("m2"), message_hash("m4")]
    assert chosen.dups == {(0, 4): [(0, 7)]}
    assert len(chosen) == 3
    assert [e.act for e in sel.entries()] == ["replay", "replay", "skip", "dup", "replay"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda lines: lines[:-1], "incomplete"),
        (lambda lines: [lines[0], lines[1].replace('"o":9', '"o":10'), *lines[2:]], "changed"),
        (lambda lines: [*lines, lines[1]], "after its trailer"),
        (lambda lines: ['{"kind": "other"}\n', *lines[1:]], "not a dead-letter selection"),
        (lambda lines: [*lines[:2], "{not json\n", *lines[2:]], "cannot be read"),
    ],
)
def test_a_damaged_selection_is_refused(tmp_path: Path, damage: object, message: str) -> None:
    path = tmp_path / "sel.jsonl"
    _write(path)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(damage(lines)))  # type: ignore[operator]
    with pytest.raises(ContractError, match=message):
        read_selection(path)


def test_message_hash_tells_ids_apart() -> None:
    assert message_hash("a") == message_hash("a") != message_hash("b")
    assert message_hash(None) == 0


def test_the_progress_file_is_rewritten_whole(tmp_path: Path) -> None:
    path = checkpoint_path(tmp_path / "sel.jsonl")
    assert path.name == "sel.jsonl.progress"
    assert Checkpoint.load(path) is None
    ckpt = Checkpoint(path, "r1", "s1", "abc", done={0: 5}, targets={"orders": {0: 10, 1: 3}})
    ckpt.counts["sent"] += 4
    ckpt.save()
    again = Checkpoint.load(path)
    assert again is not None
    assert (again.replay_id, again.done, again.targets) == ("r1", {0: 5}, {"orders": {0: 10, 1: 3}})
    assert again.counts["sent"] == 4
    assert again.is_done(0, 5)
    assert not again.is_done(0, 6)
    assert not again.is_done(1, 0)
    assert not list(tmp_path.glob("*.tmp"))  # renamed into place
    path.write_text(json.dumps({"replay_id": "r1"}))
    with pytest.raises(ContractError, match="cannot be read"):
        Checkpoint.load(path)
