"""Record parsing that survives what an outside producer can write.

aiokafka 0.14 decodes every header name as strict UTF-8 while it iterates a fetched
batch (``_crecords`` and ``default_records._read_msg``). A name that is not UTF-8 raises
``UnicodeDecodeError`` out of ``getmany()``; the consumer position does not move, so the
next ``getmany()`` fetches the same batch and raises again: the partition stalls and
a runtime that lets the error out crashes on every restart. Records of *other*
partitions drained by that same ``getmany()`` are dropped by aiokafka while their
position has already moved on.

``SafeMemoryRecords`` replaces ``aiokafka.consumer.fetcher.MemoryRecords`` (``install``):

- each v2 batch is parsed by aiokafka's fast parser; if that raises (a bad header name,
  a corrupt record), the rest of the batch is parsed again leniently: header names with
  ``surrogateescape``, and a record that cannot be parsed at all becomes one *defect
  record* at the batch's last offset, so the partition moves on;
- a gzip batch is decompressed here with a cap (``RecordLimits.max_batch_bytes``): a
  batch that inflates beyond it is never materialised; it becomes one defect record
  (offset = the batch's last offset, the text names the whole offset range);
- a defect travels as a header named ``DEFECT_HEADER``, a name no wire bytes can decode
  to (a lone high surrogate), which ``BatchConsumer`` turns into ``InboundRecord.defect``.

What stays unbounded: snappy, lz4 and zstd batches (aiokafka decompresses them in one
call, and ``cramjam`` offers no output cap), and legacy (v0/v1) message sets. Fetch sizes
(``fetch_max_bytes``, ``max_partition_fetch_bytes``) bound only the compressed bytes.
"""

from __future__ import annotations

import contextlib
import contextvars
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiokafka.consumer import fetcher as _fetcher
from aiokafka.errors import CorruptRecordException, KafkaError
from aiokafka.record.default_records import DefaultRecordBatch
from aiokafka.record.legacy_records import LegacyRecordBatch
from aiokafka.record.util import decode_varint


def _codec_errors() -> tuple[type[Exception], ...]:
    try:
        import cramjam  # type: ignore[import-not-found]
    except ImportError:
        return ()
    return (cramjam.DecompressionError,)


__all__ = ["DEFECT_HEADER", "RecordLimits", "SafeMemoryRecords", "install", "limits_scope"]

DEFECT_HEADER = "\ud800dirigent-defect"
_HEADER_SIZE = 61  # v2 batch header: offset .. record count
_LOG_OVERHEAD = 12  # base offset + length
_MAGIC_AT = 16
_ATTRS_AT = 21
_CODEC_MASK = 0x07
_GZIP = 1
_LOG_APPEND_TIME = 1
_STEP = 1 << 20  # inflate this much at a time
_PARSE_ERRORS = (ValueError, IndexError, CorruptRecordException, struct.error)
# Everything aiokafka's parser and codecs raise on bytes that are not what they claim
# (a corrupt record, a codec that is unknown or not installed, bad compressed data).
_UNREADABLE: tuple[type[Exception], ...] = (
    *_PARSE_ERRORS,
    KafkaError,
    zlib.error,
    EOFError,
    OSError,
    AssertionError,
    RuntimeError,
    *_codec_errors(),
)


@dataclass(frozen=True, slots=True)
class RecordLimits:
    """Bounds applied while parsing fetched data."""

    max_batch_bytes: int = 64 * 1024 * 1024  # decompressed size of one gzip batch


_DEFAULT_LIMITS = RecordLimits()
_limits: contextvars.ContextVar[RecordLimits | None] = contextvars.ContextVar(
    "dirigent_record_limits", default=None
)


@contextlib.contextmanager
def limits_scope(limits: RecordLimits) -> Iterator[None]:
    """Limits for the aiokafka fetch task started inside the block.

    aiokafka parses fetched data in a task created by ``consumer.start()``; that task
    copies the current context, so limits set around ``start()`` apply to that consumer.
    """
    token = _limits.set(limits)
    try:
        yield
    finally:
        _limits.reset(token)


def install() -> None:
    """Make aiokafka's fetcher parse with ``SafeMemoryRecords`` (idempotent)."""
    _fetcher.MemoryRecords = SafeMemoryRecords


@dataclass(slots=True)
class _Record:
    """The record shape aiokafka's fetcher reads (``DefaultRecord``'s attributes)."""

    offset: int
    timestamp: int
    timestamp_type: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]] = field(default_factory=list)
    checksum: None = None


