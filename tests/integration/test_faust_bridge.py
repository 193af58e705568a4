"""A real Faust worker (in this event loop) serving a dirigent handler against the broker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import faust
from redis.asyncio import Redis

from dirigent.events import Event
from dirigent.faust import AvroEventCodec, FaustBridge
from dirigent.service import HandlerContext
from dirigent.transport import Publisher
from tests.integration.service.svc_support import (
    ReserveStock,
    StockReserved,
    codec,
    make_service,
    read_topic,
    reserve,
    wait_for,
)
from tests.support.infra import Infra


@asynccontextmanager
async def faust_worker(app: faust.App) -> AsyncIterator[faust.App]:
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def test_a_faust_agent_handles_a_command_once_and_replies_to_duplicates(
    infra: Infra, redis: Redis, uid: str, make_topic
) -> None:
    topic = await make_topic("faust.cmd")
    replies_topic = await make_topic("faust.replies")
    service = make_service(infra.kafka_bootstrap, redis, uid, topic, replies_topic)
    calls: list[str] = []

    @service.handles(ReserveStock)
    async def reserve_stock(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved:
        calls.append(ctx.idempotency_key)
        return StockReserved(order_id=cmd.order_id, reservation_id="r1")

    app = faust.App(
        f"faust-{uid}",
        broker=f"kafka://{infra.kafka_bootstrap}",
        store="memory://",
        web_enabled=False,
        topic_allow_declare=True,  # the broker has auto.create.topics.enable=false
        topic_replication_factor=1,
        topic_partitions=1,
    )
    typed: list[Event] = []
    watch = app.topic(topic, value_serializer=AvroEventCodec(codec()), key_serializer="raw")

    @app.agent(watch, name=f"watch-{uid}")
    async def watcher(stream: faust.StreamT) -> None:
        async for event in stream:
            typed.append(event)

    bridge = FaustBridge(service)
    bridge.attach(app)
    await bridge.start()
    try:
        async with (
            faust_worker(app),
            Publisher(infra.kafka_bootstrap, codec(), source="orders") as pub,
        ):
            env = pub.envelope_for(reserve("f1"), saga_id=f"saga-{uid}")
            await pub.publish(reserve("f1"), topic=topic, envelope=env)
            await pub.publish(reserve("f1"), topic=topic, envelope=env)  # redelivery
            replies = await read_topic(infra.kafka_bootstrap, replies_topic, 2, timeout_s=60)
            await wait_for(lambda: len(typed) == 2, 30, "the typed Faust agent")
    finally:
        await bridge.close()

    assert calls == [env.message_id]
    assert (replies[0].key, replies[0].value, replies[0].headers) == (
        replies[1].key,
        replies[1].value,
        replies[1].headers,
    )
    assert typed == [reserve("f1"), reserve("f1")]
