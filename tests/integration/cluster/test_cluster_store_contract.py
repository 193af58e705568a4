"""The Redis saga store meets the whole store contract on a Redis Cluster too."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from dirigent.store import RedisClient, SagaStore
from tests.unit.store.store_contract import StoreContract

pytestmark = pytest.mark.integration


class TestClusterSagaStore(StoreContract):
    @pytest.fixture
    def store(self, cluster_redis: RedisClient) -> SagaStore:
        return SagaStore(cluster_redis, namespace=f"contract-{uuid.uuid4().hex[:8]}", seen_ttl_s=60)

    async def scheduled(self, store: SagaStore, partition: int) -> dict[str, float]:
        rows: Any = await store.redis.zrange(store.keys(partition).timers, 0, -1, withscores=True)
        return {member.decode(): float(score) for member, score in rows}
