"""Where ``dlt archive`` copies dead letters before they are purged: a topic or a file.

A topic copy keeps partition, key, value and headers, and adds ``dirigent-archived-from``
(``<dlt>[p]@o``) and ``dirigent-archived-as`` (how the ledger accounted for it). A file
copy is JSON Lines with key, value and header values in base64. Either is complete
(acknowledged, or flushed to disk) before ``close`` returns.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import IO

from dirigent.ops.dlt_ledger import Ledger
from dirigent.transport import OutgoingRecord, RawProducer, TopicSpec, ensure_topics
from dirigent.transport.consumer import InboundRecord

__all__ = ["ARCHIVED_AS", "ARCHIVED_FROM", "ARCHIVE_SUFFIX", "ArchiveSink", "open_sink"]

ARCHIVE_SUFFIX = ".archive"
ARCHIVED_FROM = "dirigent-archived-from"
ARCHIVED_AS = "dirigent-archived-as"


class ArchiveSink:
    """Where archived records go: a topic or a file."""

    async def add(self, records: list[InboundRecord], ledger: Ledger) -> None:
        raise NotImplementedError

    async def close(self) -> int:
        raise NotImplementedError

    def abort(self) -> None:
        """Release what ``close`` did not (after an error)."""


class _TopicSink(ArchiveSink):
    def __init__(self, producer: RawProducer, dlt: str, topic: str) -> None:
        self.producer, self.dlt, self.topic, self.count = producer, dlt, topic, 0

    async def add(self, records: list[InboundRecord], ledger: Ledger) -> None:
        out = [OutgoingRecord(self.topic, r.value, r.key, (*r.headers, *_provenance(self.dlt, r,
                              ledger)), r.partition) for r in records]  # fmt: skip
        await self.producer.send_batch(out)
        self.count += len(out)

    async def close(self) -> int:
        return self.count


class _FileSink(ArchiveSink):
    def __init__(self, dlt: str, path: Path) -> None:
        self.dlt, self.path, self.count = dlt, path, 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file: IO[str] | None = path.open("a", encoding="utf-8")

    async def add(self, records: list[InboundRecord], ledger: Ledger) -> None:
        assert self.file is not None
        for r in records:
            doc = {"dlt": self.dlt, "partition": r.partition, "offset": r.offset,
                   "timestamp_ms": r.timestamp_ms, "key": _b64(r.key), "value": _b64(r.value),
                   "headers": [[k, _b64(v)] for k, v in r.headers],
                   "accounted": _state(r, ledger)}  # fmt: skip
            self.file.write(json.dumps(doc) + "\n")
        self.count += len(records)

    async def close(self) -> int:
        if self.file is not None:
            self.file.flush()
            os.fsync(self.file.fileno())  # on disk before anything is deleted
            self.file.close()
            self.file = None
        return self.count

    def abort(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


async def open_sink(
    producer: RawProducer, dlt: str, *, partitions: int, topic: str | None, path: Path | None
) -> ArchiveSink | None:
    """The sink for ``path`` (a file) or ``topic`` (created with ``partitions``), if any."""
    if path is not None:
        return _FileSink(dlt, path)
    if topic is None:
        return None
    await ensure_topics(producer.bootstrap, [TopicSpec(topic, partitions)])
    return _TopicSink(producer, dlt, topic)


def _state(r: InboundRecord, ledger: Ledger) -> str:
    state = ledger.state(r.partition, r.offset)
    return state.value if state else "open"


def _provenance(dlt: str, r: InboundRecord, ledger: Ledger) -> tuple[tuple[str, bytes], ...]:
    return ((ARCHIVED_FROM, f"{dlt}[{r.partition}]@{r.offset}".encode()),
            (ARCHIVED_AS, _state(r, ledger).encode()))  # fmt: skip


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()
