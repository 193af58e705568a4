"""The rebalance race: a new owner that is slow to take its fencing tokens skips nothing.

aiokafka can hand out records of a newly assigned partition before the coordinator holds
the partition's token (shared/notes). Here the second coordinator's token acquisition
is slowed down while orders keep flowing and partitions move twice (B joins, A leaves):
every order still becomes a saga and completes, and the group's committed offsets reach
the end of the start topic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from dirigent.coordinator import Coordinator, CoordinatorSettings
from dirigent.coordinator import runtime as coordinator_runtime
from tests.integration.coordinator.test_coordinator_e2e import (
    PARTITIONS,
    Shop,
    order,
    place,
    reply_to,
    shop,  # noqa: F401 - fixture
    wait_terminal,
)
from tests.support.responder import Responder

SLOW_ACQUIRE_S = 1.5


def slow_tokens_for(ident: str, assemble: Callable[..., Any]) -> Callable[..., Any]:
    """``assemble`` whose store takes ``SLOW_ACQUIRE_S`` per token for coordinator ``ident``."""

    def wrapped(**kwargs: Any) -> Any:
        parts = assemble(**kwargs)
        if kwargs["ident"] == ident:
            acquire: Callable[[int], Awaitable[str]] = parts.store.acquire

            async def slow(partition: int) -> str:
                await asyncio.sleep(SLOW_ACQUIRE_S)
                return await acquire(partition)

            parts.store.acquire = slow
        return parts

    return wrapped


async def committed_lag(shop: Shop, group: str, topic: str) -> int:  # noqa: F811
    consumer = AIOKafkaConsumer(bootstrap_servers=shop.settings.kafka_bootstrap, group_id=group,
                                enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends = await consumer.end_offsets(tps)
        lag = 0
        for tp in tps:
            lag += ends[tp] - (await consumer.committed(tp) or 0)
        return lag
    finally:
        await consumer.stop()


async def test_a_slow_new_owner_skips_no_record(
    shop: Shop,  # noqa: F811
    uid: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group = f"race-{uid}"
    monkeypatch.setattr(coordinator_runtime, "assemble",
                        slow_tokens_for("b", coordinator_runtime.assemble))  # fmt: skip

    def coordinator(ident: str) -> Coordinator:
        cfg = CoordinatorSettings(group_id=group, coordinator_id=ident,
                                  transitions_topic=f"{shop.prefix}.transitions",
                                  session_timeout_ms=6000, heartbeat_interval_ms=500)  # fmt: skip
        return Coordinator([shop.saga], settings=shop.settings, config=cfg)

    orders = [order(i) for i in range(120)]
    a, b = coordinator("a"), coordinator("b")
    async with Responder(shop.settings.kafka_bootstrap, sorted(shop.saga.command_topics),
                         shop.codec, reply_to, group=f"resp-{uid}") as _:  # fmt: skip
        task_a = asyncio.create_task(a.run())
        await place(shop, orders[:20])
        await wait_terminal(a, 20)
        task_b = asyncio.create_task(b.run())  # rebalance 1: B takes some partitions, slowly
        for i in range(20, 80, 10):
            await place(shop, orders[i : i + 10])
            await asyncio.sleep(0.3)
        a.stop()  # rebalance 2: B takes the rest, slowly, while orders keep coming
        for i in range(80, 120, 10):
            await place(shop, orders[i : i + 10])
            await asyncio.sleep(0.3)
        await task_a
        counts = await wait_terminal(b, len(orders), timeout_s=90)
        b.stop()
        await task_b
    # Every order became a saga and ended (completed, or compensated where the 1 s step
    # timeout of this fixture ran out on a slow machine): none was skipped.
    assert sum(n for status, n in counts.items() if status.settled) == len(orders), counts
    assert await committed_lag(shop, group, f"{shop.prefix}-orders.events") == 0
