"""Purge and archive dead letters that are accounted for, never one that is not.

Kafka cannot delete one record; it can only move a partition's log start forward
(DeleteRecords). So, per partition, purge finds the *low watermark*: the first record
that is not accounted for in the ledger (neither replayed nor judged dead). Everything
before it is accounted for and may go; that record and everything after stay, even if
accounted for, until the record blocking them is dealt with. ``judge`` first records
dead letters as judged dead (with the operator's reason), which is how records that
will never be replayed get out of the way.

Archive copies the records before the watermark to ``<dlt>.archive`` (same partition,
key, value and headers, plus where each came from and how it was accounted for) or to
a JSON Lines file, and deletes only once the copy is acknowledged (or written and
flushed). Afterwards the ledger entries of the deleted records are tombstoned, and
the purge is audited on ``dirigent.ops.audit``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dirigent.ops.audit import AUDIT_TOPIC, AuditEntry, record_audits
from dirigent.ops.dlt import DeadLetter
from dirigent.ops.dlt_archive import ArchiveSink, open_sink
from dirigent.ops.dlt_filter import DltFilter
from dirigent.ops.dlt_ledger import (
    Accounting,
    LedgerEntry,
    ensure_ledger,
    tombstone,
    write_ledger,
)
from dirigent.ops.dlt_session import DltSession
from dirigent.ops.replay_audit import position_chunks
from dirigent.transport import RawProducer
from dirigent.transport.consumer import InboundRecord
from dirigent.transport.retention import delete_records_before
from dirigent.transport.scan import TopicReader

__all__ = ["Judgement", "PartitionPurge", "PurgePlan", "find_open", "judge", "purge"]

BATCH = 500


@dataclass(frozen=True)
class Judgement:
    """Dead letters judged dead by one operator decision."""

    judgement_id: str
    positions: dict[int, list[int]]
    reason: str

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.positions.values())


async def find_open(session: DltSession, f: DltFilter, reason: str) -> Judgement:
    """The open dead letters matching ``f``: what judging them dead would cover."""
    if not reason.strip():
        raise ValueError("judging dead letters dead needs a reason")
    wanted = DltFilter(**{**_fields(f), "accounting": "open"})
    positions: dict[int, list[int]] = {}
    async for batch in session.scan(wanted).batches():
        for x in batch:
            p, o = x.letter.position
            positions.setdefault(p, []).append(o)
    return Judgement(uuid.uuid4().hex[:12], positions, reason)


async def judge(
    session: DltSession,
    judgement: Judgement,
    *,
    who: str,
    producer: RawProducer | None,
    filters: DltFilter | None = None,
    audit_topic: str = AUDIT_TOPIC,
) -> None:
    """Record ``judgement`` in the ledger (audited first); ``producer=None``: only in
    this session's ledger (a dry run sees its effect, nothing is written)."""
    now = int(time.time() * 1000)
    entries = [LedgerEntry(p, o, Accounting.JUDGED_DEAD, judgement.judgement_id, who, now,
                           judgement.reason)
               for p, offsets in judgement.positions.items() for o in offsets]  # fmt: skip
    if producer is not None and entries:
        details = {"judgement_id": judgement.judgement_id, "reason": judgement.reason,
                   "count": str(judgement.count),
                   "filters": json.dumps((filters or DltFilter()).to_dict())}  # fmt: skip
        await _audit(producer, "dlt.judged-dead", session.dlt, who, audit_topic,
                     judgement.positions, details)  # fmt: skip
        await ensure_ledger(session.bootstrap, session.dlt)
        for i in range(0, len(entries), BATCH):
            await write_ledger(producer, [e.record(session.dlt) for e in entries[i : i + BATCH]])
    for e in entries:
        session.ledger.add(e)


@dataclass
class PartitionPurge:
    """One partition: its records ``start..end``; those before ``watermark`` go."""

    partition: int
    start: int
    end: int
    watermark: int
    blocked_by: str | None = None  # the first record not accounted for, and what it is

    @property
    def deletable(self) -> int:
        return self.watermark - self.start

    def to_dict(self) -> dict[str, Any]:
        return {"partition": self.partition, "start": self.start, "end": self.end,
                "watermark": self.watermark, "deletable": self.deletable,
                "blocked_by": self.blocked_by}  # fmt: skip


