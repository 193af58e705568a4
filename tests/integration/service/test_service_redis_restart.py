"""A participant survives a Redis restart and catches up soon after Redis is back.

Redis here is a private ``redis-server`` on a free port (the shared one is never
killed); Kafka is the shared broker.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import time

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

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

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


OUTAGE_S = 3.0  # how long Redis stays down (the fault, not a wait for a condition)


class PrivateRedis:
    """A throwaway ``redis-server`` that a test may kill and start again on one port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        argv = ["--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"]
        self._proc = await asyncio.create_subprocess_exec(
            exe, *argv, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        client = Redis(port=self.port)
        try:
            deadline = time.monotonic() + 20
            while not await _pings(client):
                assert time.monotonic() < deadline, "private redis-server did not start"
                await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    async def kill(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
            await self._proc.wait()


async def _pings(client: Redis) -> bool:
    try:
        return bool(await client.ping())
    except (OSError, RedisError):
        return False


async def test_a_participant_recovers_from_a_redis_restart(
    infra: Infra, uid: str, make_topic
) -> None:
    server = PrivateRedis(_free_port())
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
