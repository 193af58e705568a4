"""The coordinator's saga store: one atomic Lua call per input, pipelined per batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from dirigent.errors import StoreError
from dirigent.store.keys import PartitionKeys
from dirigent.store.outbox import OutboxRecord

__all__ = ["Outcome", "SagaStore", "StoredSaga", "Write"]

_APPLY = (resources.files("dirigent.store") / "lua" / "apply.lua").read_text()


class Outcome(StrEnum):
    OK = "OK"
    DUPLICATE = "DUP"
    FENCED = "FENCED"
    CONFLICT = "CONFLICT"


@dataclass(frozen=True, slots=True)
class Write:
    """Everything one input changes. ``state_json is None``: only mark it seen.

    ``expected_version`` is the version read before the engine ran (0 = new saga).
    """

    message_id: str
    saga_id: str
    expected_version: int = 0
    new_version: int = 0
    state_json: bytes | None = None
    old_status: str | None = None
    new_status: str = ""
    terminal: bool = False
    outbox: Sequence[OutboxRecord] = ()
    timers: Sequence[tuple[str, float, bytes]] = ()  # (timer id, due at, timer json)
    cancel_timers: Sequence[str] = ()
    watermark: tuple[str, int] | None = None  # (topic, next offset)
    now: float = 0.0


@dataclass(frozen=True, slots=True)
class StoredSaga:
    version: int
    status: str
    state_json: bytes


@dataclass
class SagaStore:
    """Saga state, outbox, timers, fencing and watermarks of one coordinator group.

    Example::

        store = SagaStore(redis, namespace="orders-coordinator")
        token = await store.acquire(partition=3)        # fences out the previous owner
        outcomes = await store.apply(3, token, [write])  # one round trip per batch
    """

    redis: Redis
    namespace: str
    seen_ttl_s: int = 7 * 24 * 3600
    terminal_ttl_s: int | None = 7 * 24 * 3600
    _script: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._script = self.redis.register_script(_APPLY)

    def keys(self, partition: int) -> PartitionKeys:
        return PartitionKeys(self.namespace, partition)

    async def acquire(self, partition: int) -> str:
        """Bump the partition's fencing token; writes under older tokens now fail."""
        try:
            return str(await self.redis.incr(self.keys(partition).fence))
        except RedisError as exc:
            raise StoreError(f"cannot fence partition {partition}: {exc}") from exc

    async def load_many(self, partition: int, saga_ids: Sequence[str]) -> list[StoredSaga | None]:
        """Read sagas in one round trip (pipelined ``HMGET``)."""
        keys = self.keys(partition)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for saga_id in saga_ids:
                    pipe.hmget(keys.saga(saga_id), "v", "st", "s")
                rows = await pipe.execute()
        except RedisError as exc:
            raise StoreError(f"cannot load sagas of partition {partition}: {exc}") from exc
        return [StoredSaga(int(v), st.decode(), s) if v is not None else None for v, st, s in rows]

    async def apply(self, partition: int, token: str, writes: Sequence[Write]) -> list[Outcome]:
        """Apply writes in order, one Lua call each, in one pipelined round trip."""
        keys = self.keys(partition)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for write in writes:
                    k, a = self._call(keys, token, write)
                    await self._script(keys=k, args=a, client=pipe)
                replies = await pipe.execute()
        except RedisError as exc:
            raise StoreError(f"saga store write failed on partition {partition}: {exc}") from exc
        return [Outcome(r[0].decode() if isinstance(r[0], bytes) else r[0]) for r in replies]

    def _call(self, keys: PartitionKeys, token: str, w: Write) -> tuple[list[str], list[Any]]:
        new_status = w.new_status or "NONE"
        k = [
            keys.fence, keys.seen(w.message_id), keys.saga(w.saga_id), keys.outbox,
            keys.timers, keys.timer_docs, keys.status(w.old_status or new_status),
            keys.status(new_status), keys.watermark,
        ]  # fmt: skip
        ttl = self.terminal_ttl_s if w.terminal and self.terminal_ttl_s else ""
        a: list[Any] = [
            token, self.seen_ttl_s, w.expected_version,
            w.new_version if w.state_json is not None else "", w.state_json or b"",
            new_status, w.saga_id, w.now, ttl,
            w.watermark[0] if w.watermark else "", w.watermark[1] if w.watermark else 0,
            len(w.outbox), *(r.pack() for r in w.outbox),
            len(w.timers), *(x for t in w.timers for x in t),
            len(w.cancel_timers), *w.cancel_timers,
        ]  # fmt: skip
        return k, a

    async def due_timers(self, partition: int, now: float, limit: int = 500) -> list[bytes]:
        """Timer documents whose due time has come (they stay until cancelled)."""
        keys = self.keys(partition)
        ids: Any = await self.redis.zrangebyscore(keys.timers, "-inf", now, start=0, num=limit)
        if not ids:
            return []
        docs: list[bytes | None] = await self.redis.hmget(keys.timer_docs, ids)  # type: ignore[assignment]
        return [d for d in docs if d is not None]

    async def drop_timers(self, partition: int, timer_ids: Sequence[str]) -> None:
        """Remove timers that fired but changed nothing (the engine ignored them)."""
        if timer_ids:
            keys = self.keys(partition)
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zrem(keys.timers, *timer_ids)
                pipe.hdel(keys.timer_docs, *timer_ids)
                await pipe.execute()

    async def postpone_timers(self, partition: int, timer_ids: Sequence[str], due: float) -> None:
        """Move timers to ``due`` (a breaker holds them while its participant is down)."""
        if timer_ids:
            await self.redis.zadd(self.keys(partition).timers, dict.fromkeys(timer_ids, due))

    async def outbox_pending(
        self, partition: int, count: int = 1000
    ) -> list[tuple[bytes, OutboxRecord]]:
        """Unsent outbox entries, oldest first: ``(entry id, record)``."""
        rows: Any = await self.redis.xrange(self.keys(partition).outbox, count=count)
        return [(entry_id, OutboxRecord.unpack(fields[b"r"])) for entry_id, fields in rows]

    async def outbox_ack(self, partition: int, entry_ids: Sequence[bytes]) -> None:
        """Forget outbox entries the broker has acknowledged."""
        if entry_ids:
            await self.redis.xdel(self.keys(partition).outbox, *entry_ids)

    async def outbox_size(self, partition: int) -> int:
        return int(await self.redis.xlen(self.keys(partition).outbox))

    async def watermarks(self, partition: int) -> dict[str, int]:
        raw: dict[bytes, bytes] = await self.redis.hgetall(self.keys(partition).watermark)  # type: ignore[assignment]
        return {k.decode(): int(v) for k, v in raw.items()}

    async def count_status(self, partition: int, status: str) -> int:
        return int(await self.redis.zcard(self.keys(partition).status(status)))
