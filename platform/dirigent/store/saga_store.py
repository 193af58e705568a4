"""The coordinator's saga store: one atomic Lua call per batch of inputs.

Every Redis call goes through ``map_redis_errors``: callers see ``StoreError`` (with
``retryable``) or ``FencedOut``, never a raw ``redis`` exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dirigent.errors import FencedOut, StoreError
from dirigent.store._errors import map_redis_errors, translate_redis_error
from dirigent.store._lua import LuaScript
from dirigent.store.client import RedisClient
from dirigent.store.keys import PartitionKeys
from dirigent.store.model import PartitionLoad, StoredSaga, Write, WriteOutcome, WriteResult
from dirigent.store.outbox import OutboxRecord

__all__ = ["SagaStore", "StoredSaga", "Write", "WriteOutcome"]


_APPLY = LuaScript.named("apply")
BATCH = 200  # writes per script call: Redis runs nothing else while a script runs
_OUTBOX_ACK = LuaScript.named("outbox_ack")
_POSTPONE = LuaScript.named("timers_postpone")
_DROP = LuaScript.named("timers_drop")
_LOAD = LuaScript.named("partition_load")
# Timers partition_load looks at for the suffix, per partition: bounds the time the
# script holds Redis (about a millisecond per 5,000 ids) every sampling.
SCAN_LIMIT = 10_000


@dataclass
class SagaStore:
    """Saga state, outbox, timers, fencing and watermarks of one coordinator group.

    Example::

        store = SagaStore(redis, namespace="orders-coordinator")
        token = await store.acquire(partition=3)        # fences out the previous owner
        outcomes = await store.apply(3, token, [write])  # one round trip per batch
    """

    redis: RedisClient  # a single server or a Redis Cluster (store.client)
    namespace: str
    seen_ttl_s: int = 7 * 24 * 3600
    terminal_ttl_s: int | None = 7 * 24 * 3600

    def keys(self, partition: int) -> PartitionKeys:
        """The Redis keys of ``partition`` (for read-only tooling)."""
        return PartitionKeys(self.namespace, partition)

    async def acquire(self, partition: int) -> str:
        """Bump the partition's fencing token; writes under older tokens now fail."""
        with map_redis_errors(f"cannot fence partition {partition}"):
            return str(await self.redis.incr(self.keys(partition).fence))

    async def load_many(self, partition: int, saga_ids: Sequence[str]) -> list[StoredSaga | None]:
        """Read sagas in one round trip (pipelined ``HMGET``)."""
        keys = self.keys(partition)
        with map_redis_errors(f"cannot load sagas of partition {partition}"):
            async with self.redis.pipeline(transaction=False) as pipe:
                for saga_id in saga_ids:
                    pipe.hmget(keys.saga(saga_id), "v", "st", "s")
                rows = await pipe.execute()
        return [StoredSaga(int(v), st.decode(), s) if v is not None else None for v, st, s in rows]

    async def apply(
        self, partition: int, token: str, writes: Sequence[Write]
    ) -> list[WriteOutcome]:
        """Apply writes in order, in one round trip (see ``apply_batch``)."""
        return [r.outcome for r in await self.apply_batch(partition, token, writes)]

    async def apply_batch(
        self, partition: int, token: str, writes: Sequence[Write]
    ) -> list[WriteResult]:
        """Apply writes in order, ``BATCH`` to a Lua call, the calls pipelined in one
        round trip; each applied write's result holds its outbox entry ids.

        Each outcome is final for its write; a later write sees the earlier ones. A
        call that fails part-way (Redis does not roll a script back) is reported as a
        fault: the writes it applied are duplicates when the batch is sent again.
        """
        if not writes:
            return []
        keys = self.keys(partition)
        chunks = [writes[i : i + BATCH] for i in range(0, len(writes), BATCH)]
        what = f"saga store write failed on partition {partition}"
        with map_redis_errors(what):
            replies = await _APPLY.run_many(
                self.redis, [_call(self, keys, token, chunk) for chunk in chunks]
            )
        results: list[WriteResult] = []
        for chunk, reply in zip(chunks, replies, strict=True):
            if isinstance(reply, Exception):
                raise translate_redis_error(what, reply) from reply
            if reply and not isinstance(reply[0], list):  # {'FENCED', current}
                results += [WriteResult(WriteOutcome.FENCED) for _ in chunk]
            else:
                results += [_result(r) for r in reply]
        return results

    async def due_timers(self, partition: int, now: float, limit: int = 500) -> list[bytes]:
        """Timer documents whose due time has come (they stay until cancelled)."""
        keys = self.keys(partition)
        with map_redis_errors(f"cannot read the due timers of partition {partition}"):
            ids: Any = await self.redis.zrangebyscore(keys.timers, "-inf", now, start=0, num=limit)
            if not ids:
                return []
            docs: list[bytes | None] = await self.redis.hmget(keys.timer_docs, ids)  # type: ignore[assignment]
        return [d for d in docs if d is not None]

    async def drop_timers(self, partition: int, token: str, timer_ids: Sequence[str]) -> None:
        """Remove timers that fired but changed nothing; ``FencedOut`` if not the owner."""
        if timer_ids:
            keys = self.keys(partition)
            k = [keys.fence, keys.timers, keys.timer_docs]
            await self._fenced("cannot drop timers", partition, token, _DROP, k, timer_ids)

    async def postpone_timers(
        self, partition: int, token: str, timer_ids: Sequence[str], due: float
    ) -> None:
        """Move existing timers to ``due`` (never revives a cancelled one); fenced."""
        if timer_ids:
            keys = self.keys(partition)
            k = [keys.fence, keys.timers]
            args = [due, *timer_ids]
            await self._fenced("cannot postpone timers", partition, token, _POSTPONE, k, args)

    async def outbox_pending(
        self, partition: int, count: int = 1000, after: bytes | None = None
    ) -> list[tuple[bytes, OutboxRecord]]:
        """Unsent outbox entries, oldest first: ``(entry id, record)``; with ``after``,
        only those after that entry id (to page past entries a breaker holds)."""
        start = b"(" + after if after is not None else "-"
        with map_redis_errors(f"cannot read the outbox of partition {partition}"):
            rows: Any = await self.redis.xrange(self.keys(partition).outbox, min=start, count=count)
        return [(entry_id, _unpack(partition, entry_id, fields)) for entry_id, fields in rows]

    async def outbox_ack(
        self,
        partition: int,
        token: str,
        entry_ids: Sequence[bytes],
        rearm: Sequence[tuple[str, float]] = (),
    ) -> None:
        """Forget produced entries and re-arm the step timeouts that still exist.

        ``rearm`` holds ``(timer id, due at)``; one atomic call, ``FencedOut`` if a
        newer owner holds the partition (then nothing changes).
        """
        if entry_ids or rearm:
            keys = self.keys(partition)
            args = [len(entry_ids), *entry_ids, *(x for timer in rearm for x in timer)]
            k = [keys.fence, keys.outbox, keys.timers]
            what = "cannot acknowledge outbox entries"
            await self._fenced(what, partition, token, _OUTBOX_ACK, k, args)

    async def outbox_size(self, partition: int) -> int:
        """How many entries wait in the partition's outbox."""
        with map_redis_errors(f"cannot measure the outbox of partition {partition}"):
            return int(await self.redis.xlen(self.keys(partition).outbox))

    async def watermarks(self, partition: int) -> dict[str, int]:
        """Per topic, the next offset after the last input applied on ``partition``."""
        with map_redis_errors(f"cannot read the watermarks of partition {partition}"):
            raw: dict[bytes, bytes] = await self.redis.hgetall(self.keys(partition).watermark)  # type: ignore[assignment]
        return {k.decode(): int(v) for k, v in raw.items()}

    async def count_status(self, partition: int, status: str) -> int:
        """How many sagas of ``partition`` are in ``status``."""
        with map_redis_errors(f"cannot count {status} sagas of partition {partition}"):
            return int(await self.redis.zcard(self.keys(partition).status(status)))

    async def partition_load(
        self, partitions: Sequence[int], now: float, until: float, suffix: str
    ) -> list[PartitionLoad]:
        """Per partition, in one round trip: outbox entries, timers due at ``now``, and
        timers due by ``until`` whose id ends with ``suffix`` (of the first ``SCAN_LIMIT``)."""
        if not partitions:
            return []
        calls = []
        for number in partitions:
            keys = self.keys(number)
            calls.append(([keys.outbox, keys.timers], [now, until, suffix, SCAN_LIMIT]))
        what = f"cannot measure partitions {sorted(partitions)}"
        with map_redis_errors(what):
            replies = await _LOAD.run_many(self.redis, calls)
        loads = []
        for reply in replies:
            if isinstance(reply, Exception):
                raise translate_redis_error(what, reply) from reply
            loads.append(PartitionLoad(*(int(x) for x in reply)))
        return loads

    async def _fenced(
        self, what: str, partition: int, token: str, script: LuaScript,
        keys: Sequence[str], args: Sequence[Any],
    ) -> None:  # fmt: skip
        with map_redis_errors(f"{what} on partition {partition}"):
            reply = await script.run(self.redis, keys, [token, *args])
        if _text(reply[0]) == WriteOutcome.FENCED:
            raise FencedOut(
                f"{what}: partition {partition} is owned by a newer coordinator "
                f"(token {token}, current {_text(reply[1]) or 'none'})"
            )


