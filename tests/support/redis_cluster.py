"""A Redis Cluster of the test session's own: three masters on free ports, under tmp.

Nodes run with a one-second node timeout, so a node killed by a test is seen as failed
(and, started again, as back) within seconds rather than the production default's 15.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from pathlib import Path

from redis.asyncio import Redis

from dirigent.dev.cluster import ClusterMember, LocalRedisCluster, slot_ranges
from tests.support.throwaway_redis import HOST

__all__ = ["MASTERS", "free_ports", "member_of_slot", "session_cluster", "slots_of"]

MASTERS = 3


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free now (held open together, so none repeats)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind((HOST, 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def session_cluster(home: Path) -> LocalRedisCluster:
    ports = free_ports(2 * MASTERS)  # client ports, then cluster bus ports
    return LocalRedisCluster(
        home, ports=ports[:MASTERS], bus_ports=ports[MASTERS:], host=HOST,
        node_timeout_ms=1000, startup_timeout_s=30,
    )  # fmt: skip


def member_of_slot(cluster: LocalRedisCluster, slot: int) -> ClusterMember:
    """The master that serves ``slot`` (the cluster was formed with ``slot_ranges``)."""
    for member, (lo, hi) in zip(cluster.members, slot_ranges(len(cluster.members)), strict=True):
        if lo <= slot <= hi:
            return member
    raise ValueError(f"slot {slot} out of range")


async def slots_of(node: Redis, keys: Sequence[str]) -> dict[str, int]:
    """``CLUSTER KEYSLOT`` of each key, as the server computes it (one round trip)."""
    unique = sorted(set(keys))
    async with node.pipeline(transaction=False) as pipe:
        for key in unique:
            pipe.execute_command("CLUSTER KEYSLOT", key)
        slots = await pipe.execute()
    return {key: int(slot) for key, slot in zip(unique, slots, strict=True)}
