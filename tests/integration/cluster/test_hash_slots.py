"""Every atomic store call touches one Redis Cluster slot, proven on the real cluster.

A recording client notes the keys of each call the stores make (every script of
``dirigent/store/lua``, the fence ``INCR``, the idempotency ``SET``/``GET``) while they
run for many namespaces, partitions and ids; the servers then say, by ``CLUSTER
KEYSLOT``, which slot each key is in. A script may also write keys it did not declare,
which a server allows within its own node: so every key that appeared is checked too.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pytest
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterPipeline
from redis.exceptions import ClusterCrossSlotError

from dirigent.dev import LocalRedisCluster
from dirigent.errors import StoreError
from dirigent.store import (
    IdempotencyStore,
    OutboxRecord,
    SagaStore,
    Write,
    WriteOutcome,
    map_redis_errors,
)
from dirigent.store._lua import LuaScript
from dirigent.transport import OutgoingRecord
from tests.support.redis_cluster import member_of_slot, slots_of

pytestmark = pytest.mark.integration

NAMESPACES = ["orders-coordinator", "shop:coord:v2", "größe ünd spaß", "n" * 120, "a b"]
PARTITIONS = range(48)
SCRIPTS = {
    (s := LuaScript.named(f.name.removesuffix(".lua"))).sha: s.name
    for f in (resources.files("dirigent.store") / "lua").iterdir()
    if f.name.endswith(".lua")
}


@dataclass(frozen=True)
class Call:
    command: str  # the script's name for EVALSHA
    keys: tuple[str, ...]


def _call(args: tuple[Any, ...]) -> Call | None:
    name = str(args[0]).upper()
    if name in ("EVALSHA", "EVAL"):
        n = int(args[2])
        return Call(SCRIPTS.get(str(args[1]), str(args[1])), tuple(map(_text, args[3 : 3 + n])))
    if name in ("INCR", "SET", "GET", "HMGET", "ZRANGEBYSCORE", "XRANGE", "ZCARD", "XLEN"):
        return Call(name, (_text(args[1]),))
    return None


def _hash_tag(key: str) -> str | None:
    """The ``{...}`` part Redis hashes (the first ``{`` to the next ``}``, if not empty)."""
    start = key.find("{")
    end = key.find("}", start + 1)
    return key[start : end + 1] if start >= 0 and end > start + 1 else None


def _text(key: Any) -> str:
    return key.decode() if isinstance(key, bytes) else str(key)


class _RecordingPipeline(ClusterPipeline):
    def execute_command(self, *args: Any, **kwargs: Any) -> ClusterPipeline:
        assert isinstance(self.cluster_client, RecordingCluster)
        self.cluster_client.note(args)
        return super().execute_command(*args, **kwargs)


class RecordingCluster(RedisCluster):
    """A ``RedisCluster`` that notes the keys of every call it routes."""

    calls: list[Call]

    def note(self, args: tuple[Any, ...]) -> None:
        if (call := _call(args)) is not None:
            self.calls.append(call)

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        self.note(args)
        return await super().execute_command(*args, **kwargs)

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> ClusterPipeline:
        return _RecordingPipeline(self, transaction)


@pytest.fixture
async def recording(redis_cluster: LocalRedisCluster) -> AsyncIterator[RecordingCluster]:
    await redis_cluster.up()
    first = redis_cluster.members[0]
    client = RecordingCluster(host=first.host, port=first.port, socket_timeout=10)
    client.calls = []
    yield client
    await client.aclose()


@pytest.fixture
async def node(redis_cluster: LocalRedisCluster) -> AsyncIterator[Redis]:
    """A plain client to one node: CLUSTER KEYSLOT and deliberate mistakes."""
    async with redis_cluster.members[0].client(timeout_s=10) as client:
        yield client


async def exercise(store: SagaStore, p: int) -> None:
    """Every fenced call of the coordinator's store, once, on partition ``p``."""
    token = await store.acquire(p)
    sid = f"saga-{uuid.uuid4().hex[:8]}:{p}"
    record = OutboxRecord("shop.inventory.commands", sid.encode(), b"\x00cmd", (("id", b"c1"),))
    first = Write(
        message_id=uuid.uuid4().hex, saga_id=sid, new_version=1, state_json=b'{"v":1}',
        new_status="RUNNING", outbox=[record], timers=[("t1", 5.0, b"{}"), ("t2", 6.0, b"{}")],
        watermark=("shop.orders.events", 7), now=1.0,
    )  # fmt: skip
    done = Write(
        message_id=uuid.uuid4().hex, saga_id=sid, expected_version=1, new_version=2,
        state_json=b'{"v":2}', old_status="RUNNING", new_status="COMPLETED", terminal=True,
        cancel_timers=["t2"], now=2.0,
    )  # fmt: skip
    assert await store.apply(p, token, [first, done]) == [WriteOutcome.OK, WriteOutcome.OK]
    await store.postpone_timers(p, token, ["t1"], 50.0)
    assert len(await store.due_timers(p, 100.0)) == 1
    pending = await store.outbox_pending(p)
    await store.outbox_ack(p, token, [entry for entry, _ in pending], rearm=[("t1", 60.0)])
    await store.drop_timers(p, token, ["t1"])
    (load,) = await store.partition_load([p], 100.0, 200.0, ":deadline")
    assert load.outbox == 0
    assert await store.outbox_size(p) == 0
    assert await store.count_status(p, "COMPLETED") == 1


