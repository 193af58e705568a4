"""The selection goes to the audit in chunks that always fit, and comes back whole."""

from __future__ import annotations

import random

from dirigent.ops.replay_audit import parse_positions, position_chunks


def test_ranges_compress_runs() -> None:
    assert position_chunks({0: [1, 2, 3, 7, 9, 10], 2: [4]}) == ["0:1-3,7,9-10;2:4"]
    assert position_chunks({}) == []


def test_chunks_respect_the_limit_and_round_trip() -> None:
    rng = random.Random(7)
    offsets = {p: sorted(rng.sample(range(2_000_000), 40_000)) for p in range(6)}
    chunks = position_chunks(offsets, limit=50_000)
    assert len(chunks) > 5
    assert all(len(c) <= 50_000 for c in chunks)
    back: dict[int, list[int]] = {}
    for c in chunks:
        for p, found in parse_positions(c).items():
            back.setdefault(p, []).extend(found)
    assert back == offsets


def test_a_million_contiguous_offsets_fit_one_small_record() -> None:
    [chunk] = position_chunks({0: range(1_000_000), 1: range(5, 10)})
    assert chunk == "0:0-999999;1:5-9"
