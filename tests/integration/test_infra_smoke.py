"""The real broker and server behave as dirigent needs: durable produce, consume, restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from redis.asyncio import Redis

from dirigent.dev import KafkaNode
from dirigent.dev.health import kafka_ready
from dirigent.transport import TopicSpec, ensure_topics
from tests.integration.conftest import TopicFactory
from tests.support.infra import Infra


def _producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )


async def _consume(bootstrap: str, topic: str, group: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    got: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(got) < count:
                batch = await consumer.getmany(timeout_ms=500)
                got.extend(r.value for records in batch.values() for r in records)
        await consumer.commit()
    finally:
        await consumer.stop()
    return got


async def test_produce_consume_round_trip_with_acks_all(
    infra: Infra, make_topic: TopicFactory, uid: str
) -> None:
    topic = await make_topic("smoke", partitions=3)
    producer = _producer(infra.kafka_bootstrap)
    await producer.start()
    try:
        sent = [f"m{i}".encode() for i in range(50)]
        for value in sent:
            await producer.send(topic, value, key=value[-1:])
        await producer.flush()
    finally:
        await producer.stop()

    got = await _consume(infra.kafka_bootstrap, topic, f"g.{uid}", len(sent))
    assert sorted(got) == sorted(sent)


async def test_committed_offsets_survive_a_new_consumer(
    infra: Infra, make_topic: TopicFactory, uid: str
) -> None:
    topic = await make_topic("offsets")
    producer = _producer(infra.kafka_bootstrap)
    await producer.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, f"a{i}".encode())
        await _consume(infra.kafka_bootstrap, topic, f"g.{uid}", 5)
        await producer.send_and_wait(topic, b"after")
    finally:
        await producer.stop()

    assert await _consume(infra.kafka_bootstrap, topic, f"g.{uid}", 1) == [b"after"]


async def test_redis_round_trip(redis: Redis, uid: str) -> None:
    key = f"test:{uid}:k"
    await redis.hset(key, mapping={"a": "1", "b": "2"})
    await redis.hincrby(key, "a", 41)
    assert await redis.hgetall(key) == {b"a": b"42", b"b": b"2"}


async def test_client_reconnects_after_the_broker_is_killed(infra: Infra, tmp_path: Path) -> None:
    """SIGKILL a broker mid-stream; after restart the same producer carries on."""
    if infra.stack is None:
        pytest.skip("needs the local stack: this test runs its own broker process")
    node = KafkaNode(
        home=tmp_path / "kafka",
        jars_cache=infra.stack.kafka.jars_cache,
        port=infra.stack.kafka.port + 100,
        controller_port=infra.stack.kafka.controller_port + 100,
    )
    await asyncio.to_thread(node.start)
    try:
        await _wait_ready(node.bootstrap)
        await ensure_topics(node.bootstrap, [TopicSpec("restart")])
        producer = _producer(node.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait("restart", b"before")
            await asyncio.to_thread(node.process.stop, kill=True)
            pending = await producer.send("restart", b"during")  # buffered while down
            await asyncio.to_thread(node.start)
            await _wait_ready(node.bootstrap)
            async with asyncio.timeout(60):
                await pending
            await producer.send_and_wait("restart", b"after")
        finally:
            await producer.stop()
        got = await _consume(node.bootstrap, "restart", "g.restart", 3)
        assert got == [b"before", b"during", b"after"]
    finally:
        await asyncio.to_thread(node.process.stop)


async def _wait_ready(bootstrap: str) -> None:
    async with asyncio.timeout(90):
        while not await kafka_ready(bootstrap):
            await asyncio.sleep(0.25)
