"""The baseline: a raw aiokafka consume -> produce pipe, configured like the coordinator.

Same consumer batching (``getmany``, up to 1,000 records), same producer (idempotent,
``acks=all``, 5 ms linger, 64 KiB batches), manual commits after the broker acknowledged
the batch's output. No decoding, no state: the cost floor of one Kafka hop in Python.

With ``codec`` it is the Avro pipe: each record's envelope is parsed and its Avro value
decoded into the contract's model, then a new envelope (a reply's) and the model
encoded again: what any Python service on Avro pays per message, without saga state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition

from dirigent.events import AvroCodec, Envelope

__all__ = ["RawPipe"]


class _Count(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, pipe: RawPipe) -> None:
        self.pipe = pipe

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self.pipe.assigned -= len(set(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self.pipe.assigned += len(set(assigned))


class RawPipe:
    def __init__(
        self, bootstrap: str, source: str, sink: str, *, group: str, codec: AvroCodec | None = None
    ) -> None:
        self.bootstrap, self.source, self.sink, self.group = bootstrap, source, sink, group
        self.codec = codec
        self.assigned = 0
        self.piped = 0
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True,
            linger_ms=5, max_batch_size=64 * 1024,
        )  # fmt: skip
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group, enable_auto_commit=False,
            auto_offset_reset="earliest", isolation_level="read_committed",
            max_poll_records=1000, session_timeout_ms=10_000, heartbeat_interval_ms=1_000,
        )  # fmt: skip
        await producer.start()
        await consumer.start()
        consumer.subscribe([self.source], listener=_Count(self))
        try:
            while not self._stopping.is_set():
                batch = await consumer.getmany(timeout_ms=100, max_records=1000)
                if batch:
                    await self._pipe(producer, batch)
                    await consumer.commit({tp: ms[-1].offset + 1 for tp, ms in batch.items()})
        finally:
            await consumer.stop()
            await producer.stop()

    async def _pipe(self, producer: Any, batch: dict[TopicPartition, list[Any]]) -> None:
        futures = [
            await producer.send(self.sink, value, key=m.key, headers=headers)
            for records in batch.values()
            for m in records
            for value, headers in (self._transform(m),)
        ]
        await asyncio.gather(*futures)
        self.piped += len(futures)

    def _transform(self, m: Any) -> tuple[bytes, list[tuple[str, bytes]]]:
        if self.codec is None:
            return m.value, list(m.headers)
        env = Envelope.from_headers(m.headers)
        event = self.codec.decode(m.value)
        value = self.codec.encode(event)
        reply = env.reply(type=event.event_type, source="avro-pipe",
                          schema_ref=self.codec.schema_ref(type(event)))  # fmt: skip
        return value, [*reply.to_headers(), *((n, v) for n, v in m.headers if n == HOP)]


HOP = "bench-hop"  # the chain's hop count, beside the envelope
