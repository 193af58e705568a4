"""The raw producer: bytes, key and headers in; broker acknowledgements out.

Used by ``Publisher`` (typed events), the service runtime (replies, dead letters) and
the coordinator's outbox relay. Every send is idempotent (``enable_idempotence``) and
acknowledged by all in-sync replicas (``acks="all"``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from aiokafka import AIOKafkaProducer
from aiokafka import codec as kafka_codec
from pydantic_settings import BaseSettings, SettingsConfigDict

from dirigent.errors import ConfigurationError, PublishFailed
from dirigent.transport._errors import map_kafka_errors
from dirigent.transport._lifecycle import Lifecycle
from dirigent.transport._login import start_client
from dirigent.transport.partitioner import CachedPartitioner
from dirigent.transport.security import Bootstrap, kafka_options

__all__ = ["Compression", "OutgoingRecord", "ProducerSettings", "RawProducer", "SentRecord"]

Compression = Literal["gzip", "snappy", "lz4", "zstd"]
_CODEC_AVAILABLE = {
    "gzip": kafka_codec.has_gzip,
    "snappy": kafka_codec.has_snappy,
    "lz4": kafka_codec.has_lz4,
    "zstd": kafka_codec.has_zstd,
}


class ProducerSettings(BaseSettings):
    """Producer tuning (env prefix ``DIRIGENT_PRODUCER_``).

    ``lz4``, ``zstd`` and ``snappy`` need aiokafka's optional ``cramjam`` dependency
    (``pip install 'aiokafka[lz4,zstd]'``); ``gzip`` always works.
    """

    model_config = SettingsConfigDict(env_prefix="DIRIGENT_PRODUCER_", frozen=True, extra="ignore")

    client_id: str = "dirigent"
    linger_ms: int = 5
    max_batch_bytes: int = 64 * 1024
    max_request_bytes: int = 1024 * 1024
    compression: Compression | None = None
    request_timeout_ms: int = 30_000


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    """One record to produce, exactly as it will be on the wire."""

    topic: str
    value: bytes | None
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = field(default=())
    partition: int | None = None


@dataclass(frozen=True, slots=True)
class SentRecord:
    """Where the broker stored a record."""

    topic: str
    partition: int
    offset: int


class RawProducer:
    """An idempotent, all-acks aiokafka producer that raises ``PublishFailed``.

    Example::

        async with RawProducer("127.0.0.1:9092") as producer:
            sent = await producer.send(OutgoingRecord("t", b"v", key=b"k", headers=(("h", b"1"),)))
    """

    def __init__(self, bootstrap: Bootstrap, *, settings: ProducerSettings | None = None) -> None:
        self.bootstrap = bootstrap
        self.settings = settings or ProducerSettings()
        _check_compression(self.settings.compression)
        self._life = Lifecycle(f"producer for {bootstrap}")
        self._producer: Any = None

    async def start(self) -> None:
        """Connect (``PublishFailed`` keeps aiokafka's verdict on retryability)."""
        if not self._life.opening():
            return
        try:
            self._producer = self._build()
            what = f"connecting a producer to {self.bootstrap}"
            await start_client(self._producer, self.bootstrap, what, publish=True)
        except BaseException:
            await self._stop_quietly()
            self._life.closing()
            raise
        self._life.opened()

    def _build(self) -> Any:
        s = self.settings
        try:
            return AIOKafkaProducer(
                **kafka_options(self.bootstrap),
                client_id=s.client_id,
                acks="all",
                enable_idempotence=True,
                linger_ms=s.linger_ms,
                max_batch_size=s.max_batch_bytes,
                max_request_size=s.max_request_bytes,
                compression_type=s.compression,
                request_timeout_ms=s.request_timeout_ms,
                partitioner=CachedPartitioner(),
            )
        except (ValueError, TypeError) as exc:  # aiokafka validates its options like this
            raise ConfigurationError(f"invalid producer settings {s!r}: {exc}") from exc

    async def _stop_quietly(self) -> None:
        if self._producer is not None:
            with contextlib.suppress(PublishFailed), map_kafka_errors("stopping", publish=True):
                await self._producer.stop()

    async def close(self) -> None:
        """Flush and close; safe to call twice."""
        if self._life.closing():
            with map_kafka_errors(f"closing the producer for {self.bootstrap}", publish=True):
                await self._producer.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def send(self, record: OutgoingRecord) -> SentRecord:
        """Produce one record and wait until the broker acknowledged it."""
        return (await self.send_batch([record]))[0]

    async def send_batch(self, records: Sequence[OutgoingRecord]) -> list[SentRecord]:
        """Produce records (in order per partition) and wait for every acknowledgement."""
        self._life.check_open()
        topic = records[0].topic if records else "?"
        with map_kafka_errors(f"publishing {len(records)} record(s) to {topic}", publish=True):
            futures = [await self._enqueue(r) for r in records]
            metadata = await asyncio.gather(*futures)
        return [SentRecord(m.topic, m.partition, m.offset) for m in metadata]

    async def send_each(
        self, records: Sequence[OutgoingRecord]
    ) -> list[SentRecord | PublishFailed]:
        """Produce records and report each one's own fate (acknowledged or why not).

        Unlike ``send_batch`` one refused record (too large, say) does not hide whether
        the others were stored. Example::

            for record, result in zip(records, await producer.send_each(records)):
                if isinstance(result, PublishFailed) and not result.retryable: ...
        """
        self._life.check_open()
        futures: list[asyncio.Future[Any] | PublishFailed] = []
        for r in records:
            try:
                with map_kafka_errors(f"publishing to {r.topic}", publish=True):
                    futures.append(await self._enqueue(r))
            except PublishFailed as exc:
                futures.append(exc)
        return [await _outcome(f, r.topic) for f, r in zip(futures, records, strict=True)]

    async def _enqueue(self, r: OutgoingRecord) -> asyncio.Future[Any]:
        headers = list(r.headers)
        fut: asyncio.Future[Any] = await self._producer.send(
            r.topic, r.value, key=r.key, headers=headers, partition=r.partition
        )
        return fut


async def _outcome(
    fut: asyncio.Future[Any] | PublishFailed, topic: str
) -> SentRecord | PublishFailed:
    if isinstance(fut, PublishFailed):
        return fut
    try:
        with map_kafka_errors(f"publishing to {topic}", publish=True):
            m = await fut
    except PublishFailed as exc:
        return exc
    return SentRecord(m.topic, m.partition, m.offset)


def _check_compression(compression: str | None) -> None:
    if compression is not None and not _CODEC_AVAILABLE[compression]():
        raise ConfigurationError(
            f"compression {compression!r} needs aiokafka's optional codec library "
            f"(pip install 'aiokafka[{compression}]'); gzip or None work without it"
        )
