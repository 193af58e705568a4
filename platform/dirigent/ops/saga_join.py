"""Each dead letter joined to the state of its saga, read from Redis (read-only).

The saga id is the ``dirigent-saga-id`` header; the saga lives in the coordinator
group's namespace on the partition its id hashes to over the partition count of the
saga's co-partitioned topics: ``partitions`` if given, else the count of the dead
letter's original topic (right for replies and events a coordinator reads; pass it
for command topics with another count). Lookups are pipelined, one round trip a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dirigent.errors import TransportError
from dirigent.ops.dlt import DeadLetter
from dirigent.saga.state import SagaState
from dirigent.store.client import RedisClient
from dirigent.store.saga_queries import read_sagas
from dirigent.transport.reader import partition_count, partition_for
from dirigent.transport.security import Bootstrap

__all__ = ["SagaJoin", "SagaLookup"]


@dataclass(frozen=True, slots=True)
class SagaLookup:
    """What Redis holds for a dead letter's saga.

    ``saga_id`` is ``None`` for a record that belongs to no saga; ``state`` is ``None``
    when no saga is stored (yet, or any more), ``error`` set when its state is unreadable
    or its partition cannot be computed.
    """

    saga_id: str | None
    partition: int | None = None
    version: int | None = None
    state: SagaState | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        s = self.state
        return {
            "saga_id": self.saga_id,
            "partition": self.partition,
            "found": s is not None,
            "saga_type": s.saga_type if s else None,
            "status": s.status.value if s else None,
            "version": self.version,
            "error": self.error,
        }


NOT_SAGA_BOUND = SagaLookup(None)


class SagaJoin:
    """Reads the sagas of dead letters from coordinator group ``group_id``."""

    def __init__(
        self,
        redis: RedisClient,
        bootstrap: Bootstrap,
        group_id: str,
        *,
        partitions: int | None = None,
    ) -> None:
        self.redis = redis
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.partitions = partitions
        self._counts: dict[str, int | None] = {}

    async def lookup(self, letters: Sequence[DeadLetter]) -> list[SagaLookup]:
        """One ``SagaLookup`` per letter, in order."""
        out: list[SagaLookup | None] = [None] * len(letters)
        wanted: list[tuple[int, str]] = []
        where: list[int] = []
        for i, d in enumerate(letters):
            if d.saga_id is None:
                out[i] = NOT_SAGA_BOUND
                continue
            count = await self._count(d.topic)
            if count is None:
                out[i] = SagaLookup(d.saga_id, error=f"partition count of {d.topic} unknown")
                continue
            wanted.append((partition_for(d.saga_id, count), d.saga_id))
            where.append(i)
        for i, (p, sid), stored in zip(
            where, wanted, await read_sagas(self.redis, self.group_id, wanted), strict=True
        ):
            out[i] = _lookup(sid, p, stored)
        return [x if x is not None else NOT_SAGA_BOUND for x in out]

    async def _count(self, topic: str | None) -> int | None:
        if self.partitions is not None:
            return self.partitions
        if topic is None:
            return None
        if topic not in self._counts:
            try:
                self._counts[topic] = await partition_count(self.bootstrap, topic)
            except TransportError:
                self._counts[topic] = None  # gone, or unreachable: named in the error
        return self._counts[topic]


def _lookup(saga_id: str, partition: int, stored: Any) -> SagaLookup:
    if stored is None:
        return SagaLookup(saga_id, partition)
    try:
        state = SagaState.from_json(stored.state_json)
    except ValueError as exc:
        return SagaLookup(saga_id, partition, stored.version, error=f"unreadable state: {exc}")
    return SagaLookup(saga_id, partition, stored.version, state)
