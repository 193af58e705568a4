"""What a coordinator holds for each partition it owns: the fencing token and a cache."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from dirigent.saga import SagaState

__all__ = ["OwnedPartition"]


@dataclass
class OwnedPartition:
    """Ownership of partition number ``number`` (of every co-partitioned input topic).

    The cache holds states this process wrote under ``token``; only the owner writes
    these sagas, so the cache is exact until ownership ends (then it is dropped).
    """

    number: int
    token: str
    max_cached: int = 20_000
    in_flight: int = 0
    _cache: OrderedDict[str, SagaState] = field(default_factory=OrderedDict)

    def cached(self, saga_id: str) -> SagaState | None:
        return self._cache.get(saga_id)

    def has(self, saga_id: str) -> bool:
        return saga_id in self._cache

    def remember(self, saga_id: str, state: SagaState | None) -> None:
        if state is None or state.is_terminal:
            self._cache.pop(saga_id, None)  # terminal sagas are not read again
            return
        self._cache[saga_id] = state
        self._cache.move_to_end(saga_id)
        while len(self._cache) > self.max_cached:
            self._cache.popitem(last=False)

    def forget(self, saga_id: str) -> None:
        self._cache.pop(saga_id, None)
