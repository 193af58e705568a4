"""The saga partition is Kafka's default partitioner applied to the saga id."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner

from dirigent.ops import partition_for

# Kafka's own UtilsTest.testMurmur2 vectors (signed Java ints).
JAVA_MURMUR2 = {"21": -973932308, "foobar": -790332482, "a-little-bit-long-string": -985981536}


@pytest.mark.parametrize(("key", "java"), JAVA_MURMUR2.items())
def test_matches_the_java_client(key: str, java: int) -> None:
    for n in (1, 3, 6, 12, 100):
        assert partition_for(key, n) == (java & 0x7FFFFFFF) % n


@pytest.mark.parametrize("key", ["order-1", "saga-é", "", "x" * 33])
def test_matches_aiokafka_default_partitioner(key: str) -> None:
    assert partition_for(key, 6) == DefaultPartitioner()(key.encode(), list(range(6)), [])


def test_rejects_no_partitions() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        partition_for("s", 0)
