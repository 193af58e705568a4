"""Redis killed under load: the coordinator survives, says it is degraded, then ready.

A durable redis-server of the test's own (AOF, fsync always, as saga state needs) is
killed with SIGKILL while orders flow and started again a few seconds later. The
coordinator must not exit; ``/readyz`` must answer 503 during the outage and 200 after
it; and every order, including those placed while Redis was down, must complete.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import ClientError, ClientSession
from redis.asyncio import Redis

from dirigent.config import Settings
from dirigent.coordinator import Coordinator, CoordinatorSettings
from dirigent.saga import SagaStatus
from dirigent.store import SagaStore
from tests.integration.coordinator.test_coordinator_e2e import (
    PARTITIONS,
    Shop,
    order,
    place,
    reply_to,
    shop,  # noqa: F401 - fixture
)
from tests.support.responder import Responder
from tests.support.throwaway_redis import ThrowawayRedis, free_port

pytestmark = pytest.mark.timeout(180)


async def readiness(port: int) -> int:
    try:
        async with ClientSession() as http, http.get(f"http://127.0.0.1:{port}/readyz") as r:
            return r.status
    except ClientError:
        return 0


async def until(what: str, timeout_s: float, check: Callable[[], Awaitable[bool]]) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def settled(redis_url: str, group: str) -> Counter[str]:
    redis = Redis.from_url(redis_url)
    try:
        store, counts = SagaStore(redis, group), Counter[str]()
        for p in range(PARTITIONS):
            for status in SagaStatus:
                counts[status.value] += await store.count_status(p, status.value)
        return counts
    finally:
        await redis.aclose()


async def test_the_coordinator_survives_a_redis_kill_and_reports_it(
    shop: Shop,  # noqa: F811
    uid: str,
    tmp_path: Path,
) -> None:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (make deps installs it)")
    redis = ThrowawayRedis(tmp_path, durable=True)
    await redis.start()
    port, group = free_port(), f"outage-{uid}"
    settings = Settings(kafka_bootstrap=shop.settings.kafka_bootstrap, redis_url=redis.url)
    config = CoordinatorSettings(group_id=group, metrics_port=port,
                                 transitions_topic=f"{shop.prefix}.transitions")  # fmt: skip
    coordinator = Coordinator([shop.saga], settings=settings, config=config)
    try:
        async with Responder(shop.settings.kafka_bootstrap, sorted(shop.saga.command_topics),
                             shop.codec, reply_to, group=f"resp-{uid}"):  # fmt: skip
            task = asyncio.create_task(coordinator.run())
            await until("ready", 30, lambda: answers(port, 200))
            await place(shop, [order(i) for i in range(10)])
            await until("first orders", 30, lambda: ended(redis.url, group, 10))
            await redis.kill()
            await place(shop, [order(i) for i in range(10, 20)])  # while Redis is down
            await until("degraded (503)", 30, lambda: answers(port, 503))
            await asyncio.sleep(3)
            assert not task.done(), "the coordinator exited while Redis was down"
            await redis.start()
            await until("ready again", 60, lambda: answers(port, 200))
            await until("all orders", 60, lambda: ended(redis.url, group, 20))
            counts = await settled(redis.url, group)
            coordinator.stop()
            await task
    finally:
        await redis.kill()
    assert counts["COMPLETED"] == 20, counts


async def answers(port: int, status: int) -> bool:
    return await readiness(port) == status


async def ended(redis_url: str, group: str, expected: int) -> bool:
    found = await settled(redis_url, group)
    return sum(found[s.value] for s in SagaStatus if s.settled) >= expected
