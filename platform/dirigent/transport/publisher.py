"""``Publisher``: typed events in, Avro bytes with the envelope in headers out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from dirigent.errors import ContractError, PublishFailed
from dirigent.events import AvroCodec, Event
from dirigent.events.envelope import Envelope
from dirigent.saga import SagaDefinition
from dirigent.transport.producer import OutgoingRecord, ProducerSettings, RawProducer
from dirigent.transport.security import Bootstrap

__all__ = ["Publication", "Publisher"]


@dataclass(frozen=True, slots=True)
class Publication:
    """One event for ``publish_many``; ``envelope`` and ``key`` are optional."""

    event: Event
    topic: str
    key: bytes | str | None = None
    envelope: Envelope | None = None


class Publisher:
    """Publish typed events; the envelope travels in Kafka headers.

    Example::

        codec = SingleObjectCodec(SchemaCatalog.load(Path("schemas")), models=[OrderPlaced])
        async with Publisher("127.0.0.1:9092", codec, source="shop") as publisher:
            env = await publisher.publish(placed, topic="shop.events", saga_id=placed.order_id)

    The record key defaults to the saga id, else the correlation id. Give ``sagas`` and
    an event that starts one of them gets its saga id (so its key) from the saga's own
    ``saga_id`` rule, and an event one of them waits for (``wait_for``) from the wait's
    correlation: it lands on the partition the saga lives on, and the coordinator need
    not forward it. Every failure to encode or produce raises ``PublishFailed``
    (the cause is kept as ``__cause__``).

    Example with sagas::

        async with Publisher(bootstrap, codec, source="shop", sagas=[order_fulfilment]) as p:
            await p.publish(placed, topic="shop.orders.events")  # key = placed.order_id
    """

    def __init__(
        self,
        bootstrap: Bootstrap,
        codec: AvroCodec,
        *,
        source: str,
        settings: ProducerSettings | None = None,
        producer: RawProducer | None = None,
        sagas: Sequence[SagaDefinition] = (),
    ) -> None:
        self.codec = codec
        self.source = source
        self._starts = {d.start_type: d for d in sagas}
        self._waits = {t: d for d in sagas for t in d.wait_types}
        self._owns_producer = producer is None
        self._producer = producer or RawProducer(bootstrap, settings=settings)

    async def start(self) -> None:
        await self._producer.start()

    async def close(self) -> None:
        """Close the underlying producer if this publisher created it; safe twice."""
        if self._owns_producer:
            await self._producer.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def publish(
        self,
        event: Event,
        *,
        topic: str,
        key: bytes | str | None = None,
        envelope: Envelope | None = None,
        saga_id: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        traceparent: str | None = None,
    ) -> Envelope:
        """Publish one event and wait for the broker; returns the envelope sent."""
        if envelope is None:
            envelope = self.envelope_for(
                event,
                saga_id=saga_id,
                correlation_id=correlation_id,
                causation_id=causation_id,
                traceparent=traceparent,
            )
        return (await self.publish_many([Publication(event, topic, key, envelope)]))[0]

    async def publish_many(self, items: Sequence[Publication]) -> list[Envelope]:
        """Publish a batch (order kept per partition); returns the envelopes sent."""
        records: list[OutgoingRecord] = []
        envelopes: list[Envelope] = []
        for item in items:
            record, env = await self._record(item)
            records.append(record)
            envelopes.append(env)
        await self._producer.send_batch(records)
        return envelopes

    def envelope_for(
        self,
        event: Event,
        *,
        saga_id: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        traceparent: str | None = None,
    ) -> Envelope:
        """A fresh envelope for ``event`` from this publisher's source."""
        if saga_id is None:
            saga_id = self._saga_id_of(event)
        return Envelope.new(
            type=event.event_type,
            source=self.source,
            schema_ref=self.codec.schema_ref(type(event)),
            saga_id=saga_id,
            correlation_id=correlation_id,
            causation_id=causation_id,
            traceparent=traceparent,
        )

    def _saga_id_of(self, event: Event) -> str | None:
        """The saga id of a start event, or of an event a saga waits for (its correlation)."""
        et = event.event_type
        start, wait = self._starts.get(et), self._waits.get(et)
        saga = start or wait
        if saga is None:
            return None
        try:
            if start is not None:
                return start.saga_id_for(event)
            awaits = saga.wait_types[et].awaits
            assert awaits is not None
            return awaits.saga_id_of(event)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise PublishFailed(
                f"saga {saga.name} cannot derive a saga id from {et}: {exc!r}"
            ) from exc

    async def _record(self, item: Publication) -> tuple[OutgoingRecord, Envelope]:
        try:
            value = await self.codec.aencode(item.event)
            env = item.envelope or self.envelope_for(item.event)
            headers = tuple(env.to_headers())
        except ContractError as exc:
            raise PublishFailed(f"cannot publish {item.event.event_type}: {exc}") from exc
        key = item.key if item.key is not None else env.record_key
        key_bytes = key.encode() if isinstance(key, str) else key
        return OutgoingRecord(item.topic, value, key_bytes, headers), env
