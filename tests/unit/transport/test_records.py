"""Fetched data that aiokafka alone cannot read: defect records instead of a stall."""

from __future__ import annotations

import struct
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dirigent.transport import _records
from dirigent.transport._records import RecordLimits, gunzip_capped, limits_scope
from tests.unit.transport.batches import (
    GZIP,
    batch,
    consume,
    consume_to,
    fix_crc,
    with_bytes_replaced,
)


def test_a_header_name_that_is_not_utf8_is_a_defect_and_the_partition_moves_on() -> None:
    bad = with_bytes_replaced(
        batch(1, [(None, b"bad", [("AB", b"x"), ("ok", b"1")])]), b"AB", b"\xff\xfe"
    )
    buffer = batch(0, [(b"k", b"good0", [])]) + bad + batch(2, [(None, b"good2", [])])

    records = consume(buffer)

    assert [(r.offset, r.value, r.defect is None) for r in records] == [
        (0, b"good0", True), (1, b"bad", False), (2, b"good2", True),
    ]  # fmt: skip
    defect = records[1]
    assert "not valid UTF-8" in (defect.defect or "")
    assert r"\xff\xfe" in (defect.defect or "")
    name, value = defect.headers[0]
    assert (name.encode("utf-8", "surrogateescape"), value) == (b"\xff\xfe", b"x")
    assert defect.headers[1] == ("ok", b"1")


def test_records_before_a_bad_one_in_the_same_batch_are_kept_once() -> None:
    raw = batch(10, [(None, b"a", []), (None, b"b", [("AB", b"")]), (None, b"c", [])])
    records = consume(with_bytes_replaced(raw, b"AB", b"\xc3\x28"))
    assert [(r.offset, r.value, r.defect is not None) for r in records] == [
        (10, b"a", False), (11, b"b", True), (12, b"c", False),
    ]  # fmt: skip


def test_a_gzip_batch_that_inflates_beyond_the_cap_becomes_one_defect_record() -> None:
    big = batch(5, [(None, b"\0" * 100_000, []) for _ in range(5)], codec=GZIP)
    buffer = big + batch(10, [(None, b"next", [])])
    with limits_scope(RecordLimits(max_batch_bytes=200_000)):
        records = consume(buffer)
    first, nxt = records
    assert (first.offset, first.value, nxt.offset, nxt.value) == (9, None, 10, b"next")
    assert "5..9" in (first.defect or "")
    assert "inflates beyond 200000" in (first.defect or "")


def test_a_gzip_batch_under_the_cap_is_read_as_usual() -> None:
    records = consume(batch(0, [(b"k", b"v" * 1000, [("h", b"1")])] * 3, codec=GZIP))
    assert [(r.offset, r.key, len(r.value or b""), r.headers, r.defect) for r in records] == [
        (i, b"k", 1000, (("h", b"1"),), None) for i in range(3)
    ]


def test_a_batch_with_a_bad_crc_is_a_defect_not_a_stall() -> None:
    raw = bytearray(batch(3, [(None, b"v", [])]))
    raw[-1] ^= 0xFF
    [record] = consume(bytes(raw))
    assert record.offset == 3
    assert "CRC" in (record.defect or "")


def test_a_decoded_record_over_the_size_limit_is_a_defect() -> None:
    [record] = consume(batch(0, [(None, b"x" * 5000, [])]), max_record_bytes=4096)
    assert record.value == b"x" * 5000
    assert "exceeds max_record_bytes=4096" in (record.defect or "")


def test_gunzip_capped_stops_at_the_cap() -> None:
    import gzip

    data = gzip.compress(b"\0" * 1_000_000)
    assert gunzip_capped(data, 1_000_000) == b"\0" * 1_000_000
    assert gunzip_capped(data, 999_999) is None
    assert gunzip_capped(data + gzip.compress(b"more"), 2_000_000) == b"\0" * 1_000_000 + b"more"


def test_install_points_aiokafkas_fetcher_at_the_safe_parser() -> None:
    from aiokafka.consumer import fetcher

    _records.install()
    assert fetcher.MemoryRecords is _records.SafeMemoryRecords


@settings(
    max_examples=300,
    deadline=timedelta(milliseconds=500),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.data())
def test_any_mutation_of_a_batch_body_never_raises_and_never_stalls(data: st.DataObject) -> None:
    count = data.draw(st.integers(1, 4))
    raw = bytearray(batch(0, [(b"k", b"value-%d" % i, [("name", b"v")]) for i in range(count)]))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(61, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    records, position = consume_to(fix_crc(bytes(raw)))
    offsets = [r.offset for r in records]
    assert offsets == sorted(set(offsets))  # in order, no offset twice
    assert position == count  # the partition moves past the batch


def test_a_batch_too_short_to_frame_is_a_defect_at_its_base_offset() -> None:
    short = struct.pack(">qi", 7, 20) + bytes(20)  # claims 20 bytes: far below a v2 header
    short = short[:16] + b"\x02" + short[17:]
    record, nxt = consume(short + batch(8, [(None, b"next", [])]))
    assert (record.offset, nxt.offset, nxt.value) == (7, 8, b"next")
    assert "too short" in (record.defect or "")


@settings(
    max_examples=400,
    deadline=timedelta(milliseconds=500),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.data())
def test_any_mutation_of_a_whole_batch_never_raises(data: st.DataObject) -> None:
    codec = data.draw(st.sampled_from([0, GZIP]))
    records = [(b"k", b"value-%d" % i, [("name", b"v")]) for i in range(3)]
    raw = bytearray(batch(0, records, codec=codec))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(12, len(raw) - 1))  # keep the framing length
        raw[at] = data.draw(st.integers(0, 255))
    raw[16] = 2  # still a v2 batch: legacy message sets are aiokafka's own parser
    consume_to(fix_crc(bytes(raw)))  # must not raise
