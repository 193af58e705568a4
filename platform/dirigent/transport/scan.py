"""Streaming reads of one topic without a consumer group, for operator commands.

``read_topic`` returns a whole topic as one list under a fixed timeout: fine for a few
records, not for a dead-letter topic after an outage. ``TopicReader`` reads one
partition at a time in bounded batches (``max_records``, ``fetch_max_bytes``), so memory
does not grow with the topic, and it has no overall timeout: it raises only when a
partition that still holds records delivers nothing for ``stall_timeout_s``.

Example::

    async with TopicReader("127.0.0.1:9092", "orders.events.dlt") as reader:
        for b in await reader.bounds():
            async for batch in reader.scan(b.partition, b.start, b.end):
                ...  # a list of InboundRecord, in offset order
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, TopicPartition

from dirigent.errors import TransportError
from dirigent.transport import _records
from dirigent.transport._errors import map_kafka_errors
from dirigent.transport._lifecycle import Lifecycle
from dirigent.transport._login import start_client
from dirigent.transport.consumer import InboundRecord, inbound
from dirigent.transport.reader import _partitions
from dirigent.transport.security import Bootstrap, kafka_options

__all__ = ["PartitionBounds", "TopicReader"]

SEEK_GAP = 2_000  # wanted offsets further apart than this are reached by a seek
_POLL_MS = 500


@dataclass(frozen=True, slots=True)
class PartitionBounds:
    """What one partition holds now: ``start`` (log start offset) up to ``end`` (exclusive)."""

    partition: int
    start: int
    end: int

    @property
    def count(self) -> int:
        """Offsets in the range (compacted or aborted ones included)."""
        return max(0, self.end - self.start)


class TopicReader:
    """Reads one topic, partition by partition; never joins a group, never commits."""

    def __init__(
        self,
        bootstrap: Bootstrap,
        topic: str,
        *,
        stall_timeout_s: float = 60.0,
        max_records: int = 1_000,
        fetch_max_bytes: int = 8 * 1024 * 1024,
        max_partition_fetch_bytes: int = 1024 * 1024,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.stall_timeout_s = stall_timeout_s
        self.max_records = max_records
        self._fetch_max_bytes = fetch_max_bytes
        self._max_partition_fetch_bytes = max_partition_fetch_bytes
        self._life = Lifecycle(f"reader of {topic} on {bootstrap}")
        self._consumer: Any = None
        self._tps: list[TopicPartition] = []

    async def start(self) -> None:
        """Check the topic exists (``TransportError`` naming it if not) and connect."""
        if not self._life.opening():
            return
        _records.install()
        try:
            self._tps = await _partitions(self.bootstrap, self.topic)
            what = f"reading topic {self.topic} on {self.bootstrap}"
            with map_kafka_errors(what):
                self._consumer = AIOKafkaConsumer(
                    **kafka_options(self.bootstrap),
                    group_id=None,  # no group: nothing joins, nothing is ever committed
                    enable_auto_commit=False,
                    auto_offset_reset="earliest",
                    client_id="dirigent-ops",
                    fetch_max_bytes=self._fetch_max_bytes,
                    max_partition_fetch_bytes=self._max_partition_fetch_bytes,
                )
            await start_client(self._consumer, self.bootstrap, what)
        except BaseException:
            await self._stop_quietly()
            self._life.closing()
            raise
        self._life.opened()

    async def close(self) -> None:
        """Disconnect; safe twice."""
        if self._life.closing():
            await self._stop_quietly()

    async def _stop_quietly(self) -> None:
        if self._consumer is not None:
            with contextlib.suppress(TransportError), map_kafka_errors("closing a reader"):
                await self._consumer.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def partitions(self) -> list[int]:
        """The topic's partitions, in order."""
        return [tp.partition for tp in self._tps]

    async def bounds(self) -> list[PartitionBounds]:
        """Log start and end offset of every partition, now."""
        self._life.check_open()
        with map_kafka_errors(f"reading the offsets of {self.topic}"):
            starts = await self._consumer.beginning_offsets(self._tps)
            ends = await self._consumer.end_offsets(self._tps)
        return [PartitionBounds(tp.partition, starts[tp], ends[tp]) for tp in self._tps]

    async def scan(
        self, partition: int, start: int, end: int
    ) -> AsyncIterator[list[InboundRecord]]:
        """Records of ``partition`` with ``start <= offset < end``, in batches."""
        self._life.check_open()
        if end <= start:
            return
        tp = self._point(partition, start)
        stall = _Stall(self, tp)
        while await self._position(tp) < end:
            got = [inbound(m) for m in await self._poll(tp) if m.offset < end]
            stall.check(bool(got), end)
            if got:
                yield got

    async def fetch(
        self, partition: int, offsets: Sequence[int]
    ) -> AsyncIterator[list[tuple[int, InboundRecord | None]]]:
        """The records at ``offsets`` (ascending), each paired with its offset; ``None``
        for an offset the log no longer holds (deleted, compacted, never written)."""
        self._life.check_open()
        if not offsets:
            return
        tp = self._point(partition, offsets[0])
        end = (await self.bounds())[self._tps.index(tp)].end
        stall = _Stall(self, tp)
        i = 0
        while i < len(offsets):
            out: list[tuple[int, InboundRecord | None]] = []
            position = await self._position(tp)
            if position < end:
                messages = await self._poll(tp)
                stall.check(bool(messages), end)
                for m in messages:
                    while i < len(offsets) and offsets[i] < m.offset:
                        out.append((offsets[i], None))
                        i += 1
                    if i < len(offsets) and offsets[i] == m.offset:
                        out.append((m.offset, inbound(m)))
                        i += 1
                position = await self._position(tp)
            while i < len(offsets) and (offsets[i] < position or position >= end):
                out.append((offsets[i], None))
                i += 1
            if i < len(offsets) and offsets[i] > position + SEEK_GAP:
                self._seek(tp, offsets[i])
            if out:
                yield out

    def _point(self, partition: int, offset: int) -> TopicPartition:
        tp = TopicPartition(self.topic, partition)
        if tp not in self._tps:
            raise TransportError(f"topic {self.topic} has no partition {partition}")
        with map_kafka_errors(f"assigning {self.topic}[{partition}]"):
            self._consumer.assign([tp])
        self._seek(tp, offset)
        return tp

    def _seek(self, tp: TopicPartition, offset: int) -> None:
        with map_kafka_errors(f"seek of {tp.topic}[{tp.partition}] to {offset}"):
            self._consumer.seek(tp, offset)

    async def _position(self, tp: TopicPartition) -> int:
        with map_kafka_errors(f"position of {tp.topic}[{tp.partition}]"):
            return int(await self._consumer.position(tp))

    async def _poll(self, tp: TopicPartition) -> list[Any]:
        with map_kafka_errors(f"reading {tp.topic}[{tp.partition}]"):
            batch = await self._consumer.getmany(
                tp, timeout_ms=_POLL_MS, max_records=self.max_records
            )
        return list(batch.get(tp, ()))


class _Stall:
    """Raises when a partition with records left delivers nothing for too long."""

    def __init__(self, reader: TopicReader, tp: TopicPartition) -> None:
        self.reader, self.tp = reader, tp
        self.last = time.monotonic()

    def check(self, progressed: bool, end: int) -> None:
        now = time.monotonic()
        if progressed:
            self.last = now
        elif now - self.last > self.reader.stall_timeout_s:
            raise TransportError(
                f"no record from {self.tp.topic}[{self.tp.partition}] for "
                f"{self.reader.stall_timeout_s:.0f}s although it ends at offset {end}: "
                f"is the broker at {self.reader.bootstrap} reachable?"
            )
