"""Hand-made Kafka v2 record batches, including what aiokafka's builder refuses to write."""

from __future__ import annotations

import struct
from collections.abc import Sequence

from aiokafka.consumer.fetcher import PartitionRecords
from aiokafka.record.default_records import _DefaultRecordBatchBuilderPy
from aiokafka.record.util import calc_crc32c
from aiokafka.structs import TopicPartition

from dirigent.transport._records import SafeMemoryRecords
from dirigent.transport.consumer import InboundRecord, inbound

TP = TopicPartition("t", 0)
Rec = tuple[bytes | None, bytes | None, Sequence[tuple[str, bytes | None]]]
GZIP = 1


def batch(base_offset: int, records: Sequence[Rec], *, codec: int = 0) -> bytes:
    builder = _DefaultRecordBatchBuilderPy(
        magic=2,
        compression_type=codec,
        is_transactional=0,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=64 << 20,
    )
    for delta, (key, value, headers) in enumerate(records):
        builder.append(delta, timestamp=1_000 + delta, key=key, value=value, headers=headers)
    raw = bytearray(builder.build())
    struct.pack_into(">q", raw, 0, base_offset)
    return bytes(raw)


def with_bytes_replaced(raw: bytes, old: bytes, new: bytes) -> bytes:
    """``raw`` with ``old`` replaced by ``new`` (same length) and the CRC made right."""
    assert len(old) == len(new)
    assert raw.count(old) == 1
    return fix_crc(raw.replace(old, new))


def fix_crc(raw: bytes) -> bytes:
    out = bytearray(raw)
    struct.pack_into(">I", out, 17, calc_crc32c(bytes(out[21:])))
    return bytes(out)


def consume(buffer: bytes, *, max_record_bytes: int | None = None) -> list[InboundRecord]:
    """What ``getmany`` would hand out for one fetched buffer (aiokafka's own iteration)."""
    return consume_to(buffer, max_record_bytes=max_record_bytes)[0]


def consume_to(
    buffer: bytes, *, max_record_bytes: int | None = None
) -> tuple[list[InboundRecord], int]:
    """The records handed out and the position aiokafka moves to afterwards."""
    records = PartitionRecords(TP, SafeMemoryRecords(buffer), None, 0, None, None, True, 0)
    out = [inbound(m, max_record_bytes) for m in records]
    return out, records.next_fetch_offset
