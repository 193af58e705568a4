"""Outbox records: a command ready to produce, packed into one binary-safe blob."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["OutboxRecord"]

_LEN = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """A Kafka record waiting in Redis until the relay has produced it."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    def pack(self) -> bytes:
        parts: list[bytes] = [self.topic.encode(), self.key, self.value]
        for name, value in self.headers:
            parts += (name.encode(), value)
        return b"".join(_LEN.pack(len(p)) + p for p in parts)

    @classmethod
    def unpack(cls, blob: bytes) -> OutboxRecord:
        parts = _split(blob)
        if len(parts) < 3 or len(parts) % 2 == 0:
            raise ValueError(f"corrupt outbox record ({len(parts)} fields)")
        headers = tuple((parts[i].decode(), parts[i + 1]) for i in range(3, len(parts), 2))
        return cls(parts[0].decode(), parts[1], parts[2], headers)


def _split(blob: bytes) -> Sequence[bytes]:
    parts, pos, end = [], 0, len(blob)
    while pos < end:
        (size,) = _LEN.unpack_from(blob, pos)
        pos += _LEN.size
        if pos + size > end:
            raise ValueError("corrupt outbox record (truncated field)")
        parts.append(blob[pos : pos + size])
        pos += size
    return parts
