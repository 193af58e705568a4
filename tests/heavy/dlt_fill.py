"""A million dead letters, written as the DLT writer writes them, by a few processes."""

from __future__ import annotations

import asyncio
from concurrent.futures import ProcessPoolExecutor

from dirigent.events import Envelope
from dirigent.transport import (
    Failure,
    InboundRecord,
    OutgoingRecord,
    ProducerSettings,
    RawProducer,
    dead_letter_record,
)

FINGERPRINTS = 50
STACK = 'Traceback (most recent call last):\n  File "inventory/handlers.py", line 42\nOffline'


def letter(topic: str, partition: int, i: int) -> OutgoingRecord:
    """Dead letter ``i``: a reserve command of saga ``o<i>`` (every third belongs to no saga)."""
    saga = None if i % 3 == 0 else f"o{i}"
    env = Envelope.new(
        type="shop.inventory.ReserveStock",
        source="coordinator",
        schema_ref="fp:" + "0" * 16,
        saga_id=saga,
        causation_id=f"c{i}",
    )
    original = InboundRecord(
        "shop.inventory.commands",
        partition,
        i,
        1_000,
        (saga or "k").encode(),
        b"\xc3\x01" + bytes(8) + b"x" * 60,
        tuple(env.to_headers()),
    )
    failure = Failure(
        "inventory.errors.WarehouseOffline",
        f"warehouse offline for order o{i}",
        STACK,
        f"{i % FINGERPRINTS:016x}",
        "inventory.handlers.reserve",
        3,
        1,
        2,
    )
    d = dead_letter_record(original, failure, group="inventory")
    return OutgoingRecord(topic, d.value, d.key, d.headers, partition)


async def _fill(bootstrap: str, topic: str, partition: int, count: int) -> int:
    settings = ProducerSettings(linger_ms=20, max_batch_bytes=512 * 1024)
    async with RawProducer(bootstrap, settings=settings) as producer:
        for start in range(0, count, 5_000):
            batch = [
                letter(topic, partition, partition * count + i)
                for i in range(start, min(start + 5_000, count))
            ]
            await producer.send_batch(batch)
    return count


def _fill_one(args: tuple[str, str, int, int]) -> int:
    return asyncio.run(_fill(*args))


def fill(bootstrap: str, topic: str, partitions: int, per_partition: int) -> int:
    """Write ``partitions * per_partition`` dead letters, one process per partition."""
    jobs = [(bootstrap, topic, p, per_partition) for p in range(partitions)]
    with ProcessPoolExecutor(max_workers=min(partitions, 4)) as pool:
        return sum(pool.map(_fill_one, jobs))
