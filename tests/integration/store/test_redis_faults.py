"""Every store call fails as a retryable ``StoreError`` while Redis is away, and works
again once it is back, even with its script cache gone.

A throwaway ``redis-server`` (no persistence, its own free port) is killed with SIGKILL
and started again; the shared server is never touched.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from dirigent.errors import StoreError
from dirigent.store import IdempotencyStore, OutboxRecord, SagaStore, WriteOutcome
from dirigent.store.saga_queries import read_saga, sagas_with_status
from tests.support.throwaway_redis import HOST, ThrowawayRedis, free_port
from tests.unit.store.store_contract import start, step


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ThrowawayRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    found = ThrowawayRedis(tmp_path)
    await found.start()
    yield found
    await found.kill()


def _every_call(store: SagaStore, token: str) -> dict[str, Callable[[], Awaitable[Any]]]:
    idem = IdempotencyStore(store.redis, namespace="svc")
    return {
        "acquire": lambda: store.acquire(0),
        "load_many": lambda: store.load_many(0, ["s1"]),
        "apply": lambda: store.apply(0, token, [start("probe", "probe")]),
        "due_timers": lambda: store.due_timers(0, now=1e12),
        "drop_timers": lambda: store.drop_timers(0, token, ["t"]),
        "postpone_timers": lambda: store.postpone_timers(0, token, ["t"], 5.0),
        "outbox_pending": lambda: store.outbox_pending(0),
        "outbox_ack": lambda: store.outbox_ack(0, token, [b"1-0"], rearm=[("t", 5.0)]),
        "outbox_size": lambda: store.outbox_size(0),
        "watermarks": lambda: store.watermarks(0),
        "count_status": lambda: store.count_status(0, "RUNNING"),
        "idempotency.get": lambda: idem.get("m"),
        "idempotency.put": lambda: idem.put("m", []),
        "read_saga": lambda: read_saga(store.redis, "ns", 0, "s1"),
        "sagas_with_status": lambda: sagas_with_status(store.redis, "ns", [0, 1], "RUNNING"),
    }


async def _assert_all_retryable(store: SagaStore, token: str) -> None:
    for name, call in _every_call(store, token).items():
        with pytest.raises(StoreError) as caught:
            await call()
        assert caught.value.retryable is True, name
        assert isinstance(caught.value.__cause__, RedisError | OSError), name


async def test_nothing_listening_is_a_retryable_store_error() -> None:
    redis = Redis.from_url(f"redis://{HOST}:{free_port()}/0", socket_connect_timeout=1)
    try:
        await _assert_all_retryable(SagaStore(redis, namespace="down"), token="1")
    finally:
        await redis.aclose()


async def _works(store: SagaStore, tag: str) -> None:
    """A full round: fence, write, outbox, ack with re-arm, postpone, drop, read."""
    token = await store.acquire(0)
    rec = OutboxRecord("t", b"k", b"v", rearm=("t1", 10.0))
    w = start(f"{tag}-1", tag, outbox=[rec], timers=[("t1", 50.0, b"d1"), ("t2", 50.0, b"d2")])
    again = step(f"{tag}-2", 2, saga_id=tag)
    assert await store.apply(0, token, [w, again]) == [WriteOutcome.OK, WriteOutcome.OK]
    [(entry_id, got)] = await store.outbox_pending(0)
    assert got == rec
    await store.outbox_ack(0, token, [entry_id], rearm=[("t1", 60.0)])
    await store.postpone_timers(0, token, ["t2"], 70.0)
    assert await store.due_timers(0, now=65.0) == [b"d1"]
    await store.drop_timers(0, token, ["t1", "t2"])
    assert await store.due_timers(0, now=1e12) == []
    [saga] = await store.load_many(0, [tag])
    assert saga is not None
    assert saga.version == 2


async def test_store_survives_a_redis_restart_and_a_script_flush(server: ThrowawayRedis) -> None:
    redis = Redis.from_url(server.url, socket_connect_timeout=1, socket_timeout=2)
    store = SagaStore(redis, namespace="restart", seen_ttl_s=60)
    try:
        await _works(store, "before")
        token = await store.acquire(0)

        await server.kill()
        await _assert_all_retryable(store, token)

        await server.start()  # same port, empty: no data, no scripts
        await _works(store, "after-restart")

        await redis.script_flush()
        await _works(store, "after-flush")
    finally:
        await redis.aclose()


async def test_a_flush_between_batches_reloads_only_once(server: ThrowawayRedis) -> None:
    redis = Redis.from_url(server.url)
    store = SagaStore(redis, namespace="flush", seen_ttl_s=60)
    try:
        token = await store.acquire(0)
        await store.apply(0, token, [start("a", "s1")])
        await redis.script_flush()
        before = await redis.info("commandstats")
        batch = [start("b", "s2"), start("c", "s3"), start("a", "s1")]
        assert await store.apply(0, token, batch) == ["OK", "OK", "DUP"]
        after = await redis.info("commandstats")
        assert (
            after["cmdstat_script|load"]["calls"]
            - before.get("cmdstat_script|load", {"calls": 0})["calls"]
            == 1
        )
    finally:
        await redis.aclose()
