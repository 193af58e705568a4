"""A fast scripted participant: one consume -> reply -> commit loop for all command topics.

Like ``tests/support/responder.py``, but it keeps no ledger and, for the latency
figures, notes when each command was produced (its Kafka timestamp) per (saga, step).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import TracebackType

from bench.shop import STEP_OF_COMMAND, reply_to
from dirigent.events import AvroCodec, Envelope
from dirigent.transport import BatchConsumer, ConsumerSettings, OutgoingRecord, RawProducer

__all__ = ["Participant"]


class Participant:
    def __init__(
        self, bootstrap: str, topics: Sequence[str], codec: AvroCodec, *, group: str
    ) -> None:
        self.codec = codec
        self.consumer = BatchConsumer(bootstrap, topics, group_id=group,
                                      settings=ConsumerSettings(max_poll_records=1000))  # fmt: skip
        self.producer = RawProducer(bootstrap)
        self.sent_at: dict[tuple[str, str], int] = {}  # (saga id, step) -> command time ms
        self.commands = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Participant:
        await self.producer.start()
        await self.consumer.start()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.consumer.close()
        await self.producer.close()

    async def _run(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            out: list[OutgoingRecord] = []
            for tp, records in batch.items():
                topic = tp.topic.removesuffix(".commands") + ".events"
                for r in records:
                    env = Envelope.from_headers(r.headers)
                    saga_id = env.saga_id or ""
                    step = STEP_OF_COMMAND.get(env.type)
                    if step is not None:
                        self.sent_at.setdefault((saga_id, step), r.timestamp_ms)
                    reply = reply_to(env.type, saga_id)
                    if reply is None:
                        continue
                    ref = self.codec.schema_ref(type(reply))
                    reply_env = env.reply(type=reply.event_type, source="bench", schema_ref=ref)
                    out.append(OutgoingRecord(topic, self.codec.encode(reply), r.key,
                                              tuple(reply_env.to_headers())))  # fmt: skip
            self.commands += sum(len(rs) for rs in batch.values())
            if out:
                await self.producer.send_batch(out)
            if batch:
                await self.consumer.commit({tp: rs[-1].offset + 1 for tp, rs in batch.items()})
