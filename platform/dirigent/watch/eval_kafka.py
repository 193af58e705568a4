"""The evaluation's incidents through real Kafka: topic -> ``Watcher`` -> anomalies topic.

Each incident's transitions are produced to a fresh one-partition topic (batches of 20,
as coordinators' relays write them), one ``Watcher`` reads them, and the anomaly
records are read back from the anomalies topic and decoded with the shipped schema.
"""

from __future__ import annotations

import asyncio
import uuid

from dirigent.events import (
    BUILTIN_SCHEMAS,
    Anomaly,
    SagaTransition,
    SchemaCatalog,
    SingleObjectCodec,
)
from dirigent.events.transitions import batch_transitions
from dirigent.transport import (
    BatchConsumer,
    OutgoingRecord,
    RawProducer,
    TopicSpec,
    delete_topics,
    ensure_topics,
)
from dirigent.watch.app import Watcher, WatchOptions
from dirigent.watch.synthetic import Traffic, transitions

__all__ = ["through_kafka"]


async def through_kafka(
    bootstrap: str, traffic: Traffic, *, timeout_s: float = 120
) -> list[Anomaly]:
    """The anomaly records the watcher published for ``traffic``, read back from Kafka."""
    uid = uuid.uuid4().hex[:8]
    src, out = f"eval.transitions.{uid}", f"eval.anomalies.{uid}"
    await ensure_topics(bootstrap, [TopicSpec(src, 1), TopicSpec(out, 1)])
    try:
        codec = SingleObjectCodec(SchemaCatalog(), models=[SagaTransition, Anomaly])
        values = [codec.encode(t) for t in transitions(traffic)]
        async with RawProducer(bootstrap) as producer:
            records = [OutgoingRecord(src, batch_transitions(codec, values[i : i + 20]))
                       for i in range(0, len(values), 20)]  # fmt: skip
            await producer.send_batch(records)
        options = WatchOptions(bootstrap=bootstrap, transitions_topic=src, anomalies_topic=out,
                               group_id=f"eval-watch-{uid}")  # fmt: skip
        watcher = Watcher(options, codec=codec, clock=lambda: traffic.epoch + traffic.duration_s)
        stop = asyncio.Event()
        task = asyncio.create_task(watcher.run(stop))
        async with asyncio.timeout(timeout_s):
            read = watcher.metrics.registry.get_sample_value
            while (read("dirigent_watch_transitions_total") or 0) < len(values):
                await asyncio.sleep(0.1)
            idle = watcher.idle_turns
            while watcher.idle_turns <= idle:  # an idle turn closes the last windows
                await asyncio.sleep(0.1)
            stop.set()
            await task
            return await _read_all(bootstrap, out, uid)
    finally:
        await delete_topics(bootstrap, [src, out])


async def _read_all(bootstrap: str, topic: str, uid: str) -> list[Anomaly]:
    reader = SingleObjectCodec(SchemaCatalog.load(BUILTIN_SCHEMAS))  # the shipped schema
    found: list[Anomaly] = []
    idle = 0
    async with BatchConsumer(bootstrap, [topic], group_id=f"eval-read-{uid}") as c:
        while idle < 4:
            batch = await c.getmany(timeout_ms=500)
            idle = 0 if batch else idle + 1
            for records in batch.values():
                for r in records:
                    a = reader.decode(r.value or b"", reader=Anomaly)
                    assert isinstance(a, Anomaly)
                    found.append(a)
    return found
