"""Where the sagas of one run are: counts by status and start-to-end latencies."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from dirigent.saga import SagaState, SagaStatus
from dirigent.store.saga_store import SagaStore

__all__ = ["SETTLED", "Census", "percentile", "take_census", "terminal_count"]

# Where a saga of the run can end up: terminal, or parked for an operator (a participant
# that never answered a pivot, or a compensation still owed).
SETTLED = tuple(s.value for s in SagaStatus if s.settled)
_ALL = tuple(s.value for s in SagaStatus)


@dataclass
class Census:
    statuses: dict[str, str] = field(default_factory=dict)  # saga id -> status
    latencies_ms: list[float] = field(default_factory=list)  # started -> terminal
    _latency_by_id: dict[str, float] = field(default_factory=dict, repr=False)

    def without(self, saga_id: str) -> Census:
        """This census minus one saga (the warm-up order)."""
        statuses = {k: v for k, v in self.statuses.items() if k != saga_id}
        return Census(statuses, [ms for k, ms in self._latency_by_id.items() if k != saga_id])

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.statuses.values())


async def terminal_count(store: SagaStore, partitions: int) -> int:
    """Sagas that have settled (cheap: one ZCARD per partition and status)."""
    total = 0
    for p in range(partitions):
        for status in SETTLED:
            total += await store.count_status(p, status)
    return total


async def take_census(store: SagaStore, partitions: int) -> Census:
    """Every saga's status, and the latency of the terminal ones (from their state)."""
    census = Census()
    for p in range(partitions):
        for status in _ALL:
            raw: Any = await store.redis.zrange(store.keys(p).status(status), 0, -1)
            ids = [m.decode() for m in raw]
            census.statuses.update(dict.fromkeys(ids, status))
            if status in SETTLED and ids:
                for stored in await store.load_many(p, ids):
                    if stored is not None:
                        s = SagaState.from_json(stored.state_json)
                        ms = (s.updated_at - s.started_at) * 1000
                        census.latencies_ms.append(ms)
                        census._latency_by_id[s.saga_id] = ms
    return census


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in [0, 100]); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]
