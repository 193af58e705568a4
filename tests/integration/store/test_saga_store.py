"""What only the Redis store has: TTLs, hash tags, round trips, entries from old versions."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from dirigent.errors import StoreError
from dirigent.store import OutboxRecord, SagaStore, WriteOutcome
from tests.unit.store.store_contract import start, step


@pytest.fixture
def store(redis: Redis, uid: str) -> SagaStore:
    return SagaStore(redis, namespace=f"test-{uid}", seen_ttl_s=60, terminal_ttl_s=300)


async def test_seen_ids_and_terminal_sagas_expire(store: SagaStore) -> None:
    token = await store.acquire(0)
    await store.apply(0, token, [start(), step("m2", 2, new_status="COMPLETED", terminal=True)])
    keys = store.keys(0)
    assert 0 < await store.redis.ttl(keys.seen("m1")) <= 60
    assert 0 < await store.redis.ttl(keys.saga("s1")) <= 300


async def test_a_saga_reopened_after_it_ended_no_longer_expires(store: SagaStore) -> None:
    token = await store.acquire(0)
    await store.apply(0, token, [start(), step("m2", 2, new_status="COMPLETED", terminal=True)])
    await store.apply(0, token, [step("m3", 3, new_status="COMPENSATING")])  # a late success
    assert await store.redis.ttl(store.keys(0).saga("s1")) == -1  # no expiry while it runs


async def test_every_key_of_a_partition_shares_one_hash_tag(store: SagaStore) -> None:
    token = await store.acquire(3)
    w = start(outbox=[OutboxRecord("t", b"k", b"v")], timers=[("t1", 1.0, b"d")],
              watermark=("orders", 1))  # fmt: skip
    await store.apply(3, token, [w])
    found = [k.decode() async for k in store.redis.scan_iter(match=f"*{store.namespace}*")]
    assert len(found) == 8  # fence, seen, saga, outbox, timers, timer docs, status, watermark
    assert {k[: k.index("}") + 1] for k in found} == {store.keys(3).tag}


async def test_a_batch_is_one_script_call_without_script_checks(store: SagaStore) -> None:
    token = await store.acquire(0)
    await store.apply(0, token, [start()])  # the script is surely loaded now
    before = await store.redis.info("commandstats")
    await store.apply(0, token, [step("m2", 2), step("m3", 3)])
    after = await store.redis.info("commandstats")

    def calls(info: dict[str, dict[str, int]], name: str) -> int:
        return info.get(f"cmdstat_{name}", {}).get("calls", 0)

    # Shared server: other tests may run scripts too, so only SCRIPT EXISTS is telling.
    assert calls(after, "script|exists") == calls(before, "script|exists")
    assert calls(after, "evalsha") >= calls(before, "evalsha") + 1


async def test_outbox_entries_of_the_previous_format_are_still_read(store: SagaStore) -> None:
    # Format 1, as the previous version wrote it: length-prefixed topic, key, value, headers.
    fields = [b"inv.commands", b"s1", b"\x00cmd", b"id", b"c1"]
    blob = b"".join(len(f).to_bytes(4, "big") + f for f in fields)
    await store.redis.xadd(store.keys(0).outbox, {"r": blob})
    [(_, record)] = await store.outbox_pending(0)
    assert record == OutboxRecord("inv.commands", b"s1", b"\x00cmd", (("id", b"c1"),))


async def test_a_corrupt_outbox_entry_is_a_permanent_store_error(store: SagaStore) -> None:
    entry_id = await store.redis.xadd(store.keys(0).outbox, {"r": b"\x00\x00\x00\x09abc"})
    assert isinstance(entry_id, bytes)
    with pytest.raises(StoreError, match=entry_id.decode()) as caught:
        await store.outbox_pending(0)
    assert caught.value.retryable is False
    assert isinstance(caught.value.__cause__, ValueError)


async def test_a_script_error_is_a_permanent_store_error(store: SagaStore) -> None:
    token = await store.acquire(0)
    await store.redis.set(store.keys(0).outbox, "not a stream")  # XADD will fail
    with pytest.raises(StoreError, match="WRONGTYPE") as caught:
        await store.apply(0, token, [start(outbox=[OutboxRecord("t", b"k", b"v")])])
    assert caught.value.retryable is False


async def test_outcomes_compare_equal_to_their_wire_names(store: SagaStore) -> None:
    token = await store.acquire(0)
    assert await store.apply(0, token, [start(), start()]) == ["OK", "DUP"]
    assert WriteOutcome("DUP") is WriteOutcome.DUPLICATE
