"""Kafka's default partitioner (murmur2, as the Java client), with its hashes cached.

aiokafka's ``DefaultPartitioner`` runs murmur2 in pure Python for every keyed record.
A coordinator sends several records per saga, all keyed by the saga id (commands,
transitions), so a small cache of key -> hash removes most of that work. Keyless
records go to a random available partition, as aiokafka's does.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from aiokafka.partitioner import murmur2

__all__ = ["CachedPartitioner"]


class CachedPartitioner:
    """A drop-in ``partitioner`` for ``AIOKafkaProducer`` (same choice as the default)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._hashes: dict[bytes, int] = {}

    def __call__(
        self, key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]
    ) -> int:
        if key is None:
            return random.choice(available or all_partitions)
        h = self._hashes.get(key)
        if h is None:
            if len(self._hashes) >= self.max_keys:
                self._hashes.clear()  # a cache, not a table: start again
            h = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return all_partitions[h % len(all_partitions)]
