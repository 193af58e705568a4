"""A participant survives a Redis restart and catches up soon after Redis is back.

Redis here is a private ``redis-server`` on a free port (the shared one is never
killed); Kafka is the shared broker.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from dirigent.service import HandlerContext, ServiceSettings
from dirigent.transport import Publisher, delete_topics, dlt_topic
from tests.integration.service.svc_support import (
    ReserveStock,
    StockReserved,
    codec,
    make_service,
    reserve,
    running,
    wait_for,
)
from tests.support.infra import Infra
from tests.support.throwaway_redis import ThrowawayRedis

pytestmark = pytest.mark.integration


OUTAGE_S = 3.0  # how long Redis stays down (the fault, not a wait for a condition)


async def test_a_participant_recovers_from_a_redis_restart(
    infra: Infra, uid: str, make_topic, tmp_path: Path
) -> None:
    server = ThrowawayRedis(tmp_path)
    topic = await make_topic("redis.cmd")
    replies = await make_topic(f"{topic}.replies")
    redis = Redis(port=server.port, socket_connect_timeout=1, socket_timeout=2)
    settings = ServiceSettings(infra_backoff_initial_s=0.2, infra_backoff_max_s=10)
    service = make_service(infra.kafka_bootstrap, redis, uid, topic, replies, settings=settings)
    handled: list[str] = []

    @service.handles(ReserveStock)
    async def handle(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved:
        handled.append(cmd.order_id)
        return StockReserved(order_id=cmd.order_id, reservation_id="r")

    await server.start()
    try:
        async with (
            running(service) as task,
            Publisher(infra.kafka_bootstrap, codec(), source="o") as pub,
        ):
            await pub.publish(reserve("before"), topic=topic)
            await wait_for(lambda: handled == ["before"], 60, "the first command")
            await server.kill()
            await pub.publish(reserve("during"), topic=topic)
            await asyncio.sleep(OUTAGE_S)
            assert handled == ["before"]  # its reply could not be made durable yet
            await server.start()
            back = time.monotonic()
            await wait_for(lambda: "during" in handled or task.done(), 30, "catching up")
            recovery_s = time.monotonic() - back
            assert not task.done(), "the service stopped"
        # Redis lost the stored reply with the restart, so "during" may run twice: what
        # counts is that it ran at all, soon, and that the service kept running.
        assert handled[0] == "before"
        assert "during" in handled
        print(f"recovered {recovery_s:.2f}s after Redis was back")
    finally:
        await server.kill()
        await redis.aclose()
        await delete_topics(infra.kafka_bootstrap, [dlt_topic(topic)])
