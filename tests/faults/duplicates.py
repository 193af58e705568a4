"""Re-delivery from the outside: copies of records already in the log, produced again."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer

from dirigent.transport import OutgoingRecord, RawProducer

COPY_HEADER = "faults-copy"  # marks a copy, so that copies are not copied again


async def redeliver(
    bootstrap: str, topics: Sequence[str], *, every: int, counts: Counter[str]
) -> None:
    """Until cancelled: produce again every ``every``-th record of ``topics``, same bytes.

    The copy has the same key, value and envelope (so the same message id): to the
    platform it is a record delivered twice.
    """
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, group_id=f"faults-dup-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    try:
        async with RawProducer(bootstrap) as producer:
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                copies = [
                    OutgoingRecord(r.topic, r.value, r.key, (*r.headers, (COPY_HEADER, b"1")))
                    for records in batch.values()
                    for r in records
                    if r.offset % every == 0 and all(k != COPY_HEADER for k, _ in r.headers)
                ]
                if copies:
                    await producer.send_batch(copies)
                    counts["duplicate record"] += len(copies)
    finally:
        await consumer.stop()
