"""How long a consumer group takes to commit everything written before a moment."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError


async def end_offsets(bootstrap: str, topics: Sequence[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(t, p) for t in topics for p in _parts(consumer, t)]
        if not tps:  # metadata not loaded yet for these topics
            await consumer._client.force_metadata_update()  # no public call for this
            tps = [
                TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
            ]
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


def _parts(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    return consumer.partitions_for_topic(topic) or set()


async def committed(bootstrap: str, group: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        return {tp: meta.offset for tp, meta in offsets.items()}
    finally:
        await admin.close()


async def time_to_catch_up(
    bootstrap: str, group: str, topics: Sequence[str], *, timeout_s: float
) -> float | None:
    """Seconds until ``group`` has committed every record its topics held when called.

    None at the deadline (the group never caught up: a stall, reported by the caller).
    """
    started = time.monotonic()
    targets: dict[TopicPartition, int] = {}
    while not targets and time.monotonic() - started < timeout_s:
        with contextlib.suppress(KafkaError, OSError):
            targets = {tp: n for tp, n in (await end_offsets(bootstrap, topics)).items() if n}
        if not targets:
            await asyncio.sleep(1)
    while time.monotonic() - started < timeout_s:
        with contextlib.suppress(KafkaError, OSError):
            now = await committed(bootstrap, group)
            if all(now.get(tp, -1) >= n for tp, n in targets.items()):
                return time.monotonic() - started
        await asyncio.sleep(0.5)
    return None


async def groups_stable(bootstrap: str, groups: Sequence[str]) -> bool:
    """Whether every group in ``groups`` is Stable with at least one member.

    One group per request: aiokafka 0.14 fails to decode a multi-group answer.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        for group in groups:
            # each group: (error_code, group_id, state, protocol_type, protocol, members)
            found = [g for r in await admin.describe_consumer_groups([group]) for g in r.groups]
            if not (found and found[0][2] == "Stable" and found[0][5]):
                return False
        return True
    except (KafkaError, ValueError):
        return False
    finally:
        await admin.close()
