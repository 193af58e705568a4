"""A scripted participant for coordinator tests: consumes commands, replies by rule.

Deliberately small and built on the transport layer only, so coordinator tests do not
depend on the service runtime. Every command it sees is kept in ``ledger``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from dirigent.events import AvroCodec, Envelope, Event
from dirigent.transport import BatchConsumer, Bootstrap, OutgoingRecord, RawProducer

Rule = Callable[[Event], Event | None]  # None: stay silent (a lost reply / timeout)


class Responder:
    def __init__(
        self, bootstrap: Bootstrap, topics: Sequence[str], codec: AvroCodec, rule: Rule, group: str
    ) -> None:
        self.codec, self.rule = codec, rule
        self.consumer = BatchConsumer(bootstrap, topics, group_id=group)
        self.producer = RawProducer(bootstrap)
        self.ledger: list[tuple[str, Event]] = []  # (message id, command)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Responder:
        await self.producer.start()
        await self.consumer.start()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.consumer.close()
        await self.producer.close()

    async def _run(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            out: list[OutgoingRecord] = []
            for tp, records in batch.items():
                for r in records:
                    env = Envelope.from_headers(r.headers)
                    command = self.codec.decode(r.value or b"")
                    self.ledger.append((env.message_id, command))
                    reply = self.rule(command)
                    if reply is None:
                        continue
                    reply_env = env.reply(
                        type=reply.event_type,
                        source="responder",
                        schema_ref=self.codec.schema_ref(type(reply)),
                    )
                    topic = tp.topic.removesuffix(".commands") + ".events"
                    value = self.codec.encode(reply)
                    out.append(OutgoingRecord(topic, value, r.key, tuple(reply_env.to_headers())))
            if out:
                await self.producer.send_batch(out)
            if batch:
                await self.consumer.commit({tp: rs[-1].offset + 1 for tp, rs in batch.items()})
