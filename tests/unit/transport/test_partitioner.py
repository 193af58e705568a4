"""The cached partitioner picks exactly what aiokafka's default (Java's murmur2) picks."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from dirigent.transport.partitioner import CachedPartitioner


@given(keys=st.lists(st.binary(max_size=64), min_size=1, max_size=50),
       count=st.integers(1, 64))  # fmt: skip
def test_the_same_partition_as_the_default_for_every_key(keys: list[bytes], count: int) -> None:
    parts = list(range(count))
    cached, default = CachedPartitioner(max_keys=8), DefaultPartitioner()
    for key in keys + keys:  # the second pass answers from the cache (or after a clear)
        assert cached(key, parts, parts) == default(key, parts, parts)


def test_a_keyless_record_goes_to_an_available_partition() -> None:
    assert CachedPartitioner()(None, [0, 1, 2], [2]) == 2
    assert CachedPartitioner()(None, [0, 1, 2], []) in {0, 1, 2}