@dataclass
class PurgePlan:
    """What a purge deletes (and archives), per partition."""

    dlt: str
    partitions: list[PartitionPurge] = field(default_factory=list)
    archived: int = 0
    deleted: int = 0
    archive: str | None = None

    @property
    def deletable(self) -> int:
        return sum(p.deletable for p in self.partitions)

    def to_dict(self) -> dict[str, Any]:
        return {"dlt": self.dlt, "deletable": self.deletable, "deleted": self.deleted,
                "archived": self.archived, "archive": self.archive,
                "partitions": [p.to_dict() for p in self.partitions]}  # fmt: skip


async def purge(
    session: DltSession,
    *,
    who: str,
    producer: RawProducer | None,
    archive_topic: str | None = None,
    archive_file: Path | None = None,
    audit_topic: str = AUDIT_TOPIC,
) -> PurgePlan:
    """Delete (after archiving, if asked) the accounted prefix of every partition.

    ``producer=None`` is the dry run: the plan is computed, nothing is written.
    """
    target = archive_topic or (str(archive_file) if archive_file is not None else None)
    plan = PurgePlan(session.dlt, archive=target)
    sink = None
    try:
        async with TopicReader(session.bootstrap, session.dlt) as reader:
            if producer is not None:
                sink = await open_sink(producer, session.dlt, partitions=len(reader.partitions),
                                       topic=archive_topic, path=archive_file)  # fmt: skip
            bounds = await reader.bounds()
            session.progress.start(f"checking {session.dlt}", sum(b.count for b in bounds))
            for b in bounds:
                part = PartitionPurge(b.partition, b.start, b.end, b.start)
                plan.partitions.append(part)
                async for batch in reader.scan(b.partition, b.start, b.end):
                    session.progress.advance(len(batch))
                    if await _walk(session, part, batch, sink):
                        break
                if part.blocked_by is None:
                    part.watermark = b.end  # every record there is accounted for
            session.progress.finish()
        if sink is not None:
            plan.archived = await sink.close()
    finally:
        if sink is not None:
            sink.abort()
    if producer is None or not plan.deletable:
        return plan
    await _delete(session, producer, plan, who, audit_topic)
    return plan


async def _walk(
    session: DltSession, part: PartitionPurge, batch: list[InboundRecord], sink: ArchiveSink | None
) -> bool:
    """Move ``part.watermark`` over accounted records; True at the first open one."""
    kept: list[InboundRecord] = []
    stop = False
    for r in batch:
        state = session.ledger.state(r.partition, r.offset)
        if state is None:
            d = DeadLetter.of(r)
            what = f"{d.fingerprint or 'no fingerprint'}: {d.message or '-'}"
            part.blocked_by = f"{r.partition}:{r.offset} is not accounted for ({what})"
            stop = True
            break
        kept.append(r)
        part.watermark = r.offset + 1
    if sink is not None and kept:
        await sink.add(kept, session.ledger)
    return stop


async def _delete(
    session: DltSession, producer: RawProducer, plan: PurgePlan, who: str, audit_topic: str
) -> None:
    before = {p.partition: p.watermark for p in plan.partitions if p.deletable}
    ranges = {p.partition: range(p.start, p.watermark) for p in plan.partitions if p.deletable}
    action = "dlt.archive" if plan.archive else "dlt.purge"
    await _audit(producer, action, session.dlt, who, audit_topic, ranges,
                 {"deletable": str(plan.deletable), "archive": plan.archive or "",
                  "archived": str(plan.archived),
                  "watermarks": json.dumps({str(p): o for p, o in before.items()})})  # fmt: skip
    await delete_records_before(session.bootstrap, session.dlt, before)
    plan.deleted = plan.deletable
    stones = [tombstone(session.dlt, p, o) for p, r in ranges.items() for o in r
              if session.ledger.state(p, o) is not None]  # fmt: skip
    for i in range(0, len(stones), BATCH):
        await write_ledger(producer, stones[i : i + BATCH])


async def _audit(
    producer: RawProducer, action: str, dlt: str, who: str, topic: str,
    positions: Mapping[int, Sequence[int]], details: dict[str, str],
) -> None:  # fmt: skip
    chunks = position_chunks(positions)
    entries = [AuditEntry(who, action, dlt, {**details, "chunks": str(len(chunks))})]
    entries += [AuditEntry(who, f"{action}.positions", dlt,
                           {"chunk": str(i + 1), "chunks": str(len(chunks)), "positions": c,
                            **{k: v for k, v in details.items() if k.endswith("_id")}})
                for i, c in enumerate(chunks)]  # fmt: skip
    await record_audits(producer, entries, topic)


def _fields(f: DltFilter) -> dict[str, Any]:
    return {name: getattr(f, name) for name in f.__dataclass_fields__}
