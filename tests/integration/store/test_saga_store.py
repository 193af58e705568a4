"""The saga store's atomic apply against a real Redis."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from dirigent.store.outbox import OutboxRecord
from dirigent.store.saga_store import Outcome, SagaStore, Write


@pytest.fixture
def store(redis: Redis, uid: str) -> SagaStore:
    return SagaStore(redis, namespace=f"test-{uid}", seen_ttl_s=60)


def _start(message_id: str = "m1", **kw: object) -> Write:
    fields: dict[str, object] = {
        "message_id": message_id,
        "saga_id": "s1",
        "expected_version": 0,
        "new_version": 1,
        "state_json": b'{"v":1}',
        "new_status": "RUNNING",
        "now": 100.0,
    }
    fields.update(kw)
    return Write(**fields)  # type: ignore[arg-type]


async def test_new_saga_is_written_and_indexed(store: SagaStore) -> None:
    token = await store.acquire(0)
    assert await store.apply(0, token, [_start()]) == [Outcome.OK]
    [saga] = await store.load_many(0, ["s1"])
    assert saga is not None
    assert (saga.version, saga.status, saga.state_json) == (1, "RUNNING", b'{"v":1}')
    assert await store.count_status(0, "RUNNING") == 1


async def test_same_message_twice_is_a_duplicate_and_changes_nothing(store: SagaStore) -> None:
    token = await store.acquire(0)
    outbox = [OutboxRecord("inv.commands", b"s1", b"\x00\xffcmd", (("id", b"c1"),))]
    first = _start(outbox=outbox)
    again = _start(state_json=b'{"v":"other"}', outbox=outbox)
    assert await store.apply(0, token, [first, again]) == [Outcome.OK, Outcome.DUPLICATE]
    [saga] = await store.load_many(0, ["s1"])
    assert saga is not None
    assert saga.state_json == b'{"v":1}'
    assert [r for _, r in await store.outbox_pending(0)] == outbox


async def test_a_stale_token_is_fenced_out(store: SagaStore) -> None:
    zombie = await store.acquire(0)
    owner = await store.acquire(0)
    assert await store.apply(0, zombie, [_start()]) == [Outcome.FENCED]
    assert await store.load_many(0, ["s1"]) == [None]
    assert await store.apply(0, owner, [_start()]) == [Outcome.OK]


async def test_version_compare_and_set(store: SagaStore) -> None:
    token = await store.acquire(0)
    await store.apply(0, token, [_start()])
    stale = _start("m2", expected_version=0, new_version=1)
    good = _start("m3", expected_version=1, new_version=2, old_status="RUNNING",
                  new_status="COMPLETED", terminal=True)  # fmt: skip
    assert await store.apply(0, token, [stale, good]) == [Outcome.CONFLICT, Outcome.OK]
    assert await store.count_status(0, "RUNNING") == 0
    assert await store.count_status(0, "COMPLETED") == 1
    # A conflicting input is not marked seen: it can be retried after a reload.
    retry = _start("m2", expected_version=2, new_version=3, old_status="COMPLETED",
                   new_status="COMPLETED")  # fmt: skip
    assert await store.apply(0, token, [retry]) == [Outcome.OK]


async def test_timers_are_set_found_when_due_and_cancelled(store: SagaStore) -> None:
    token = await store.acquire(1)
    timers = [("t-early", 50.0, b"early"), ("t-late", 500.0, b"late")]
    await store.apply(1, token, [_start(timers=timers)])
    assert await store.due_timers(1, now=100.0) == [b"early"]
    assert sorted(await store.due_timers(1, now=1000.0)) == [b"early", b"late"]
    cancel = _start("m2", expected_version=1, new_version=2, old_status="RUNNING",
                    cancel_timers=["t-early"])  # fmt: skip
    await store.apply(1, token, [cancel])
    assert await store.due_timers(1, now=1000.0) == [b"late"]
    await store.drop_timers(1, ["t-late"])
    assert await store.due_timers(1, now=1000.0) == []


async def test_outbox_ack_removes_only_acknowledged_entries(store: SagaStore) -> None:
    token = await store.acquire(2)
    records = [OutboxRecord("t", b"k", str(i).encode()) for i in range(3)]
    await store.apply(2, token, [_start(outbox=records)])
    pending = await store.outbox_pending(2)
    assert [r.value for _, r in pending] == [b"0", b"1", b"2"]
    await store.outbox_ack(2, [pending[0][0], pending[1][0]])
    assert [r.value for _, r in await store.outbox_pending(2)] == [b"2"]
    assert await store.outbox_size(2) == 1


async def test_watermark_only_moves_forward(store: SagaStore) -> None:
    token = await store.acquire(0)
    await store.apply(0, token, [_start("a", watermark=("orders.events", 10))])
    await store.apply(
        0, token, [Write(message_id="b", saga_id="x", watermark=("orders.events", 4))]
    )
    assert await store.watermarks(0) == {"orders.events": 10}


async def test_mark_only_write_records_the_message_as_seen(store: SagaStore) -> None:
    token = await store.acquire(0)
    ignored = Write(message_id="late-reply", saga_id="s9")
    assert await store.apply(0, token, [ignored, ignored]) == [Outcome.OK, Outcome.DUPLICATE]
    assert await store.load_many(0, ["s9"]) == [None]
