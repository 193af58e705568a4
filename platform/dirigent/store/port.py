"""The saga store as the coordinator sees it: a protocol, met by Redis and by memory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from dirigent.store.model import PartitionLoad, StoredSaga, Write, WriteOutcome, WriteResult
from dirigent.store.outbox import OutboxRecord

__all__ = ["SagaStorePort"]


class SagaStorePort(Protocol):
    """Fenced, deduplicated, compare-and-set saga persistence for one coordinator group.

    Met by ``SagaStore`` (Redis) and ``MemorySagaStore`` (tests). Every method raises
    ``StoreError`` (read ``retryable``) on an infrastructure fault; the fenced writers
    (``drop_timers``, ``postpone_timers``, ``outbox_ack``) raise ``FencedOut`` when
    ``token`` is not the partition's current one, and then change nothing.
    """

    async def acquire(self, partition: int) -> str:
        """Bump the partition's fencing token and return it."""
        ...

    async def load_many(self, partition: int, saga_ids: Sequence[str]) -> list[StoredSaga | None]:
        """The stored sagas, ``None`` where there is none, in the order asked."""
        ...

    async def apply(
        self, partition: int, token: str, writes: Sequence[Write]
    ) -> list[WriteOutcome]:
        """Apply writes in order, each atomically; a later one sees the earlier ones."""
        ...

    async def apply_batch(
        self, partition: int, token: str, writes: Sequence[Write]
    ) -> list[WriteResult]:
        """``apply``, also returning each applied write's outbox entry ids."""
        ...

    async def due_timers(self, partition: int, now: float, limit: int = 500) -> list[bytes]:
        """Documents of timers due at ``now``, earliest first (they stay until removed)."""
        ...

    async def drop_timers(self, partition: int, token: str, timer_ids: Sequence[str]) -> None:
        """Remove timers."""
        ...

    async def postpone_timers(
        self, partition: int, token: str, timer_ids: Sequence[str], due: float
    ) -> None:
        """Move the timers that still exist to ``due``."""
        ...

    async def outbox_pending(
        self, partition: int, count: int = 1000, after: bytes | None = None
    ) -> list[tuple[bytes, OutboxRecord]]:
        """Unsent outbox entries, oldest first: ``(entry id, record)``, after ``after``."""
        ...

    async def outbox_ack(
        self,
        partition: int,
        token: str,
        entry_ids: Sequence[bytes],
        rearm: Sequence[tuple[str, float]] = (),
    ) -> None:
        """Forget produced entries; move each ``(timer id, due at)`` that still exists."""
        ...

    async def outbox_size(self, partition: int) -> int:
        """How many entries wait in the outbox."""
        ...

    async def watermarks(self, partition: int) -> dict[str, int]:
        """Per topic, the next offset after the last input applied."""
        ...

    async def count_status(self, partition: int, status: str) -> int:
        """How many sagas are in ``status``."""
        ...

    async def partition_load(
        self, partitions: Sequence[int], now: float, until: float, suffix: str
    ) -> list[PartitionLoad]:
        """Per partition: outbox entries, timers due at ``now``, and timers due by
        ``until`` whose id ends with ``suffix`` (for periodic gauges, never per input)."""
        ...
