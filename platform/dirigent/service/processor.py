"""One record, one durable outcome: handled, duplicate, or dead-lettered.

Reusable outside ``Service`` (the Faust integration feeds it records). ``process``
returns only when the outcome is durable (reply stored in Redis and acknowledged by
Kafka, or dead letter acknowledged); it raises ``StoreError``/``TransportError`` when
that could not be achieved, and then the offset must not be committed. Such an error
is retryable unless retrying cannot help (a dead-letter topic that cannot be written).

Poison, dead-lettered at once (in reduced form if it does not fit whole): a record with
a ``defect`` (header names not UTF-8, corrupt, a batch too large to decompress), a
tombstone, a payload over the limit, bad envelope headers, an unknown type, bytes the
codec cannot decode, and replies the broker refuses for good (too large).
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from opentelemetry.trace import Status, StatusCode

from dirigent.errors import (
    ContractError,
    DecodeError,
    EnvelopeError,
    PublishFailed,
    StoreError,
    UnknownSchema,
)
from dirigent.events import AvroCodec, Event
from dirigent.events.envelope import DEFAULT_LIMITS, Envelope, EnvelopeLimits
from dirigent.observability import bind_context, get_logger
from dirigent.observability.tracing import Tracing
from dirigent.service._replies import reply_records
from dirigent.service._spans import handler_span, traceparent_of
from dirigent.service.context import HandlerContext
from dirigent.service.handlers import HandlerSpec, HandlerTable, Reply
from dirigent.service.metrics import ServiceMetrics
from dirigent.store.idempotency import IdempotencyStore
from dirigent.transport import send_dead_letters
from dirigent.transport.consumer import InboundRecord
from dirigent.transport.deadletter import Failure
from dirigent.transport.producer import OutgoingRecord, RawProducer

__all__ = ["RecordOutcome", "RecordProcessor"]

log = get_logger(__name__)
NO_HANDLER = "-"
_PROBE_ID = "dirigent-probe"  # a message id no producer uses: a cheap read of the store


class RecordOutcome(enum.Enum):
    """What became of one record (not to be confused with the saga store's outcomes)."""

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
    tracing: Tracing = field(default_factory=Tracing.off)

    async def process(self, record: InboundRecord) -> RecordOutcome:
        """Make the outcome of ``record`` durable (see the module docstring)."""
        try:
            env, spec = self._admit(record)
        except ContractError as exc:
            return await self._poison(record, exc, NO_HANDLER)
        with bind_context(message_id=env.message_id, saga_id=env.saga_id, handler=spec.name):
            stored = await self.idempotency.get(env.message_id)
            if stored is not None:
                if failure := await self._publish(stored, spec):
                    return await self._dead_letter(record, failure)
                self.metrics.count(self.metrics.duplicates, spec.name)
                log.info("duplicate: stored reply re-sent", replies=len(stored))
                return RecordOutcome.DUPLICATE
            try:
                event = await self.codec.adecode(record.value or b"", reader=spec.model)
            except ContractError as exc:
                return await self._poison(record, exc, spec.name)
            if self.tracing.enabled:
                with handler_span(self.tracing, env, spec.name, record) as span:
                    result = await self._run(spec, event, env, record, traceparent_of(span))
                    if isinstance(result, Failure):
                        span.set_status(Status(StatusCode.ERROR, result.message[:300]))
            else:
                result = await self._run(spec, event, env, record)
            if isinstance(result, Failure):
                return await self._dead_letter(record, result)
            # Store first, then publish: a crash in between re-sends the stored bytes.
            replies = await asyncio.shield(self.idempotency.put(env.message_id, result))
            if failure := await self._publish(replies, spec):
                return await self._dead_letter(record, failure)
            self.metrics.count(self.metrics.handled, spec.name)
            log.debug("handled", type=env.type, replies=len(replies), where=_where(record))
            return RecordOutcome.HANDLED

    async def store_answers(self) -> bool:
        """True if the idempotency store answers now (after an outage, say)."""
        try:
            await self.idempotency.get(_PROBE_ID)
        except StoreError:
            return False
        return True

    def _admit(self, record: InboundRecord) -> tuple[Envelope, HandlerSpec]:
        if record.defect is not None:
            raise DecodeError(f"{_where(record)} cannot be read: {record.defect}")
        if record.value is None:
            raise EnvelopeError(f"{_where(record)} has no value (tombstone)")
        self.limits.check_payload(record.value)
        env = Envelope.from_headers(record.headers, self.limits)
        spec = self.handlers.get(env.type)
        if spec is None:
            raise UnknownSchema(f"no handler for {env.type} at {_where(record)}")
        return env, spec

    async def _publish(self, replies: list[OutgoingRecord], spec: HandlerSpec) -> Failure | None:
        """Send replies; a refusal that retrying cannot fix is a failure of the input."""
        try:
            await self.producer.send_batch(replies)
        except PublishFailed as exc:
            if exc.retryable:
                raise
            now = _now_ms()
            return Failure.of(exc, handler=spec.name, attempts=1, first_ms=now, last_ms=now)
        return None

    async def _run(
        self,
        spec: HandlerSpec,
        event: Event,
        env: Envelope,
        record: InboundRecord,
        traceparent: str | None = None,
    ) -> list[OutgoingRecord] | Failure:
        first_ms = 0
        attempt = 0
        while True:
            attempt += 1
            ctx = HandlerContext(env, record.topic, record.partition, record.offset, attempt)
            try:
                reply = await self._call(spec, event, ctx)
                return await reply_records(
                    env, reply, topic=spec.reply_topic, source=self.source, codec=self.codec,
                    traceparent=traceparent,
                )  # fmt: skip
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

    async def _call(self, spec: HandlerSpec, event: Event, ctx: HandlerContext) -> Reply:
        """One handler attempt, timed whether it returns or raises."""
        started = time.perf_counter()
        try:
            return await spec.func(event, ctx)
        finally:
            self.metrics.observe_handler(spec.name, time.perf_counter() - started)

    async def _poison(self, record: InboundRecord, exc: Exception, handler: str) -> RecordOutcome:
        now = _now_ms()
        return await self._dead_letter(
            record, Failure.of(exc, handler=handler, attempts=1, first_ms=now, last_ms=now)
        )

    async def _dead_letter(self, record: InboundRecord, failure: Failure) -> RecordOutcome:
        [sent] = await send_dead_letters(self.producer, [(record, failure)], group=self.group)
        # Counted and logged only now: the broker acknowledged the dead letter.
        self.metrics.count(self.metrics.dead_lettered, failure.handler)
        log.error(
            "dead-lettered",
            where=_where(record),
            dlt=f"{sent.topic}[{sent.partition}]@{sent.offset}",
            error_class=failure.error_class,
            error=failure.message[:1024],
            fingerprint=failure.fingerprint,
            attempts=failure.attempts,
        )
        return RecordOutcome.DEAD_LETTERED


def _where(record: InboundRecord) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


def _now_ms() -> int:
    return int(time.time() * 1000)
