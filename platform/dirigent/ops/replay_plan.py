"""The dry run: decide for every matching dead letter whether to replay it, and freeze
that decision in a selection file (``dirigent.ops.replay_select``).

A dead letter is skipped, with the reason, when it is accounted for already (replayed
or judged dead; ``again`` replays the replayed ones once more), when it cannot be
replayed as it is (reduced copy, no origin, an edit that does not fit), or when its saga
no longer expects it (``dirigent.ops.replay_rule``). Of several dead letters with one
message id (a command re-sent after timeouts, a replayed record that failed again) only
the first is replayed; the others are listed as its duplicates.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dirigent.errors import ContractError
from dirigent.ops.dlt_filter import DltFilter
from dirigent.ops.dlt_scan import Found
from dirigent.ops.dlt_session import DltSession, SagaStoreRef
from dirigent.ops.payload import PayloadCodec
from dirigent.ops.replay_edit import Edit, edit_payload
from dirigent.ops.replay_rule import Verdict, expects
from dirigent.ops.replay_select import (
    Selection,
    SelectionEntry,
    SelectionWriter,
    message_hash,
    read_selection,
)

__all__ = ["PlanOptions", "PlanSummary", "decide", "plan_replay"]

_SHIFT = 40  # (partition, offset) packed in one int: offsets stay far below 2**40


@dataclass(frozen=True)
class PlanOptions:
    """What the replay will do besides choosing records."""

    who: str
    again: bool = False
    to: str | None = None
    edits: tuple[Edit, ...] = ()
    store: SagaStoreRef | None = None


@dataclass
class PlanSummary:
    """The selection written, and the first entries for a table."""

    selection: Selection
    scanned: int
    sample: list[tuple[Found, SelectionEntry]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.selection.trailer["counts"])

    @property
    def skipped(self) -> dict[str, int]:
        return dict(self.selection.trailer["skipped"])


async def plan_replay(
    session: DltSession,
    f: DltFilter,
    out: Path,
    options: PlanOptions,
    *,
    payloads: PayloadCodec | None = None,
    sample: int = 200,
) -> PlanSummary:
    """Scan, decide, write the selection file to ``out``; nothing is produced."""
    if session.sagas is None:
        raise ValueError("a replay plan reads saga state: open the session with a store")
    header = _header(session, f, options)
    seen: dict[int, int] = {}
    shown: list[tuple[Found, SelectionEntry]] = []
    scan = session.scan(f)
    with SelectionWriter(out, header) as writer:
        async for batch in scan.batches():
            for found in batch:
                entry = await _entry(found, options, seen, payloads)
                writer.add(entry)
                if len(shown) < sample:
                    shown.append((found, entry))
    return PlanSummary(read_selection(out), scan.scanned, shown)


def _header(session: DltSession, f: DltFilter, options: PlanOptions) -> dict[str, Any]:
    store = options.store
    return {
        "id": uuid.uuid4().hex[:12],
        "dlt": session.dlt,
        "created_ms": int(time.time() * 1000),
        "created_by": options.who,
        "filters": f.to_dict(),
        "again": options.again,
        "to": options.to,
        "edits": [e.text for e in options.edits],
        "saga_store": None if store is None else {
            "group_id": store.group_id, "partitions": store.partitions,
            "saga_topic": store.saga_topic,
        },
    }  # fmt: skip


async def _entry(
    found: Found, options: PlanOptions, seen: dict[int, int], payloads: PayloadCodec | None
) -> SelectionEntry:
    d = found.letter
    p, o = d.position
    verdict = decide(found, again=options.again)
    if verdict.replay and options.edits:
        verdict = await _check_edits(found, options.edits, payloads, verdict)
    if not verdict.replay:
        return SelectionEntry(p, o, "skip", verdict.code, verdict.reason, d.message_id,
                              d.saga_id, d.fingerprint)  # fmt: skip
    key = message_hash(d.message_id)
    if d.message_id is not None and key in seen:
        first = divmod(seen[key], 1 << _SHIFT)
        return SelectionEntry(p, o, "dup", "same-message-id",
                              f"same message id as {first[0]}:{first[1]}, replayed instead",
                              d.message_id, d.saga_id, d.fingerprint, first)  # fmt: skip
    seen[key] = (p << _SHIFT) + o
    return SelectionEntry(p, o, "replay", verdict.code, verdict.reason, d.message_id,
                          d.saga_id, d.fingerprint, target=options.to or d.topic)  # fmt: skip


def decide(found: Found, *, again: bool = False) -> Verdict:
    """Replay or skip one dead letter, given the ledger and its saga (the real run asks
    again, just before it sends)."""
    d = found.letter
    if found.accounting is not None and not (again and found.accounting.value == "replayed"):
        hint = "" if found.accounting.value != "replayed" else " (--again to replay it again)"
        return Verdict(False, f"already-{found.accounting.value}",
                       f"already {found.accounting.value}{hint}")  # fmt: skip
    if d.reduced is not None:
        return Verdict(False, "reduced", f"holds a reduced copy ({d.reduced})")
    if d.topic is None:
        return Verdict(False, "no-origin", "no dirigent-dlt-topic header: origin unknown")
    if found.saga is not None and found.saga.error is not None:
        return Verdict(False, "saga-unreadable", found.saga.error)
    state = found.saga.state if found.saga is not None else None
    return expects(saga_id=d.saga_id, message_id=d.message_id, causation_id=d.causation_id,
                   state=state)  # fmt: skip


async def _check_edits(
    found: Found, edits: tuple[Edit, ...], payloads: PayloadCodec | None, verdict: Verdict
) -> Verdict:
    if payloads is None:
        raise ValueError("edits need the payload codec")
    try:
        _, changes = await edit_payload(payloads, found.letter.record.value, list(edits))
    except ContractError as exc:
        return Verdict(False, "edit-failed", f"edit does not apply: {exc}")
    summary = ", ".join(f"{c.path}: {c.old!r} -> {c.new!r}" for c in changes)
    return Verdict(True, verdict.code, f"{verdict.reason}; edited {summary}")
