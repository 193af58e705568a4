"""The Redis saga store meets the store contract, against the real Redis."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio import Redis

from dirigent.store import SagaStore
from tests.unit.store.store_contract import StoreContract


class TestRedisSagaStore(StoreContract):
    @pytest.fixture
    def store(self, redis: Redis, uid: str) -> SagaStore:
        return SagaStore(redis, namespace=f"test-{uid}", seen_ttl_s=60)

    async def scheduled(self, store: SagaStore, partition: int) -> dict[str, float]:
        rows: Any = await store.redis.zrange(store.keys(partition).timers, 0, -1, withscores=True)
        return {member.decode(): float(score) for member, score in rows}
