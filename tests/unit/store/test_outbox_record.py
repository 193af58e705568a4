import pytest
from hypothesis import given
from hypothesis import strategies as st

from dirigent.store.outbox import OutboxRecord

headers = st.lists(st.tuples(st.text(max_size=20), st.binary(max_size=40)), max_size=6)


@given(st.text(min_size=1, max_size=50), st.binary(), st.binary(), headers)
def test_pack_round_trips_any_bytes(topic: str, key: bytes, value: bytes, hs: list) -> None:
    record = OutboxRecord(topic, key, value, tuple(hs))
    assert OutboxRecord.unpack(record.pack()) == record


def test_truncated_blob_is_rejected() -> None:
    blob = OutboxRecord("t", b"k", b"value").pack()
    with pytest.raises(ValueError, match="truncated"):
        OutboxRecord.unpack(blob[:-2])
