"""Deleting the head of partitions (Kafka's DeleteRecords): the only way to drop records.

Kafka cannot delete one record in the middle of a log; it can move a partition's log
start offset forward, after which everything before it is gone for every reader.
Callers decide up to where that is safe (``dirigent.ops.purge``).
"""

from __future__ import annotations

from collections.abc import Mapping

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from dirigent.transport._errors import map_kafka_errors
from dirigent.transport._login import start_client
from dirigent.transport.security import Bootstrap, kafka_options

__all__ = ["delete_records_before"]


async def delete_records_before(
    bootstrap: Bootstrap, topic: str, before: Mapping[int, int]
) -> dict[int, int]:
    """Delete the records of ``topic`` before ``before[partition]``; the new log starts.

    Example::

        await delete_records_before("127.0.0.1:9092", "orders.events.dlt", {0: 120, 1: 7})
        # {0: 120, 1: 7}: partition 0 now starts at offset 120
    """
    if not before:
        return {}
    wanted = {TopicPartition(topic, p): RecordsToDelete(o) for p, o in before.items()}
    admin = AIOKafkaAdminClient(**kafka_options(bootstrap), client_id="dirigent-ops")
    what = f"deleting records of {topic} on {bootstrap}"
    await start_client(admin, bootstrap, what)
    with map_kafka_errors(what):
        try:
            done = await admin.delete_records(wanted)
        finally:
            await admin.close()
    return {tp.partition: int(low) for tp, low in done.items()}
