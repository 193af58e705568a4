"""``Watcher`` over real Kafka: a slow participant in the transitions -> an Anomaly record."""

from __future__ import annotations

import asyncio
import contextlib

from dirigent.events import (
    Anomaly,
    SagaTransition,
    SchemaCatalog,
    SingleObjectCodec,
    batch_transitions,
)
from dirigent.transport import BatchConsumer, OutgoingRecord, RawProducer
from dirigent.watch.app import Watcher, WatchOptions
from dirigent.watch.synthetic import Incident, Traffic, transitions
from tests.integration.conftest import TopicFactory
from tests.support.infra import Infra


async def test_a_slow_step_on_the_transitions_topic_becomes_an_anomaly_record(
    infra: Infra, make_topic: TopicFactory, uid: str
) -> None:
    src, out = await make_topic("transitions"), await make_topic("anomalies")
    codec = SingleObjectCodec(SchemaCatalog(), models=[SagaTransition, Anomaly])
    tf = Traffic(rate_per_s=1.0, duration_s=1500,
                 incidents=(Incident("slow", 1200, step="pay", latency_x=5),))  # fmt: skip
    values = [codec.encode(t) for t in transitions(tf)]
    async with RawProducer(infra.kafka_bootstrap) as producer:  # batches and singles, as relays do
        half = len(values) // 2 // 20 * 20
        records = [OutgoingRecord(src, batch_transitions(codec, values[i : i + 20]))
                   for i in range(0, half, 20)]  # fmt: skip
        records.append(OutgoingRecord(src, b"not a transition"))
        records += [OutgoingRecord(src, v) for v in values[half:]]
        await producer.send_batch(records)

    options = WatchOptions(bootstrap=infra.kafka_bootstrap, transitions_topic=src,
                           anomalies_topic=out, group_id=f"watch-{uid}")  # fmt: skip
    watcher = Watcher(options, codec=codec, clock=lambda: tf.epoch + tf.duration_s)
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    try:
        found = await asyncio.wait_for(read_anomalies(infra, out, uid, codec), timeout=25)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
    assert (found.step, found.metric, found.status) == ("pay", "latency_p95_s", "open")
    assert tf.epoch + 1200 - 60 <= found.since.timestamp() <= tf.epoch + 1200 + 120
    assert watcher.skipped == 1
    labels = {"saga_type": "order", "step": "pay", "metric": "latency_p95_s"}
    assert watcher.metrics.registry.get_sample_value("dirigent_anomalies_total", labels) == 1


async def read_anomalies(infra: Infra, topic: str, uid: str,
                         codec: SingleObjectCodec) -> Anomaly:  # fmt: skip
    async with BatchConsumer(infra.kafka_bootstrap, [topic], group_id=f"read-{uid}") as c:
        while True:
            for records in (await c.getmany(timeout_ms=500)).values():
                for r in records:
                    a = codec.decode(r.value or b"", reader=Anomaly)
                    assert isinstance(a, Anomaly)
                    return a
