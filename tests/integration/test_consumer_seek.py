"""Seeking back a partition that a rebalance took away is a no-op, not a crash.

aiokafka raises ``IllegalStateError`` for it, which is a permanent error: a runtime
that rewinds after a failed batch must not die because the partition moved meanwhile.
"""

from __future__ import annotations

import asyncio

from aiokafka import TopicPartition

from dirigent.transport import BatchConsumer, OutgoingRecord, RawProducer
from tests.integration.conftest import TopicFactory
from tests.support.infra import Infra


async def test_seek_of_an_unassigned_partition_is_a_no_op(
    infra: Infra, make_topic: TopicFactory, uid: str
) -> None:
    topic = await make_topic("seek")
    async with RawProducer(infra.kafka_bootstrap) as producer:
        await producer.send(OutgoingRecord(topic, b"v", b"k"))
    async with BatchConsumer(infra.kafka_bootstrap, [topic], group_id=f"seek-{uid}") as c:
        async with asyncio.timeout(30):
            batch = {}
            while not batch:
                batch = await c.getmany(timeout_ms=200)
        c.seek(TopicPartition(f"{topic}-elsewhere", 0), 0)  # not ours: nothing happens
        [(tp, records)] = batch.items()
        c.seek(tp, records[0].offset)  # ours: read again
        again = await c.getmany(timeout_ms=2000)
    assert [r.value for r in again[tp]] == [b"v"]
