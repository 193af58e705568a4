"""Outbox records survive pack/unpack whatever they hold; corrupt blobs are ValueError."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dirigent.store.outbox import MAGIC, OutboxRecord

any_text = st.text(alphabet=st.characters(codec=None), max_size=30)  # surrogates too
records = st.builds(
    OutboxRecord,
    topic=any_text,
    key=st.binary(max_size=40),
    value=st.binary(max_size=200),
    headers=st.lists(st.tuples(any_text, st.binary(max_size=40)), max_size=6).map(tuple),
    partition=st.none() | st.integers(0, 2**31 - 1),
    rearm=st.none() | st.tuples(any_text, st.floats(allow_nan=False, allow_infinity=False)),
)


@given(records)
@example(
    OutboxRecord("t\u00e9", b"", b"", (("\udcff\udc80 undecodable", b"\xff"), ("\U0001f3b5", b"")))
)
def test_pack_round_trips_anything(record: OutboxRecord) -> None:
    assert OutboxRecord.unpack(record.pack()) == record


def _v1(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> bytes:
    # The previous version's pack(), verbatim in effect: entries in Redis look like this.
    parts = [topic.encode(), key, value, *(x for n, v in headers for x in (n.encode(), v))]
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


@given(
    st.text(max_size=249),
    st.binary(max_size=40),
    st.binary(max_size=200),
    st.lists(st.tuples(st.text(max_size=20), st.binary(max_size=40)), max_size=6),
)
def test_entries_of_the_previous_format_are_read(
    topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]
) -> None:
    record = OutboxRecord.unpack(_v1(topic, key, value, headers))
    assert record == OutboxRecord(topic, key, value, tuple(headers))
    assert (record.partition, record.rearm) == (None, None)


@given(st.binary(max_size=300))
def test_any_bytes_unpack_or_raise_value_error(blob: bytes) -> None:
    for candidate in (blob, MAGIC + blob):
        with contextlib.suppress(ValueError):
            OutboxRecord.unpack(candidate)


@given(records, st.data())
def test_damaged_records_raise_value_error_only(record: OutboxRecord, data: st.DataObject) -> None:
    blob = bytearray(record.pack())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    with contextlib.suppress(ValueError):
        OutboxRecord.unpack(bytes(blob[:cut]))


def test_truncated_blob_is_rejected() -> None:
    blob = OutboxRecord("t", b"k", b"value", partition=2).pack()
    with pytest.raises(ValueError, match="truncated"):
        OutboxRecord.unpack(blob[:-2])
    with pytest.raises(ValueError, match="truncated length"):
        OutboxRecord.unpack(blob + b"\x00\x00")


def test_a_record_with_the_wrong_number_of_fields_is_rejected() -> None:
    with pytest.raises(ValueError, match="4 fields"):
        OutboxRecord.unpack(MAGIC + b"".join(b"\x00\x00\x00\x01x" for _ in range(4)))


@pytest.mark.parametrize(
    ("kw", "match"),
    [({"partition": -1}, "partition"), ({"rearm": ("t", float("nan"))}, "not finite")],
)
def test_invalid_fields_are_refused(kw: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        OutboxRecord("t", b"k", b"v", **kw)  # type: ignore[arg-type]


def test_the_packed_bytes_keep_format_two() -> None:
    record = OutboxRecord("t", b"k", b"vv", (("h", b"1"), ("h", b"")), 3, ("tm", 1.5))
    expected = MAGIC + b"".join(
        len(p).to_bytes(4, "big") + p
        for p in (b"t", b"k", b"vv", b"\x00\x00\x00\x03", b"?\xf8\x00\x00\x00\x00\x00\x00tm",
                  b"h", b"1", b"h", b"")
    )  # fmt: skip
    assert record.pack() == expected
