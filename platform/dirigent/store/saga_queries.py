"""Read-only queries over the coordinator's saga store, for operator commands.

Nothing here writes: the coordinator owns every write (``SagaStore.apply``). Keys come
from ``PartitionKeys`` like everywhere else.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from dirigent.store._errors import map_redis_errors
from dirigent.store.client import RedisClient
from dirigent.store.keys import PartitionKeys
from dirigent.store.model import StoredSaga

__all__ = ["IndexedSaga", "read_saga", "read_sagas", "sagas_with_status", "scan_states"]


@dataclass(frozen=True, slots=True)
class IndexedSaga:
    """One entry of a status index: which saga, where, and when it last changed."""

    saga_id: str
    partition: int
    updated_at: float


async def read_saga(
    redis: RedisClient, namespace: str, partition: int, saga_id: str
) -> StoredSaga | None:
    """The stored saga (version, status, state JSON), or ``None`` if there is none."""
    key = PartitionKeys(namespace, partition).saga(saga_id)
    with map_redis_errors(f"cannot read saga {saga_id} (partition {partition})"):
        row: list[Any] = await redis.hmget(key, ["v", "st", "s"])
    v, st, s = row
    return None if v is None else StoredSaga(int(v), st.decode(), s)


async def sagas_with_status(
    redis: RedisClient,
    namespace: str,
    partitions: Sequence[int],
    status: str,
    *,
    limit: int | None = None,
) -> list[IndexedSaga]:
    """Sagas in ``status`` over ``partitions``, most recently updated first.

    Reads at most ``limit`` entries per partition (one pipelined round trip), then
    merges them, so the overall newest ``limit`` are exact.
    """
    stop = -1 if limit is None else limit - 1
    with map_redis_errors(f"cannot read the {status} index of {namespace}"):
        async with redis.pipeline(transaction=False) as pipe:
            for p in partitions:
                pipe.zrevrange(PartitionKeys(namespace, p).status(status), 0, stop, withscores=True)
            rows: list[Any] = await pipe.execute()
    found = [
        IndexedSaga(member.decode(), p, float(score))
        for p, row in zip(partitions, rows, strict=True)
        for member, score in row
    ]
    found.sort(key=lambda s: (-s.updated_at, s.saga_id))
    return found if limit is None else found[:limit]


async def scan_states(
    redis: RedisClient,
    namespace: str,
    partitions: Sequence[int],
    statuses: Sequence[str],
    *,
    batch: int = 500,
) -> AsyncIterator[tuple[int, str, str]]:
    """Every saga in ``statuses``: ``(partition, saga id, state JSON)``, ``batch`` per
    round trip, without holding the index in memory (sagas that end meanwhile are skipped)."""
    for p in partitions:
        keys = PartitionKeys(namespace, p)
        for status in statuses:
            cursor = 0
            while True:
                with map_redis_errors(f"cannot scan the {status} index of {namespace}"):
                    cursor, rows = await redis.zscan(keys.status(status), cursor, count=batch)
                    ids = [bytes(member).decode() for member, _ in _pairs(rows)]
                    async with redis.pipeline(transaction=False) as pipe:
                        for sid in ids:
                            pipe.hget(keys.saga(sid), "s")  # the state JSON
                        states: list[Any] = await pipe.execute() if ids else []
                for sid, st in zip(ids, states, strict=True):
                    if st is not None:
                        yield p, sid, st.decode()
                if cursor == 0:
                    break


def _pairs(rows: Any) -> list[tuple[bytes, float]]:
    return list(rows)


async def read_sagas(
    redis: RedisClient, namespace: str, wanted: Sequence[tuple[int, str]]
) -> list[StoredSaga | None]:
    """``read_saga`` of each ``(partition, saga id)``, in one pipelined round trip."""
    if not wanted:
        return []
    with map_redis_errors(f"cannot read {len(wanted)} saga(s) of {namespace}"):
        async with redis.pipeline(transaction=False) as pipe:
            for p, sid in wanted:
                pipe.hmget(PartitionKeys(namespace, p).saga(sid), ["v", "st", "s"])
            rows: list[Any] = await pipe.execute()
    return [None if v is None else StoredSaga(int(v), st.decode(), s) for v, st, s in rows]
