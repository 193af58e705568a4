"""The audit trail of a replay, sized so that every record fits the broker's limit.

One ``dlt.replay.planned`` record before anything is sent (counts, filters, edits,
target, the selection file's id and SHA-256, how many chunks follow), then the selected
positions in ``dlt.replay.selection`` records of at most ``CHUNK_CHARS`` characters
each (``partition:first-last,...`` ranges, partitions separated by ``;``), and one
``dlt.replay.done`` record with the outcome counts at the end (also when stopped).
A resumed run adds ``dlt.replay.resumed``. A selection of any size is audited whole,
never as one oversized record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from dirigent.ops.audit import AUDIT_TOPIC, AuditEntry, record_audits
from dirigent.ops.replay_select import ReplayList, Selection
from dirigent.transport import RawProducer

__all__ = [
    "CHUNK_CHARS",
    "audit_done",
    "audit_planned",
    "audit_resumed",
    "parse_positions",
    "position_chunks",
]

CHUNK_CHARS = 256 * 1024  # of positions per record; the broker's default limit is 1 MiB


def _ranges(offsets: Iterable[int]) -> Iterator[str]:
    """Ascending offsets as ``a-b`` ranges (``a`` alone for one)."""
    start = prev = None
    for o in offsets:
        if prev is not None and o == prev + 1:
            prev = o
            continue
        if start is not None:
            yield str(start) if start == prev else f"{start}-{prev}"
        start = prev = o
    if start is not None:
        yield str(start) if start == prev else f"{start}-{prev}"


def position_chunks(offsets: Mapping[int, Iterable[int]], limit: int | None = None) -> list[str]:
    """``{partition: ascending offsets}`` as texts of at most ``limit`` characters
    (default ``CHUNK_CHARS``)."""
    limit = CHUNK_CHARS if limit is None else limit
    chunks: list[str] = []
    parts: list[str] = []
    size = 0
    for p in sorted(offsets):
        head = f"{p}:"
        items: list[str] = []
        for r in _ranges(offsets[p]):
            if size + len(head) + len(r) + 2 > limit and (items or parts):
                if items:
                    parts.append(head + ",".join(items))
                chunks.append(";".join(parts))
                parts, items, size = [], [], 0
            items.append(r)
            size += len(r) + 1
        if items:
            parts.append(head + ",".join(items))
            size += len(head) + 1
    if parts:
        chunks.append(";".join(parts))
    return chunks


def parse_positions(text: str) -> dict[int, list[int]]:
    """The offsets of a chunk, ``{partition: [offsets]}`` (to rebuild a selection)."""
    out: dict[int, list[int]] = {}
    for part in filter(None, text.split(";")):
        p, _, ranges = part.partition(":")
        offsets = out.setdefault(int(p), [])
        for r in ranges.split(","):
            first, _, last = r.partition("-")
            offsets.extend(range(int(first), int(last or first) + 1))
    return out


async def audit_planned(
    producer: RawProducer,
    selection: Selection,
    replay_id: str,
    chosen: ReplayList,
    *,
    who: str,
    settings: Mapping[str, Any],
    topic: str = AUDIT_TOPIC,
) -> int:
    """Record the plan and the whole selection before the first record is sent; returns
    the number of chunk records."""
    chunks = position_chunks(chosen.offsets)
    h, t = selection.header, selection.trailer
    details = {
        "replay_id": replay_id,
        "selection_id": selection.id,
        "selection_sha256": selection.sha256,
        "selection_file": str(selection.path),
        "planned_by": str(h.get("created_by", "")),
        "to_replay": str(len(chosen)),
        "counts": json.dumps(t["counts"], sort_keys=True),
        "skipped": json.dumps(t["skipped"], sort_keys=True),
        "filters": json.dumps(h.get("filters", {}), sort_keys=True),
        "edits": json.dumps(h.get("edits", [])),
        "to": str(h.get("to") or ""),
        "chunks": str(len(chunks)),
        **{k: str(v) for k, v in settings.items()},
    }
    entries = [AuditEntry(who, "dlt.replay.planned", selection.dlt, details)]
    for i, text in enumerate(chunks):
        chunk = {"replay_id": replay_id, "chunk": str(i + 1), "chunks": str(len(chunks)),
                 "positions": text}  # fmt: skip
        entries.append(AuditEntry(who, "dlt.replay.selection", selection.dlt, chunk))
    await record_audits(producer, entries, topic)
    return len(chunks)


async def audit_resumed(
    producer: RawProducer, dlt: str, replay_id: str, *, who: str, done: Mapping[str, int],
    topic: str = AUDIT_TOPIC,
) -> None:  # fmt: skip
    """A run picks up an interrupted replay."""
    details = {"replay_id": replay_id, "done_so_far": json.dumps(dict(done), sort_keys=True)}
    await record_audits(producer, [AuditEntry(who, "dlt.replay.resumed", dlt, details)], topic)


async def audit_done(
    producer: RawProducer, dlt: str, replay_id: str, *, who: str, outcome: str,
    counts: Mapping[str, int], topic: str = AUDIT_TOPIC,
) -> None:  # fmt: skip
    """The outcome: ``completed`` or why the replay stopped, and what it did."""
    details = {"replay_id": replay_id, "outcome": outcome,
               "counts": json.dumps(dict(counts), sort_keys=True),
               **{k: str(v) for k, v in counts.items()}}  # fmt: skip
    await record_audits(producer, [AuditEntry(who, "dlt.replay.done", dlt, details)], topic)