def _call(
    store: SagaStore, keys: PartitionKeys, token: str, writes: Sequence[Write]
) -> tuple[list[str], list[Any]]:
    k = [keys.fence, keys.outbox, keys.timers, keys.timer_docs, keys.watermark]
    a: list[Any] = [token, store.seen_ttl_s, len(writes)]
    for w in writes:
        new_status = w.new_status or "NONE"
        k += (
            keys.seen(w.message_id), keys.saga(w.saga_id),
            keys.status(w.old_status or new_status), keys.status(new_status),
        )  # fmt: skip
        ttl = store.terminal_ttl_s if w.terminal and store.terminal_ttl_s else ""
        a += (
            w.expected_version, w.new_version if w.state_json is not None else "",
            w.state_json or b"", new_status, w.saga_id, w.now, ttl,
            w.watermark[0] if w.watermark else "", w.watermark[1] if w.watermark else 0,
            len(w.outbox), *(r.pack() for r in w.outbox),
            len(w.timers), *(x for t in w.timers for x in t),
            len(w.cancel_timers), *w.cancel_timers,
        )  # fmt: skip
    return k, a


def _result(reply: list[Any]) -> WriteResult:
    outcome = WriteOutcome(_text(reply[0]))
    return WriteResult(outcome, tuple(reply[1:]) if outcome is WriteOutcome.OK else ())


def _unpack(partition: int, entry_id: bytes, fields: dict[bytes, bytes]) -> OutboxRecord:
    try:
        return OutboxRecord.unpack(fields[b"r"])
    except (KeyError, ValueError) as exc:
        raise StoreError(
            f"outbox entry {entry_id!r} of partition {partition} is corrupt ({exc}): "
            "it cannot be produced; inspect and delete it by hand",
            retryable=False,
        ) from exc


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