class SafeMemoryRecords:
    """aiokafka's ``MemoryRecords`` interface over one fetched buffer, batch by batch."""

    def __init__(self, bytes_data: bytes) -> None:
        self._buffer = bytes_data
        self._pos = 0
        self._limits = _limits.get() or _DEFAULT_LIMITS

    def size_in_bytes(self) -> int:
        return len(self._buffer)

    def has_next(self) -> bool:
        return self._next_end() is not None

    def _next_end(self) -> int | None:
        if len(self._buffer) - self._pos < _LOG_OVERHEAD + 5:
            return None
        (length,) = struct.unpack_from(">i", self._buffer, self._pos + 8)
        end = self._pos + _LOG_OVERHEAD + length
        return end if end <= len(self._buffer) else None  # a partial batch is re-fetched

    def next_batch(self) -> Any:
        end = self._next_end()
        if end is None:
            return None
        raw = bytes(self._buffer[self._pos : end])
        self._pos = end
        magic = raw[_MAGIC_AT]
        if magic < 2:
            return LegacyRecordBatch(raw, magic)
        if len(raw) < _HEADER_SIZE:
            (base,) = struct.unpack_from(">q", raw, 0)
            return BrokenBatch(base, f"record batch of {len(raw)} bytes at {base} is too short")
        return SafeBatch(raw, self._limits)


class BrokenBatch:
    """A batch that cannot even be framed: one defect record at its base offset."""

    producer_id = None
    is_control_batch = False
    is_transactional = False

    def __init__(self, base_offset: int, text: str) -> None:
        self.base_offset = base_offset
        self.next_offset = base_offset + 1
        self._text = text
        self._iter: Iterator[_Record] | None = None

    def validate_crc(self) -> bool:
        return True

    def __iter__(self) -> BrokenBatch:
        return self

    def __next__(self) -> _Record:
        if self._iter is None:
            self._iter = iter(
                [
                    _Record(
                        self.base_offset, -1, 0, None, None, [(DEFECT_HEADER, self._text.encode())]
                    )
                ]
            )
        return next(self._iter)


class SafeBatch:
    """A v2 batch: aiokafka's parser first, the lenient one when it fails."""

    def __init__(self, raw: bytes, limits: RecordLimits) -> None:
        self._raw = raw
        self._limits = limits
        self._fast: Any = DefaultRecordBatch(raw)
        self._iter: Iterator[Any] | None = None
        self._inflated: bytes | None = None  # a gzip batch, rewritten uncompressed

    def __getattr__(self, name: str) -> Any:  # header fields, validate_crc, ...
        return getattr(self._fast, name)

    def __iter__(self) -> SafeBatch:
        if self._iter is None:
            self._iter = self._records()
        return self

    def __next__(self) -> Any:
        if self._iter is None:
            if self._fast.is_control_batch:  # aiokafka reads a control record with next()
                return next(self._fast)
            self._iter = self._records()
        return next(self._iter)

    @property
    def last_offset(self) -> int:
        return int(self._fast.base_offset + self._fast.last_offset_delta)

    def validate_crc(self) -> bool:
        """Always True: a bad CRC becomes a defect record (see ``_records``), not a stall."""
        return True

    def _records(self) -> Iterator[Any]:
        fast = self._fast
        where = f"batch at offsets {fast.base_offset}..{self.last_offset}"
        if not fast.validate_crc():
            yield self._defect(f"{where} fails its CRC check")
            return
        try:
            readable = self._readable()
            it = iter(readable) if readable is not None else None  # other codecs inflate here
        except _UNREADABLE as exc:
            yield self._defect(f"{where} cannot be decompressed: {exc!r}")
            return
        if it is None:
            yield self._defect(
                f"gzip {where} ({len(self._raw)} bytes) inflates beyond "
                f"{self._limits.max_batch_bytes} bytes; not decompressed"
            )
            return
        last = -1
        while True:
            try:
                record = next(it)
            except StopIteration:
                return
            except _UNREADABLE as exc:
                yield from self._lenient(after=last, first_error=exc)
                return
            last = record.offset
            yield record

    def _readable(self) -> Any:
        """The batch to iterate: gzip inflated here under the cap (None if over it)."""
        if self._fast.compression_type != _GZIP:
            return self._fast
        self._inflated = _gunzip_batch(self._raw, self._limits.max_batch_bytes)
        return None if self._inflated is None else DefaultRecordBatch(self._inflated)

    def _lenient(self, *, after: int, first_error: Exception) -> Iterator[Any]:
        try:
            body = self._inflated[_HEADER_SIZE:] if self._inflated is not None else self._body()
            for record in parse_records(body, self._fast):
                if record.offset > after:
                    after = record.offset
                    yield record
        except _UNREADABLE as exc:
            if self.last_offset > after:
                yield self._defect(
                    f"corrupt record after offset {after} in batch "
                    f"{self._fast.base_offset}..{self.last_offset}: {exc!r} "
                    f"(first error: {first_error!r}); the rest of the batch is unreadable"
                )

    def _body(self) -> bytes:
        """The records region, decompressed (codecs other than gzip: unbounded)."""
        if self._fast.compression_type == 0:
            return self._raw[_HEADER_SIZE:]
        # Not gzip (gzip was decompressed with a cap before): aiokafka's own codecs.
        from aiokafka import codec

        data = memoryview(self._raw)[_HEADER_SIZE:]
        decoders = {2: codec.snappy_decode, 3: codec.lz4_decode, 4: codec.zstd_decode}
        return bytes(decoders[self._fast.compression_type](data.tobytes()))

    def _defect(self, text: str) -> _Record:
        return _Record(
            offset=self.last_offset,
            timestamp=int(self._fast.max_timestamp),
            timestamp_type=int(self._fast.timestamp_type),
            key=None,
            value=None,
            headers=[(DEFECT_HEADER, text.encode())],
        )


