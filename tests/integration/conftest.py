"""Real Kafka and Redis for integration tests, with unique names per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from redis.asyncio import Redis

from dirigent.transport import TopicSpec, delete_topics, ensure_topics
from tests.support.infra import Infra, provide_infra

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    with provide_infra() as found:
        yield found


@pytest.fixture
def uid() -> str:
    """A short unique token for this test's topics, groups and key prefixes."""
    return uuid.uuid4().hex[:10]


TopicFactory = Callable[..., Awaitable[str]]


@pytest.fixture
async def make_topic(infra: Infra, uid: str) -> AsyncIterator[TopicFactory]:
    """Create uniquely named topics for one test; deleted afterwards."""
    created: list[str] = []

    async def factory(base: str = "t", *, partitions: int = 1) -> str:
        name = f"{base}.{uid}.{len(created)}"
        await ensure_topics(infra.kafka_bootstrap, [TopicSpec(name, partitions)])
        created.append(name)
        return name

    yield factory
    await delete_topics(infra.kafka_bootstrap, created)


@pytest.fixture
async def redis(infra: Infra, uid: str) -> AsyncIterator[Redis]:
    """A Redis client; keys under ``test:<uid>:`` are removed afterwards."""
    client = Redis.from_url(infra.redis_url)
    yield client
    keys = [k async for k in client.scan_iter(match=f"*{uid}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
