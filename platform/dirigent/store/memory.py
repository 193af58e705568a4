"""A faithful in-memory ``SagaStorePort``: the Lua scripts' semantics, minus Redis.

For unit tests of the coordinator (fenced, duplicate and conflict paths) without a
server. Not the saga authors' harness store (``dirigent.testing.InMemorySagaStore``),
which holds engine states; this one holds what the Redis store holds, as bytes.

Differences from Redis, on purpose: nothing expires (seen ids, terminal sagas), and
``fail_next`` can inject a ``StoreError`` into the next call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import count

from dirigent.errors import FencedOut, StoreError
from dirigent.store.model import PartitionLoad, StoredSaga, Write, WriteOutcome, WriteResult
from dirigent.store.outbox import OutboxRecord, entry_order

__all__ = ["MemorySagaStore"]


@dataclass
class _Partition:
    token: str | None = None
    seen: set[str] = field(default_factory=set)
    sagas: dict[str, StoredSaga] = field(default_factory=dict)
    status: dict[str, dict[str, float]] = field(default_factory=dict)  # status -> id -> at
    outbox: dict[bytes, bytes] = field(default_factory=dict)  # entry id -> packed record
    timers: dict[str, float] = field(default_factory=dict)  # timer id -> due at
    timer_docs: dict[str, bytes] = field(default_factory=dict)
    watermarks: dict[str, int] = field(default_factory=dict)


@dataclass
class MemorySagaStore:
    """The saga store in a dict, for tests.

    Example::

        store = MemorySagaStore()
        token = await store.acquire(0)
        assert await store.apply(0, token, [write]) == [WriteOutcome.OK]
    """

    partitions: dict[int, _Partition] = field(default_factory=dict)
    fail_next: list[StoreError] = field(default_factory=list)  # raised by the next calls
    _entry_seq: count[int] = field(default_factory=lambda: count(1))

    def _p(self, partition: int) -> _Partition:
        if self.fail_next:
            raise self.fail_next.pop(0)
        return self.partitions.setdefault(partition, _Partition())

    async def acquire(self, partition: int) -> str:
        """Bump the partition's fencing token; writes under older tokens now fail."""
        p = self._p(partition)
        p.token = str(int(p.token or 0) + 1)
        return p.token

    async def load_many(self, partition: int, saga_ids: Sequence[str]) -> list[StoredSaga | None]:
        """The stored sagas, ``None`` where there is none."""
        p = self._p(partition)
        return [p.sagas.get(saga_id) for saga_id in saga_ids]

    async def apply(
        self, partition: int, token: str, writes: Sequence[Write]
    ) -> list[WriteOutcome]:
        """Apply writes in order, like ``apply.lua``."""
        return [r.outcome for r in await self.apply_batch(partition, token, writes)]

    async def apply_batch(
        self, partition: int, token: str, writes: Sequence[Write]
    ) -> list[WriteResult]:
        """``apply``, with each applied write's outbox entry ids."""
        p = self._p(partition)
        if p.token != token:
            return [WriteResult(WriteOutcome.FENCED) for _ in writes]
        return [self._apply(p, w) for w in writes]

    def _apply(self, p: _Partition, w: Write) -> WriteResult:
        if w.message_id in p.seen:
            return WriteResult(WriteOutcome.DUPLICATE)
        if w.state_json is not None:
            current = p.sagas.get(w.saga_id)
            if (current.version if current else 0) != w.expected_version:
                return WriteResult(WriteOutcome.CONFLICT)
            new_status = w.new_status or "NONE"
            p.sagas[w.saga_id] = StoredSaga(w.new_version, new_status, w.state_json)
            p.status.get(w.old_status or new_status, {}).pop(w.saga_id, None)
            p.status.setdefault(new_status, {})[w.saga_id] = w.now
        ids = []
        for record in w.outbox:
            entry_id = f"{next(self._entry_seq)}-0".encode()
            p.outbox[entry_id] = record.pack()
            ids.append(entry_id)
        for timer_id, due, doc in w.timers:
            p.timers[timer_id], p.timer_docs[timer_id] = due, doc
        for timer_id in w.cancel_timers:
            p.timers.pop(timer_id, None)
            p.timer_docs.pop(timer_id, None)
        p.seen.add(w.message_id)
        if w.watermark is not None:
            topic, offset = w.watermark
            p.watermarks[topic] = max(offset, p.watermarks.get(topic, -1))
        return WriteResult(WriteOutcome.OK, tuple(ids))

    async def due_timers(self, partition: int, now: float, limit: int = 500) -> list[bytes]:
        """Documents of timers due at ``now``, earliest first (ties by id)."""
        p = self._p(partition)
        due = sorted((at, tid.encode()) for tid, at in p.timers.items() if at <= now)[:limit]
        return [p.timer_docs[tid.decode()] for _, tid in due if tid.decode() in p.timer_docs]

    async def drop_timers(self, partition: int, token: str, timer_ids: Sequence[str]) -> None:
        """Remove timers; ``FencedOut`` if ``token`` is stale."""
        if timer_ids:
            p = self._fenced(partition, token)
            for timer_id in timer_ids:
                p.timers.pop(timer_id, None)
                p.timer_docs.pop(timer_id, None)

    async def postpone_timers(
        self, partition: int, token: str, timer_ids: Sequence[str], due: float
    ) -> None:
        """Move the timers that still exist to ``due``; ``FencedOut`` if stale."""
        if timer_ids:
            p = self._fenced(partition, token)
            for timer_id in timer_ids:
                if timer_id in p.timers:
                    p.timers[timer_id] = due

    async def outbox_pending(
        self, partition: int, count: int = 1000, after: bytes | None = None
    ) -> list[tuple[bytes, OutboxRecord]]:
        """Unsent outbox entries, oldest first (after entry id ``after`` if given)."""
        p = self._p(partition)
        entries = list(p.outbox.items())
        if after is not None:
            entries = [e for e in entries if entry_order(e[0]) > entry_order(after)]
        entries = entries[:count]
        return [(entry_id, OutboxRecord.unpack(blob)) for entry_id, blob in entries]

    async def outbox_ack(
        self,
        partition: int,
        token: str,
        entry_ids: Sequence[bytes],
        rearm: Sequence[tuple[str, float]] = (),
    ) -> None:
        """Forget entries, re-arm existing timers; ``FencedOut`` if stale."""
        if entry_ids or rearm:
            p = self._fenced(partition, token)
            for entry_id in entry_ids:
                p.outbox.pop(entry_id, None)
            for timer_id, due in rearm:
                if timer_id in p.timers:
                    p.timers[timer_id] = due

    async def outbox_size(self, partition: int) -> int:
        """How many entries wait in the outbox."""
        return len(self._p(partition).outbox)

    async def watermarks(self, partition: int) -> dict[str, int]:
        """Per topic, the next offset after the last input applied."""
        return dict(self._p(partition).watermarks)

    async def count_status(self, partition: int, status: str) -> int:
        """How many sagas are in ``status``."""
        return len(self._p(partition).status.get(status, {}))

    async def partition_load(
        self, partitions: Sequence[int], now: float, until: float, suffix: str
    ) -> list[PartitionLoad]:
        """Per partition: outbox entries, timers due at ``now``, and timers due by
        ``until`` whose id ends with ``suffix``."""
        loads = []
        for number in partitions:
            p = self._p(number)
            due = sum(1 for at in p.timers.values() if at <= now)
            matching = sum(1 for t, at in p.timers.items() if at <= until and t.endswith(suffix))
            loads.append(PartitionLoad(len(p.outbox), due, matching))
        return loads

    def _fenced(self, partition: int, token: str) -> _Partition:
        p = self._p(partition)
        if p.token != token:
            raise FencedOut(
                f"partition {partition} is owned by a newer coordinator "
                f"(token {token}, current {p.token or 'none'})"
            )
        return p