def gunzip_capped(data: memoryview | bytes, cap: int) -> bytes | None:
    """``data`` gunzipped (all members), or None once it would exceed ``cap`` bytes."""
    out = bytearray()
    return bytes(out) if _inflate_into(out, data, cap) else None


def _inflate_into(out: bytearray, data: memoryview | bytes, cap: int) -> bool:
    """Append ``data`` gunzipped to ``out``; False as soon as that exceeds ``cap`` bytes.

    Inflates in 1 MiB steps, so a bomb costs at most ``cap`` + 1 MiB before it is refused.
    """
    start = len(out)
    rest = bytes(data)
    while rest:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = rest
        while pending and not inflater.eof:
            out += inflater.decompress(pending, _STEP)
            if len(out) - start > cap:
                return False
            pending = inflater.unconsumed_tail
        if not inflater.eof:
            raise CorruptRecordException("truncated gzip data in record batch")
        rest = inflater.unused_data
    return True


def _gunzip_batch(raw: bytes, cap: int) -> bytes | None:
    """The batch rewritten with its records uncompressed, or None if over ``cap``."""
    out = bytearray(raw[:_HEADER_SIZE])
    if not _inflate_into(out, memoryview(raw)[_HEADER_SIZE:], cap):
        return None
    struct.pack_into(">i", out, 8, len(out) - _LOG_OVERHEAD)
    (attrs,) = struct.unpack_from(">h", out, _ATTRS_AT)
    struct.pack_into(">h", out, _ATTRS_AT, attrs & ~_CODEC_MASK)  # the CRC is left stale
    return bytes(out)


def parse_records(body: bytes, batch: Any) -> Iterator[_Record]:
    """The records of one v2 batch body; header names decoded with ``surrogateescape``."""
    pos = 0
    for _ in range(int(batch.last_offset_delta) + 1 if len(body) else 0):
        if pos >= len(body):
            return
        record, pos = _read_record(body, pos, batch)
        yield record


def _read_record(buf: bytes, pos: int, batch: Any) -> tuple[_Record, int]:
    length, pos = decode_varint(buf, pos)
    start = pos
    _, pos = decode_varint(buf, pos)  # attributes: unused
    ts_delta, pos = decode_varint(buf, pos)
    offset_delta, pos = decode_varint(buf, pos)
    key, pos = _read_bytes(buf, pos)
    value, pos = _read_bytes(buf, pos)
    count, pos = decode_varint(buf, pos)
    if count < 0:
        raise CorruptRecordException(f"negative header count {count}")
    headers: list[tuple[str, bytes | None]] = []
    for _ in range(count):
        name, pos = _read_bytes(buf, pos)
        if name is None:
            raise CorruptRecordException("header without a name")
        header_value, pos = _read_bytes(buf, pos)
        headers.append((name.decode("utf-8", "surrogateescape"), header_value))
    if pos - start != length:
        raise CorruptRecordException(f"record length {length} but {pos - start} bytes read")
    ts_type = int(batch.timestamp_type)
    log_append = ts_type == _LOG_APPEND_TIME
    return _Record(
        offset=int(batch.base_offset + offset_delta),
        timestamp=int(batch.max_timestamp if log_append else batch.first_timestamp + ts_delta),
        timestamp_type=ts_type,
        key=key,
        value=value,
        headers=headers,
    ), pos


def _read_bytes(buf: bytes, pos: int) -> tuple[bytes | None, int]:
    size, pos = decode_varint(buf, pos)
    if size < 0:
        return None, pos
    if pos + size > len(buf):
        raise CorruptRecordException(f"field of {size} bytes runs past the record")
    return buf[pos : pos + size], pos + size
