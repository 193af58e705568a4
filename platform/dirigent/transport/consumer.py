"""The batch consumer: ``getmany`` batches, manual commits, nothing automatic.

Offsets are committed only when the caller says its outcome is durable. Used by the
service runtime and reusable by the coordinator (same settings, same record type).

Nothing an outside producer writes makes ``getmany`` raise or stall: a record that
cannot be read as it is (a header name that is not UTF-8, a corrupt record, a gzip batch
that inflates beyond ``max_batch_decompressed_bytes``, a record larger than
``max_record_bytes`` once decoded) comes out as an ``InboundRecord`` whose ``defect``
names the problem, and the runtime dead-letters it (see ``dirigent.transport._records``
for what is bounded before decompression and what is not).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic_settings import BaseSettings, SettingsConfigDict

from dirigent.errors import TransportError
from dirigent.transport import _records
from dirigent.transport._errors import map_kafka_errors
from dirigent.transport._lifecycle import Lifecycle
from dirigent.transport._login import start_client
from dirigent.transport.security import Bootstrap, kafka_options

__all__ = [
    "BatchConsumer",
    "ConsumerSettings",
    "InboundRecord",
    "TopicPartition",
    "inbound",
    "install_record_parser",
    "make_inbound",
    "record_size",
]


class ConsumerSettings(BaseSettings):
    """Consumer tuning (env prefix ``DIRIGENT_CONSUMER_``)."""

    model_config = SettingsConfigDict(env_prefix="DIRIGENT_CONSUMER_", frozen=True, extra="ignore")

    client_id: str = "dirigent"
    max_poll_records: int = 500
    poll_timeout_ms: int = 500
    max_partition_fetch_bytes: int = 1024 * 1024
    fetch_max_bytes: int = 8 * 1024 * 1024  # compressed bytes per fetch (aiokafka: 50 MiB)
    max_batch_decompressed_bytes: int = 32 * 1024 * 1024  # one gzip batch, inflated
    max_record_bytes: int = 2 * 1024 * 1024  # key + value + headers of one decoded record
    session_timeout_ms: int = 45_000
    heartbeat_interval_ms: int = 3_000
    max_poll_interval_ms: int = 300_000


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """A consumed record, bytes untouched.

    ``defect`` is None for a record read as it is; otherwise it names why the record
    cannot be used (header names not UTF-8, corrupt, too large, a batch that was not
    decompressed): dead-letter it and move on. Header names that were not UTF-8 are
    decoded with ``surrogateescape`` (``name.encode("utf-8", "surrogateescape")`` gives
    the original bytes back). A defect record of a batch that could not be read has no
    key, value or headers and stands for the offsets named in ``defect``.
    """

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    defect: str | None = None

    @property
    def tp(self) -> TopicPartition:
        """The record's topic and partition."""
        return TopicPartition(self.topic, self.partition)

    @property
    def size_bytes(self) -> int:
        """Key + value + header names and values, as decoded."""
        return record_size(self.key, self.value, self.headers)


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
        bootstrap: Bootstrap,
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
        """Connect and join the group (``TransportError`` keeps aiokafka's verdict)."""
        if not self._life.opening():
            return
        _records.install()
        limits = _records.RecordLimits(max_batch_bytes=self.settings.max_batch_decompressed_bytes)
        try:
            what = f"starting consumer {self.group_id} on {self.bootstrap}"
            with map_kafka_errors(what):
                self._consumer = self._build()
            with _records.limits_scope(limits):  # the fetch task starts in here
                await start_client(self._consumer, self.bootstrap, what)
            with map_kafka_errors(what):
                self._subscribe()
        except BaseException:
            await self._stop_quietly()
            self._life.closing()
            raise
        self._life.opened()

    async def _stop_quietly(self) -> None:
        if self._consumer is not None:
            with contextlib.suppress(TransportError), map_kafka_errors("stopping a consumer"):
                await self._consumer.stop()

    def _options(self) -> dict[str, Any]:
        """aiokafka consumer options; dirigent never commits automatically."""
        s = self.settings
        return {
            **kafka_options(self.bootstrap),
            "group_id": self.group_id,
            "client_id": s.client_id,
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "max_poll_records": s.max_poll_records,
            "max_partition_fetch_bytes": s.max_partition_fetch_bytes,
            "fetch_max_bytes": s.fetch_max_bytes,
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
            with map_kafka_errors(f"closing consumer {self.group_id}"):
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
        """The next batch, per partition in offset order (empty after the timeout).

        Records that cannot be used as they are come with ``defect`` set (never raised).
        """
        self._life.check_open()
        timeout = self.settings.poll_timeout_ms if timeout_ms is None else timeout_ms
        with map_kafka_errors(f"fetch for group {self.group_id}"):
            raw = await self._consumer.getmany(
                timeout_ms=timeout, max_records=self.settings.max_poll_records
            )
        limit = self.settings.max_record_bytes
        return {tp: [inbound(m, limit) for m in msgs] for tp, msgs in raw.items() if msgs}

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Commit ``offsets`` (the next offset to read, i.e. last done + 1)."""
        self._life.check_open()
        if not offsets:
            return
        with map_kafka_errors(f"commit for group {self.group_id}"):
            await self._consumer.commit(dict(offsets))

    def seek(self, tp: TopicPartition, offset: int) -> None:
        """Read ``tp`` again from ``offset`` (after an outcome could not be made durable).

        A partition a rebalance took away meanwhile is left alone: its next owner reads
        it from the last committed offset (aiokafka would raise ``IllegalStateError``).
        """
        self._life.check_open()
        if tp not in self._consumer.assignment():
            return
        with map_kafka_errors(f"seek of {tp.topic}[{tp.partition}] to {offset}"):
            self._consumer.seek(tp, offset)


def install_record_parser() -> None:
    """Make every aiokafka consumer in this process hand out defect records instead of
    raising on unreadable data (``BatchConsumer`` does this itself when it starts)."""
    _records.install()


def record_size(
    key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes | None]]
) -> int:
    """Bytes of key, value, header names (UTF-8, escapes as one byte) and header values."""
    size = len(key or b"") + len(value or b"")
    for name, raw in headers:
        size += _name_bytes(name) + len(raw or b"")
    return size


def _name_bytes(name: str) -> int:
    return len(name) if name.isascii() else len(name.encode("utf-8", "surrogatepass"))


def inbound(m: Any, max_record_bytes: int | None = None) -> InboundRecord:
    """An ``InboundRecord`` from an aiokafka ``ConsumerRecord``, with its defect if any."""
    return make_inbound(
        m.topic, m.partition, m.offset, m.timestamp, m.key, m.value, m.headers or (),
        max_record_bytes=max_record_bytes,
    )  # fmt: skip


def make_inbound(
    topic: str,
    partition: int,
    offset: int,
    timestamp_ms: int,
    key: bytes | None,
    value: bytes | None,
    headers: Iterable[tuple[str, bytes | None]],
    *,
    max_record_bytes: int | None = None,
) -> InboundRecord:
    """An ``InboundRecord`` with ``defect`` set from what dirigent's parser found.

    For other aiokafka-based consumers (the Faust bridge): header names that are not
    UTF-8, defects of unreadable batches, and a decoded size over ``max_record_bytes``.
    """
    kept = tuple(headers)
    size = len(key or b"") + len(value or b"")
    defects: list[str] = []
    bad_names: list[bytes] = []
    for name, raw in kept:
        size += _name_bytes(name) + len(raw or b"")
        if not name.isascii() and (name == _records.DEFECT_HEADER or not _is_utf8(name)):
            if name == _records.DEFECT_HEADER:
                defects.append(bytes(raw or b"").decode(errors="replace"))
            else:
                bad_names.append(name.encode("utf-8", "surrogateescape"))
    if defects:
        kept = tuple(h for h in kept if h[0] != _records.DEFECT_HEADER)
    if bad_names:
        defects.append(f"header name(s) not valid UTF-8: {', '.join(map(repr, bad_names[:5]))}")
    if max_record_bytes is not None and size > max_record_bytes:
        defects.append(f"record of {size} bytes exceeds max_record_bytes={max_record_bytes}")
    return InboundRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp_ms=timestamp_ms,
        key=key,
        value=value,
        headers=kept,  # type: ignore[arg-type]  # aiokafka gives None for a null value
        defect="; ".join(defects) or None,
    )


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