async def test_every_saga_store_call_touches_one_slot_on_the_real_cluster(
    recording: RecordingCluster, redis_cluster: LocalRedisCluster, node: Redis
) -> None:
    run = uuid.uuid4().hex[:6]
    namespaces = [f"{ns}-{run}" for ns in NAMESPACES]
    before = {_text(k) async for k in recording.scan_iter(count=1000)}
    tags: dict[str, str] = {}  # call key -> its partition's tag
    for ns in namespaces:
        store = SagaStore(recording, ns)
        for p in PARTITIONS:
            start = len(recording.calls)
            await exercise(store, p)  # no CROSSSLOT, no "non local key": it all ran
            tags.update({k: store.keys(p).tag for c in recording.calls[start:] for k in c.keys})
    written = {_text(k) async for k in recording.scan_iter(count=1000)} - before

    slots = await slots_of(node, [*tags, *tags.values(), *written])
    scripts = [c for c in recording.calls if c.command in SCRIPTS.values()]
    assert {c.command for c in scripts} == set(SCRIPTS.values())  # every script ran
    assert all(c.keys for c in scripts)  # none routed to a random node for want of keys
    for call in recording.calls:
        where = {slots[k] for k in call.keys}
        assert where == {slots[tags[call.keys[0]]]}, f"{call.command} spans slots {where}"
    # Nothing was written outside the partitions' tags, declared or not.
    tag_of = {tag: slots[tag] for tag in tags.values()}
    for key in written:
        tag = _hash_tag(key)
        assert tag in tag_of, f"{key!r} was written outside every partition's hash tag"
        assert slots[key] == tag_of[tag]
    # The calls ran on every master, not on a lucky one.
    used = {member_of_slot(redis_cluster, s).port for s in tag_of.values()}
    assert used == {m.port for m in redis_cluster.members}


async def test_idempotency_records_live_in_one_slot_each(
    recording: RecordingCluster, node: Redis
) -> None:
    reply = OutgoingRecord("shop.orders.events", b"v", b"k", (("id", b"r1"),))
    ids = [uuid.uuid4().hex, "order-17:reserve:3", "ünï:cödé", "x" * 200, "a b c"]
    for ns in (f"inventory-{uuid.uuid4().hex[:6]}", "payments:eu"):
        store = IdempotencyStore(recording, namespace=ns)
        for message_id in ids:
            assert await store.put(message_id, [reply]) == [reply]
            assert await store.get(message_id) == [reply]
    calls = [c for c in recording.calls if c.command in ("SET", "GET")]
    assert len(calls) == 2 * 2 * len(ids)
    slots = await slots_of(node, [k for c in calls for k in c.keys])
    for call in calls:
        (key,) = call.keys
        message_id = key[key.index("{") + 1 : -1]
        assert slots[key] == (await slots_of(node, [message_id]))[message_id]


async def test_a_call_whose_keys_span_slots_is_refused_and_reported_as_a_bug(
    cluster_redis: RedisCluster, node: Redis
) -> None:
    """The control: the checks above can fail, because the cluster refuses such a call."""
    ns = f"mixed-{uuid.uuid4().hex[:6]}"
    a, b = SagaStore(cluster_redis, ns).keys(0), SagaStore(cluster_redis, ns).keys(1)
    slots = await slots_of(node, [a.fence, b.fence])
    assert slots[a.fence] != slots[b.fence]
    script = LuaScript.named("timers_drop")
    with pytest.raises(StoreError, match="hash tag") as caught, map_redis_errors("dropping"):
        await script.run(cluster_redis, [a.fence, b.timers, a.timer_docs], ["1", "t1"])
    assert caught.value.retryable is False
    # The server itself, asked directly, says CROSSSLOT.
    with pytest.raises(ClusterCrossSlotError):
        await node.eval("return 1", 2, a.fence, b.fence)  # type: ignore[misc]


async def test_partitions_spread_over_every_master(redis_cluster: LocalRedisCluster) -> None:
    """What scales with shards: partitions. 48 of one namespace reach every master, and
    none holds more than half of them."""
    per_node: defaultdict[int, int] = defaultdict(int)
    async with redis_cluster.members[0].client() as node:
        slots = await slots_of(node, [SagaStore(node, "orders").keys(p).tag for p in PARTITIONS])
    for slot in slots.values():
        per_node[member_of_slot(redis_cluster, slot).port] += 1
    assert len(per_node) == len(redis_cluster.members)
    assert max(per_node.values()) <= len(PARTITIONS) // 2
