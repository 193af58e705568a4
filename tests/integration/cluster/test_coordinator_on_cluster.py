"""A coordinator end to end on the Redis Cluster, with real Kafka; and a master killed.

The saga, its participant and the orders are those of the single-server end-to-end
test; only ``DIRIGENT_REDIS_URL`` differs: ``redis+cluster://`` with three masters. The
group id is chosen so that the partitions the orders land on are served by every
master, so each of them holds saga state and a killed one stops real work.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable

import pytest
from click.testing import CliRunner
from redis.asyncio import RedisCluster
from redis.crc import key_slot

from dirigent.cli import main
from dirigent.config import Settings
from dirigent.coordinator import Coordinator, CoordinatorSettings
from dirigent.dev import LocalRedisCluster
from dirigent.events import SagaTransition, SchemaCatalog, SingleObjectCodec
from dirigent.ops import find_saga, list_sagas, partition_for
from dirigent.saga import SagaStatus
from dirigent.store import PartitionKeys, RedisClient, SagaStore
from dirigent.transport import TopicSpec, ensure_topics
from sagas.contracts.shop import (
    ApproveOrder,
    AuthorizePayment,
    OrderApproved,
    OrderPlaced,
    PaymentAuthorized,
    PaymentDeclined,
    ReleaseStock,
    ReserveStock,
    StockReleased,
    StockReserved,
)
from tests.integration.coordinator.test_coordinator_e2e import (
    DECLINED_AMOUNT,
    Shop,
    order,
    place,
    reply_to,
    shop_saga,
)
from tests.support.infra import Infra
from tests.support.redis_cluster import member_of_slot
from tests.support.responder import Responder

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

PARTITIONS = 6


@pytest.fixture
async def shop(infra: Infra, uid: str, redis_cluster: LocalRedisCluster) -> Shop:
    prefix = f"cl{uid}"
    topics = [f"{prefix}-{d}.{k}" for d in ("inventory", "payments", "orders")
              for k in ("commands", "events")]  # fmt: skip
    await ensure_topics(infra.kafka_bootstrap, [TopicSpec(t, PARTITIONS) for t in topics])
    await ensure_topics(infra.kafka_bootstrap, [TopicSpec(f"{prefix}.transitions", PARTITIONS)])
    codec = SingleObjectCodec(SchemaCatalog(), models=[
        OrderPlaced, ReserveStock, StockReserved, ReleaseStock, StockReleased, AuthorizePayment,
        PaymentAuthorized, PaymentDeclined, ApproveOrder, OrderApproved, SagaTransition,
    ])  # fmt: skip
    settings = Settings(kafka_bootstrap=infra.kafka_bootstrap, redis_url=redis_cluster.url)
    return Shop(prefix, shop_saga(prefix, timeout_s=1.0), codec, settings)


def spread_group(uid: str, cluster: LocalRedisCluster, saga_ids: list[str]) -> str:
    """A group id whose partitions holding ``saga_ids`` are served by every master."""
    used = {partition_for(sid, PARTITIONS) for sid in saga_ids}
    for n in itertools.count():
        group = f"cluster-{uid}-{n}"
        slots = [key_slot(PartitionKeys(group, p).tag.encode()) for p in used]
        if {member_of_slot(cluster, s).port for s in slots} == {m.port for m in cluster.members}:
            return group
    raise AssertionError("unreachable")


def coordinator_for(shop: Shop, group: str) -> Coordinator:
    config = CoordinatorSettings(group_id=group, transitions_topic=f"{shop.prefix}.transitions")
    return Coordinator([shop.saga], settings=shop.settings, config=config)


async def settled(store: SagaStore) -> Counter[str]:
    counts: Counter[str] = Counter()
    for p in range(PARTITIONS):
        for status in SagaStatus:
            counts[status.value] += await store.count_status(p, status.value)
    return counts


async def until(what: str, timeout_s: float, check: Callable[[], Awaitable[bool]]) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def test_sagas_run_to_the_end_on_a_redis_cluster(
    shop: Shop, uid: str, redis_cluster: LocalRedisCluster, cluster_redis: RedisClient
) -> None:
    orders = [order(i, DECLINED_AMOUNT if i % 5 == 0 else 100) for i in range(30)]
    group = spread_group(uid, redis_cluster, [o.order_id for o in orders])
    coordinator, store = coordinator_for(shop, group), SagaStore(cluster_redis, group)

    async def all_ended() -> bool:
        counts = await settled(store)
        return counts["COMPLETED"] + counts["COMPENSATED"] >= len(orders)

    async with Responder(shop.settings.kafka_bootstrap, sorted(shop.saga.command_topics),
                         shop.codec, reply_to, group=f"resp-{uid}"):  # fmt: skip
        task = asyncio.create_task(coordinator.run())
        try:
            await place(shop, orders)
            await until("every saga ends", 60, all_ended)
            assert coordinator.parts is not None
            assert isinstance(coordinator.parts.store.redis, RedisCluster)  # not a lucky node
        finally:
            coordinator.stop()
            await task
    counts = await settled(store)
    assert (counts["COMPLETED"], counts["COMPENSATED"], counts["RUNNING"]) == (24, 6, 0)

    # Every master holds saga state of this group.
    for member in redis_cluster.members:
        async with member.client() as node:
            keys = [k async for k in node.scan_iter(match=f"{{dg:{group}:*:saga:*", count=1000)]
        assert keys, f"no saga of {group} on {member.address}"

    # The operator's view works on the cluster: the index walk, one saga, the CLI.
    listed = await list_sagas(cluster_redis, group, partitions=PARTITIONS)
    assert Counter(status.value for status, _ in listed) == {"COMPLETED": 24, "COMPENSATED": 6}
    view = await find_saga(cluster_redis, group, "o5", partitions=PARTITIONS)
    assert view is not None
    assert view.status == "COMPENSATED"
    result = await asyncio.to_thread(
        CliRunner().invoke, main,
        ["saga", "list", "--group-id", group, "--partitions", str(PARTITIONS), "--json"],
        env={"DIRIGENT_REDIS_URL": redis_cluster.url},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert {row["saga_id"] for row in json.loads(result.output)} == {o.order_id for o in orders}


async def test_a_master_killed_mid_run_degrades_the_coordinator_until_it_is_back(
    shop: Shop, uid: str, redis_cluster: LocalRedisCluster, cluster_redis: RedisClient
) -> None:
    # Step timeouts longer than the outage: a step that times out while Redis is away is
    # compensated, rightly, and this test is about resuming, not about timeouts.
    shop = dataclasses.replace(shop, saga=shop_saga(shop.prefix, timeout_s=30.0))
    first, during = [order(i) for i in range(10)], [order(i) for i in range(10, 20)]
    group = spread_group(uid, redis_cluster, [o.order_id for o in first + during])
    coordinator, store = coordinator_for(shop, group), SagaStore(cluster_redis, group)
    # the master of the partition the first order placed during the outage lands on
    victim = member_of_slot(
        redis_cluster,
        key_slot(PartitionKeys(group, partition_for(during[0].order_id, PARTITIONS)).tag.encode()),
    )
    survivor = next(m for m in redis_cluster.members if m != victim)

    async def completed(n: int) -> bool:
        return (await settled(store))["COMPLETED"] >= n

    async def degraded() -> bool:
        ready, why = coordinator.ready()
        return not ready and "Redis unavailable" in why

    async def cluster_state(state: str) -> bool:
        async with survivor.client() as node:
            return str((await node.cluster("INFO"))["cluster_state"]) == state

    async with Responder(shop.settings.kafka_bootstrap, sorted(shop.saga.command_topics),
                         shop.codec, reply_to, group=f"resp-{uid}"):  # fmt: skip
        task = asyncio.create_task(coordinator.run())
        try:
            await place(shop, first)
            await until("the first orders", 60, lambda: completed(len(first)))
            await asyncio.to_thread(victim.process.stop, kill=True)  # SIGKILL
            await place(shop, during)
            await until("the coordinator reports degraded", 20, degraded)
            await until("the cluster sees the master fail", 20, lambda: cluster_state("fail"))
            assert not task.done(), "the coordinator exited while a master was down"
            await asyncio.to_thread(victim.start)
            await redis_cluster.up()  # waits for cluster_state:ok on every node
            await until("every order", 45, lambda: completed(len(first + during)))
            await until("ready again", 15, lambda: _ready(coordinator))
            assert not task.done()
        finally:
            coordinator.stop()
            await task
    counts = await settled(store)
    assert counts["COMPLETED"] == 20, counts


async def _ready(coordinator: Coordinator) -> bool:
    return coordinator.ready()[0]
