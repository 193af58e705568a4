"""The ledger of a dead-letter topic: which of its records are accounted for, and how.

A dead letter is *accounted for* once it has been replayed (and the broker acknowledged
the replayed record) or an operator judged it dead (with a reason). The ledger is a
compacted topic ``<dlt>.ledger``, keyed by ``partition:offset`` of the dead letter, one
JSON value per record (the latest wins; a tombstone forgets a purged record). Replay
skips what is accounted for, ``dlt list --replayed`` reads it, and purge deletes only a
prefix of a partition that is accounted for in full.

``Ledger`` keeps only offsets (sets per partition), not the entries, so a ledger of a
million records fits in tens of MB.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dirigent.ops.progress import NO_PROGRESS, Progress
from dirigent.transport import OutgoingRecord, RawProducer, TopicSpec, ensure_topics, missing_topics
from dirigent.transport.consumer import InboundRecord
from dirigent.transport.scan import TopicReader
from dirigent.transport.security import Bootstrap

__all__ = [
    "LEDGER_SUFFIX",
    "Accounting",
    "Ledger",
    "LedgerEntry",
    "ensure_ledger",
    "ledger_topic",
    "load_ledger",
    "tombstone",
    "write_ledger",
]

LEDGER_SUFFIX = ".ledger"
LEDGER_CONFIGS = {"cleanup.policy": "compact"}


def ledger_topic(dlt: str) -> str:
    """The ledger of dead-letter topic ``dlt``: ``<dlt>.ledger``."""
    return dlt + LEDGER_SUFFIX


class Accounting(StrEnum):
    """How a dead letter is accounted for."""

    REPLAYED = "replayed"
    JUDGED_DEAD = "judged-dead"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One accounted dead letter: where it is, what was done, by whom, why."""

    partition: int
    offset: int
    state: Accounting
    action_id: str  # the replay id, or the id of the judgement
    who: str
    at_ms: int
    note: str = ""  # where it was replayed to, or why it was judged dead

    @property
    def key(self) -> bytes:
        return f"{self.partition}:{self.offset}".encode()

    def record(self, dlt: str) -> OutgoingRecord:
        """The ledger record of this entry."""
        doc = {"s": self.state.value, "id": self.action_id, "who": self.who,
               "at": self.at_ms, "note": self.note}  # fmt: skip
        value = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
        return OutgoingRecord(ledger_topic(dlt), value, self.key)

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state.value, "id": self.action_id, "who": self.who,
                "at_ms": self.at_ms, "note": self.note}  # fmt: skip

    @classmethod
    def parse(cls, record: InboundRecord) -> LedgerEntry | None:
        """The entry of a ledger record (``None`` for a tombstone or a foreign record)."""
        position = _position(record.key)
        if position is None or record.value is None:
            return None
        try:
            doc = json.loads(record.value)
            return cls(*position, Accounting(doc["s"]), str(doc["id"]), str(doc["who"]),
                       int(doc["at"]), str(doc.get("note", "")))  # fmt: skip
        except (ValueError, KeyError, TypeError):
            return None


def tombstone(dlt: str, partition: int, offset: int) -> OutgoingRecord:
    """Forget the entry of a record that was purged (compaction drops both)."""
    return OutgoingRecord(ledger_topic(dlt), None, f"{partition}:{offset}".encode())


class Ledger:
    """Accounted offsets per partition of one dead-letter topic.

    Whole entries are kept only for the positions in ``keep`` (``entry``).
    """

    def __init__(self, keep: Iterable[tuple[int, int]] = ()) -> None:
        self._sets: dict[Accounting, dict[int, set[int]]] = {a: {} for a in Accounting}
        self._keep = set(keep)
        self._entries: dict[tuple[int, int], LedgerEntry] = {}

    def apply(self, record: InboundRecord) -> None:
        """Fold one ledger record in (entries and tombstones, in log order)."""
        position = _position(record.key)
        if position is None:
            return
        p, o = position
        for by_partition in self._sets.values():
            by_partition.get(p, set()).discard(o)
        self._entries.pop(position, None)
        entry = LedgerEntry.parse(record)
        if entry is not None:
            self.add(entry)

    def add(self, entry: LedgerEntry) -> None:
        """Record ``entry`` (after it was written)."""
        if (entry.partition, entry.offset) in self._keep:
            self._entries[entry.partition, entry.offset] = entry
        for state, by_partition in self._sets.items():
            offsets = by_partition.setdefault(entry.partition, set())
            if state is entry.state:
                offsets.add(entry.offset)
            else:
                offsets.discard(entry.offset)

    def state(self, partition: int, offset: int) -> Accounting | None:
        """How the record at ``partition:offset`` is accounted for, if it is."""
        for state, by_partition in self._sets.items():
            if offset in by_partition.get(partition, ()):
                return state
        return None

    def entry(self, partition: int, offset: int) -> LedgerEntry | None:
        """The whole entry of a position named in ``keep``."""
        return self._entries.get((partition, offset))

    def count(self, state: Accounting) -> int:
        return sum(len(s) for s in self._sets[state].values())

    def offsets(self, partition: int) -> Iterable[tuple[int, Accounting]]:
        """Accounted offsets of ``partition`` (any order)."""
        for state, by_partition in self._sets.items():
            for o in by_partition.get(partition, ()):
                yield o, state

    def __len__(self) -> int:
        return sum(self.count(a) for a in Accounting)


async def ensure_ledger(bootstrap: Bootstrap, dlt: str) -> None:
    """Create the ledger topic of ``dlt`` if it does not exist yet (compacted)."""
    await ensure_topics(bootstrap, [TopicSpec(ledger_topic(dlt), configs=LEDGER_CONFIGS)])


async def write_ledger(producer: RawProducer, records: list[OutgoingRecord]) -> None:
    """Write ledger records (entries or tombstones) to a ledger ``ensure_ledger`` made;
    returns once the broker acknowledged all of them."""
    if records:
        await producer.send_batch(records)


async def load_ledger(
    bootstrap: Bootstrap,
    dlt: str,
    progress: Progress = NO_PROGRESS,
    *,
    keep: Iterable[tuple[int, int]] = (),
) -> Ledger:
    """The ledger of ``dlt`` as it is now (empty if it was never written)."""
    ledger = Ledger(keep)
    topic = ledger_topic(dlt)
    if await missing_topics(bootstrap, [topic]):
        return ledger
    async with TopicReader(bootstrap, topic) as reader:
        bounds = await reader.bounds()
        progress.start(f"reading {topic}", sum(b.count for b in bounds))
        for b in bounds:
            async for batch in reader.scan(b.partition, b.start, b.end):
                for record in batch:
                    ledger.apply(record)
                progress.advance(len(batch))
        progress.finish()
    return ledger


def _position(key: bytes | None) -> tuple[int, int] | None:
    try:
        p, _, o = (key or b"").decode().partition(":")
        return int(p), int(o)
    except ValueError:
        return None
