"""One record, one durable outcome: handled, duplicate, or dead-lettered.

Reusable outside ``Service`` (the Faust integration feeds it records). ``process``
returns only when the outcome is durable (reply stored in Redis and acknowledged by
Kafka, or dead letter acknowledged); it raises ``StoreError``/``TransportError`` when
that could not be achieved, and then the offset must not be committed.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from dirigent.errors import ContractError, EnvelopeError, UnknownSchema
from dirigent.events import AvroCodec, Event
from dirigent.events.envelope import DEFAULT_LIMITS, Envelope, EnvelopeLimits
from dirigent.observability import bind_context
from dirigent.service._replies import reply_records
from dirigent.service.context import HandlerContext
from dirigent.service.handlers import HandlerSpec, HandlerTable
from dirigent.service.metrics import ServiceMetrics
from dirigent.store.idempotency import IdempotencyStore
from dirigent.transport.consumer import InboundRecord
from dirigent.transport.deadletter import Failure, dead_letter_record
from dirigent.transport.producer import OutgoingRecord, RawProducer

__all__ = ["Outcome", "RecordProcessor"]

# dirigent.observability.get_logger(name) currently clashes with structlog's `logger` kwarg.
log = structlog.get_logger(__name__)
NO_HANDLER = "-"


class Outcome(enum.Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"


@dataclass(kw_only=True)
class RecordProcessor:
    """Envelope check, duplicate check, decode, handler with retries, reply or DLT."""

    handlers: HandlerTable
    codec: AvroCodec
    idempotency: IdempotencyStore
    producer: RawProducer
    metrics: ServiceMetrics
    group: str
    source: str
    limits: EnvelopeLimits = DEFAULT_LIMITS
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def process(self, record: InboundRecord) -> Outcome:
        try:
            env, spec = self._admit(record)
        except ContractError as exc:
            return await self._poison(record, exc, NO_HANDLER)
        with bind_context(message_id=env.message_id, saga_id=env.saga_id, handler=spec.name):
            stored = await self.idempotency.get(env.message_id)
            if stored is not None:
                await self.producer.send_batch(stored)
                self.metrics.count(self.metrics.duplicates, spec.name)
                log.info("duplicate: stored reply re-sent", replies=len(stored))
                return Outcome.DUPLICATE
            try:
                event = await self.codec.adecode(record.value or b"", reader=spec.model)
            except ContractError as exc:
                return await self._poison(record, exc, spec.name)
            result = await self._run(spec, event, env, record)
            if isinstance(result, Failure):
                return await self._dead_letter(record, result)
            # Store first, then publish: a crash in between re-sends the stored bytes.
            replies = await asyncio.shield(self.idempotency.put(env.message_id, result))
            await self.producer.send_batch(replies)
            self.metrics.count(self.metrics.handled, spec.name)
            return Outcome.HANDLED

    def _admit(self, record: InboundRecord) -> tuple[Envelope, HandlerSpec]:
        if record.value is None:
            raise EnvelopeError(f"{_where(record)} has no value (tombstone)")
        self.limits.check_payload(record.value)
        env = Envelope.from_headers(record.headers, self.limits)
        spec = self.handlers.get(env.type)
        if spec is None:
            raise UnknownSchema(f"no handler for {env.type} at {_where(record)}")
        return env, spec

    async def _run(
        self, spec: HandlerSpec, event: Event, env: Envelope, record: InboundRecord
    ) -> list[OutgoingRecord] | Failure:
        first_ms = 0
        attempt = 0
        while True:
            attempt += 1
            ctx = HandlerContext(env, record.topic, record.partition, record.offset, attempt)
            try:
                reply = await spec.func(event, ctx)
                return await reply_records(
                    env, reply, topic=spec.reply_topic, source=self.source, codec=self.codec
                )
            # Not "log and continue": every error is classified, then retried or
            # dead-lettered, and only that durable outcome lets the offset be committed.
            except Exception as exc:  # noqa: BLE001
                now = _now_ms()
                first_ms = first_ms or now
                if not spec.retry.should_retry(attempt, exc):
                    return Failure.of(
                        exc, handler=spec.name, attempts=attempt, first_ms=first_ms, last_ms=now
                    )
                delay = spec.retry.delay_s(attempt, exc)
                self.metrics.count(self.metrics.retries, spec.name)
                log.warning(
                    "handler failed, retrying", attempt=attempt, delay_s=delay, error=repr(exc)
                )
                await self.sleep(delay)

    async def _poison(self, record: InboundRecord, exc: Exception, handler: str) -> Outcome:
        now = _now_ms()
        return await self._dead_letter(
            record, Failure.of(exc, handler=handler, attempts=1, first_ms=now, last_ms=now)
        )

    async def _dead_letter(self, record: InboundRecord, failure: Failure) -> Outcome:
        await self.producer.send(dead_letter_record(record, failure, group=self.group))
        self.metrics.count(self.metrics.dead_lettered, failure.handler)
        log.error(
            "dead-lettered",
            where=_where(record),
            error_class=failure.error_class,
            error=failure.message,
            fingerprint=failure.fingerprint,
            attempts=failure.attempts,
        )
        return Outcome.DEAD_LETTERED


def _where(record: InboundRecord) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


def _now_ms() -> int:
    return int(time.time() * 1000)
