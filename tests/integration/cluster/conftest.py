"""The cluster suite's fixtures: one private Redis Cluster per session (free ports, tmp).

Skipped, with the reason, only where Debian's ``redis-server`` is not installed
(``make deps`` installs it). The shared ``dirigent dev up`` stack is never touched;
tests that need Kafka take it from the ``infra`` fixture as the other suites do.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest

from dirigent.dev import LocalRedisCluster
from dirigent.store import RedisClient, redis_client
from tests.support.redis_cluster import session_cluster


@pytest.fixture(scope="session")
async def redis_cluster(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LocalRedisCluster]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (make deps installs it): no local Redis Cluster")
    cluster = session_cluster(tmp_path_factory.mktemp("redis-cluster"))
    try:
        await cluster.up()
        yield cluster
    finally:
        await cluster.down()


@pytest.fixture
async def cluster_redis(redis_cluster: LocalRedisCluster) -> AsyncIterator[RedisClient]:
    """dirigent's own client for the session's cluster (``redis+cluster://``)."""
    await redis_cluster.up()  # a test that killed a node may have left it down
    client = redis_client(redis_cluster.url)
    yield client
    await client.aclose()
