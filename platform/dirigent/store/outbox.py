"""Outbox records: a command ready to produce, packed into one binary-safe blob.

Format 2 (written now): ``MAGIC`` then length-prefixed fields: topic, key, value,
partition (empty = the producer's partitioner), rearm (empty = none, else the timeout
as a big-endian double and the timer id), then header (name, value) pairs. Format 1
(entries written by older versions) has no magic and no partition/rearm fields; a
format 1 blob starts with its topic's length, which is never as large as ``MAGIC``
read as a length (a Kafka topic name has at most 249 characters).
"""

from __future__ import annotations

import functools
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["OutboxRecord", "entry_order"]

_LEN = struct.Struct(">I")
_PARTITION = struct.Struct(">i")
_TIMEOUT = struct.Struct(">d")
MAGIC = b"DGO\x02"
_TEXT = "surrogatepass"  # any Python str round-trips, even an undecodable header name
_MAX_PARTITION = 2**31 - 1


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """A Kafka record waiting in Redis until the relay has produced it.

    ``partition``: produce to exactly this partition (an input forwarded to the
    partition its saga id hashes to); ``None`` lets the producer choose by key.
    ``rearm``: ``(timer id, timeout s)`` of the step timeout to re-arm, to the
    broker's acknowledgement time plus the timeout, once this record is produced.
    """

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    partition: int | None = None
    rearm: tuple[str, float] | None = None

    def __post_init__(self) -> None:
        if self.partition is not None and not 0 <= self.partition <= _MAX_PARTITION:
            raise ValueError(f"partition {self.partition} out of range")
        if self.rearm is not None and not math.isfinite(self.rearm[1]):
            raise ValueError(f"rearm timeout {self.rearm[1]} is not finite")

    def pack(self) -> bytes:
        """The record as one blob (format 2)."""
        parts: list[bytes] = [
            _text(self.topic), self.key, self.value,
            b"" if self.partition is None else _PARTITION.pack(self.partition),
            b"" if self.rearm is None else _TIMEOUT.pack(self.rearm[1]) + _text(self.rearm[0]),
        ]  # fmt: skip
        out = [MAGIC]
        for p in parts:
            out += (_LEN.pack(len(p)), p)
        for name, value in self.headers:
            out += (_field_name(name), _LEN.pack(len(value)), value)
        return b"".join(out)

    @classmethod
    def unpack(cls, blob: bytes) -> OutboxRecord:
        """Read a blob of either format; a corrupt one raises ``ValueError``."""
        if blob.startswith(MAGIC):
            return _unpack_v2(_split(blob, len(MAGIC)))
        return _unpack_v1(_split(blob, 0))


def _unpack_v2(parts: Sequence[bytes]) -> OutboxRecord:
    if len(parts) < 5 or len(parts) % 2 == 0:
        raise ValueError(f"corrupt outbox record ({len(parts)} fields)")
    topic, key, value, partition, rearm = parts[:5]
    if len(partition) not in (0, _PARTITION.size) or 0 < len(rearm) < _TIMEOUT.size:
        raise ValueError("corrupt outbox record (partition or rearm field)")
    return OutboxRecord(
        _str(topic), key, value, _headers(parts, 5),
        _PARTITION.unpack(partition)[0] if partition else None,
        (_str(rearm[_TIMEOUT.size :]), _TIMEOUT.unpack_from(rearm)[0]) if rearm else None,
    )  # fmt: skip


def _unpack_v1(parts: Sequence[bytes]) -> OutboxRecord:
    if len(parts) < 3 or len(parts) % 2 == 0:
        raise ValueError(f"corrupt outbox record ({len(parts)} fields)")
    return OutboxRecord(_str(parts[0]), parts[1], parts[2], _headers(parts, 3))


def _headers(parts: Sequence[bytes], start: int) -> tuple[tuple[str, bytes], ...]:
    return tuple((_str(parts[i]), parts[i + 1]) for i in range(start, len(parts), 2))


@functools.lru_cache(maxsize=256)
def _field_name(name: str) -> bytes:
    """A header name as its length-prefixed field (the same few names on every record)."""
    raw = _text(name)
    return _LEN.pack(len(raw)) + raw


def _text(value: str) -> bytes:
    return value.encode("utf-8", _TEXT)


def _str(raw: bytes) -> str:
    try:
        return raw.decode("utf-8", _TEXT)
    except UnicodeDecodeError as exc:
        raise ValueError(f"corrupt outbox record (text field: {exc})") from exc


def _split(blob: bytes, pos: int) -> Sequence[bytes]:
    parts, end = [], len(blob)
    while pos < end:
        if pos + _LEN.size > end:
            raise ValueError("corrupt outbox record (truncated length)")
        (size,) = _LEN.unpack_from(blob, pos)
        pos += _LEN.size
        if pos + size > end:
            raise ValueError("corrupt outbox record (truncated field)")
        parts.append(blob[pos : pos + size])
        pos += size
    return parts


def entry_order(entry_id: bytes) -> tuple[int, int]:
    """An outbox (stream) entry id, ``ms-seq``, as a pair that sorts as Redis orders them."""
    ms, _, seq = entry_id.partition(b"-")
    return int(ms), int(seq or 0)
