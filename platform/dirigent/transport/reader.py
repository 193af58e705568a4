"""Reading a whole topic without a consumer group, for operator commands.

``BatchConsumer`` is a group member made for processing; an operator reading a
dead-letter topic must not join a group nor commit anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import UnknownTopicOrPartitionError
from aiokafka.partitioner import murmur2

from dirigent.errors import TransportError
from dirigent.transport import _records
from dirigent.transport._errors import map_kafka_errors
from dirigent.transport._login import start_client
from dirigent.transport.consumer import InboundRecord, inbound
from dirigent.transport.security import Bootstrap, kafka_options

__all__ = ["end_offset", "partition_count", "partition_for", "read_partition", "read_topic"]


async def read_topic(
    bootstrap: Bootstrap, topic: str, *, limit: int | None = None, timeout_s: float = 30.0
) -> list[InboundRecord]:
    """Every record of ``topic`` from the beginning up to its end now (or ``limit``).

    Records come partition by partition, each in offset order. No group, no commit.
    """
    _records.install()
    consumer = _consumer(bootstrap)
    try:
        tps = await _partitions(bootstrap, topic)
        await start_client(consumer, bootstrap, f"reading topic {topic} on {bootstrap}")
        with map_kafka_errors(f"reading topic {topic} on {bootstrap}"):
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        return await asyncio.wait_for(_drain(consumer, ends, limit), timeout_s)
    except TimeoutError as exc:
        raise TransportError(f"reading topic {topic} took longer than {timeout_s}s") from exc
    finally:
        with map_kafka_errors(f"closing the reader of {topic}"):
            await consumer.stop()


async def partition_count(bootstrap: Bootstrap, topic: str) -> int:
    """The number of partitions of ``topic`` (``TransportError`` if it does not exist)."""
    return len(await _partitions(bootstrap, topic))


def _consumer(bootstrap: Bootstrap) -> Any:
    return AIOKafkaConsumer(
        **kafka_options(bootstrap),
        group_id=None,  # no group: nothing joins, nothing is ever committed
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="dirigent-ops",
    )


async def _partitions(bootstrap: Bootstrap, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(**kafka_options(bootstrap), client_id="dirigent-ops")
    what = f"reading metadata of {topic} on {bootstrap}"
    await start_client(admin, bootstrap, what)
    with map_kafka_errors(what):
        try:
            [found] = await admin.describe_topics([topic])
        finally:
            await admin.close()
    if found["error_code"] == UnknownTopicOrPartitionError.errno:
        raise TransportError(f"topic {topic} does not exist", retryable=False)
    if found["error_code"] != 0:
        raise TransportError(f"cannot describe topic {topic}: error {found['error_code']}")
    return sorted(TopicPartition(topic, p["partition"]) for p in found["partitions"])


async def _drain(
    consumer: Any, ends: dict[TopicPartition, int], limit: int | None
) -> list[InboundRecord]:
    by_tp: dict[TopicPartition, list[InboundRecord]] = {tp: [] for tp in ends}
    pending = {tp for tp, end in ends.items() if end > 0}
    total = 0
    while pending and (limit is None or total < limit):
        with map_kafka_errors("reading a topic"):
            batch = await consumer.getmany(*pending, timeout_ms=500)
            for tp, messages in batch.items():
                kept = [inbound(m) for m in messages if m.offset < ends[tp]]
                by_tp[tp].extend(kept)
                total += len(kept)
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
    records = [r for tp in sorted(by_tp, key=lambda t: t.partition) for r in by_tp[tp]]
    return records if limit is None else records[:limit]


async def end_offset(bootstrap: Bootstrap, topic: str, partition: int) -> int:
    """The offset the next record of ``topic[partition]`` will get."""
    consumer = _consumer(bootstrap)
    tp = TopicPartition(topic, partition)
    try:
        await start_client(consumer, bootstrap, f"reading the end of {topic}[{partition}]")
        with map_kafka_errors(f"reading the end of {topic}[{partition}]"):
            ends: dict[TopicPartition, int] = await consumer.end_offsets([tp])
        return ends[tp]
    finally:
        with map_kafka_errors(f"closing the reader of {topic}"):
            await consumer.stop()


async def read_partition(
    bootstrap: Bootstrap, topic: str, partition: int, *, start: int = 0, follow: bool = False
) -> AsyncGenerator[InboundRecord, None]:
    """The records of ``topic[partition]`` from offset ``start``, one at a time.

    Without ``follow`` it stops at the partition's end as it was when reading began;
    with it, it waits for new records until the caller stops iterating (bound it with
    ``asyncio.timeout``). Memory stays bounded: one fetch at a time. No group, no commit.
    """
    _records.install()
    consumer = _consumer(bootstrap)
    tp = TopicPartition(topic, partition)
    try:
        await start_client(consumer, bootstrap, f"reading {topic}[{partition}] on {bootstrap}")
        with map_kafka_errors(f"reading {topic}[{partition}] on {bootstrap}"):
            consumer.assign([tp])
            consumer.seek(tp, start)
            end = (await consumer.end_offsets([tp]))[tp]
        while follow or await consumer.position(tp) < end:
            with map_kafka_errors(f"reading {topic}[{partition}]"):
                batch = await consumer.getmany(tp, timeout_ms=500)
            for message in batch.get(tp, []):
                if not follow and message.offset >= end:
                    return
                yield inbound(message)
    finally:
        with map_kafka_errors(f"closing the reader of {topic}"):
            await consumer.stop()


def partition_for(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for ``key`` (murmur2, as in Java)."""
    if partitions < 1:
        raise ValueError(f"partitions must be at least 1, not {partitions}")
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions  # type: ignore[no-any-return]
