"""A URL naming the wrong kind of server fails at once, saying which setting to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.crc import key_slot

from dirigent.dev import LocalRedisCluster
from dirigent.errors import StoreError
from dirigent.store import SagaStore, redis_client
from tests.support.redis_cluster import member_of_slot
from tests.support.throwaway_redis import HOST, ThrowawayRedis

pytestmark = pytest.mark.integration


async def test_a_plain_url_at_a_cluster_node_is_a_permanent_fault(
    redis_cluster: LocalRedisCluster,
) -> None:
    await redis_cluster.up()
    first = redis_cluster.members[0]
    redis = redis_client(f"redis://{first.address}/0")
    try:
        store = SagaStore(redis, "plain-at-cluster")
        elsewhere = next(  # a partition another master serves: this node answers MOVED
            p for p in range(64)
            if member_of_slot(redis_cluster, key_slot(store.keys(p).tag.encode())) != first
        )  # fmt: skip
        with pytest.raises(StoreError, match="redis\\+cluster://") as caught:
            await store.acquire(elsewhere)
        assert caught.value.retryable is False
    finally:
        await redis.aclose()


@pytest.mark.usefixtures("redis_cluster")  # skipped with the others if redis-server is missing
async def test_a_cluster_url_at_a_single_server_is_a_permanent_fault(tmp_path: Path) -> None:
    server = ThrowawayRedis(tmp_path)
    await server.start()
    redis = redis_client(f"redis+cluster://{HOST}:{server.port}")
    try:
        with pytest.raises(StoreError, match="use redis://") as caught:
            await SagaStore(redis, "cluster-at-plain").acquire(0)
        assert caught.value.retryable is False
    finally:
        await redis.aclose()
        await server.kill()
