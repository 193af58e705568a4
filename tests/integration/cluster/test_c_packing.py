"""The coordinator's cluster client packs commands in C on every node, as the single
server's does (``store/_packing.py``)."""

from __future__ import annotations

from redis.asyncio import RedisCluster

from dirigent.coordinator.assembly import redis_client
from dirigent.dev import LocalRedisCluster
from dirigent.store._packing import CPackedConnection


async def test_every_node_of_the_cluster_client_packs_in_c(
    redis_cluster: LocalRedisCluster,
) -> None:
    await redis_cluster.up()
    client = redis_client(redis_cluster.url)
    assert isinstance(client, RedisCluster)
    try:
        for i in range(30):  # keys on every master
            await client.set(f"packing:{{k{i}}}", i)
        nodes = client.get_nodes()
        assert len(nodes) >= 3
        assert {node.connection_class for node in nodes} == {CPackedConnection}
        assert [await client.get(f"packing:{{k{i}}}") for i in range(3)] == [b"0", b"1", b"2"]
    finally:
        await client.aclose()
