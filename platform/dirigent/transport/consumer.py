"""The batch consumer: ``getmany`` batches, manual commits, nothing automatic.

Offsets are committed only when the caller says its outcome is durable. Used by the
service runtime and reusable by the coordinator (same settings, same record type).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic_settings import BaseSettings, SettingsConfigDict

from dirigent.errors import TransportError
from dirigent.transport._lifecycle import Lifecycle

__all__ = ["BatchConsumer", "ConsumerSettings", "InboundRecord", "TopicPartition"]


class ConsumerSettings(BaseSettings):
    """Consumer tuning (env prefix ``DIRIGENT_CONSUMER_``)."""

    model_config = SettingsConfigDict(env_prefix="DIRIGENT_CONSUMER_", frozen=True, extra="ignore")

    client_id: str = "dirigent"
    max_poll_records: int = 500
    poll_timeout_ms: int = 500
    max_partition_fetch_bytes: int = 1024 * 1024
    session_timeout_ms: int = 45_000
    heartbeat_interval_ms: int = 3_000
    max_poll_interval_ms: int = 300_000


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """A consumed record, bytes untouched."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    @property
    def tp(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)


class BatchConsumer:
    """A consumer-group member that hands out batches and commits only when told.

    Example::

        async with BatchConsumer("127.0.0.1:9092", ["inventory.commands"], group_id="inv") as c:
            batch = await c.getmany()
            ...  # make the outcome of every record durable, then:
            await c.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
    """

    def __init__(
        self,
        bootstrap: str,
        topics: Sequence[str],
        *,
        group_id: str,
        settings: ConsumerSettings | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.topics = list(topics)
        self.group_id = group_id
        self.settings = settings or ConsumerSettings()
        self._life = Lifecycle(f"consumer {group_id} on {bootstrap}")
        self._consumer: Any = None

    async def start(self) -> None:
        if not self._life.opening():
            return
        self._consumer = self._build()
        try:
            await self._consumer.start()
            self._subscribe()
        except KafkaError as exc:
            await self._consumer.stop()
            self._life.closing()
            raise TransportError(f"cannot start consumer {self.group_id}: {exc}") from exc
        self._life.opened()

    def _options(self) -> dict[str, Any]:
        """aiokafka consumer options; dirigent never commits automatically."""
        s = self.settings
        return {
            "bootstrap_servers": self.bootstrap,
            "group_id": self.group_id,
            "client_id": s.client_id,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "max_poll_records": s.max_poll_records,
            "max_partition_fetch_bytes": s.max_partition_fetch_bytes,
            "session_timeout_ms": s.session_timeout_ms,
            "heartbeat_interval_ms": s.heartbeat_interval_ms,
            "max_poll_interval_ms": s.max_poll_interval_ms,
        }

    def _build(self) -> Any:
        return AIOKafkaConsumer(*self.topics, **self._options())

    def _subscribe(self) -> None:
        """Subclasses subscribe after start (the topics here are given at construction)."""

    async def close(self) -> None:
        """Leave the group; safe twice. Uncommitted offsets are redelivered later."""
        if self._life.closing():
            await self._consumer.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def getmany(
        self, timeout_ms: int | None = None
    ) -> dict[TopicPartition, list[InboundRecord]]:
        """The next batch, per partition in offset order (empty after the timeout)."""
        self._life.check_open()
        timeout = self.settings.poll_timeout_ms if timeout_ms is None else timeout_ms
        try:
            raw = await self._consumer.getmany(
                timeout_ms=timeout, max_records=self.settings.max_poll_records
            )
        except KafkaError as exc:
            raise TransportError(f"fetch failed for group {self.group_id}: {exc!r}") from exc
        return {tp: [_inbound(m) for m in msgs] for tp, msgs in raw.items() if msgs}

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Commit ``offsets`` (the next offset to read, i.e. last done + 1)."""
        self._life.check_open()
        if not offsets:
            return
        try:
            await self._consumer.commit(dict(offsets))
        except KafkaError as exc:
            raise TransportError(f"commit failed for group {self.group_id}: {exc!r}") from exc

    def seek(self, tp: TopicPartition, offset: int) -> None:
        """Read ``tp`` again from ``offset`` (after an outcome could not be made durable)."""
        self._life.check_open()
        self._consumer.seek(tp, offset)


def _inbound(m: Any) -> InboundRecord:
    return InboundRecord(
        topic=m.topic,
        partition=m.partition,
        offset=m.offset,
        timestamp_ms=m.timestamp,
        key=m.key,
        value=m.value,
        headers=tuple((k, v) for k, v in (m.headers or ())),
    )
