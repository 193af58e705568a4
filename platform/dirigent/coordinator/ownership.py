"""Partition ownership: a fresh fencing token on every assignment, dropped on revoke."""

from __future__ import annotations

from dataclasses import dataclass, field

from dirigent.coordinator.metrics import CoordinatorMetrics
from dirigent.coordinator.partition import OwnedPartition
from dirigent.coordinator.relay import OutboxRelay
from dirigent.observability import get_logger
from dirigent.saga import SagaStatus
from dirigent.store.saga_store import SagaStore
from dirigent.transport.consumer import TopicPartition

__all__ = ["Ownership"]

log = get_logger("dirigent.coordinator.ownership")


@dataclass
class Ownership:
    """The partition numbers this coordinator owns (of all co-partitioned topics)."""

    store: SagaStore
    relay: OutboxRelay
    metrics: CoordinatorMetrics
    owned: dict[int, OwnedPartition] = field(default_factory=dict)
    # Newly owned partitions whose backlog is not read yet: their timers wait, so that
    # replies already in the log win over timeouts that fell due during an outage.
    catching_up: set[int] = field(default_factory=set)

    def numbers(self) -> set[int]:
        return set(self.owned)

    def in_flight(self) -> int:
        return sum(p.in_flight for p in self.owned.values())

    async def assigned(self, tps: set[TopicPartition]) -> None:
        """Fence out the previous owner, count running sagas, resume its outbox."""
        new = {tp.partition for tp in tps} - set(self.owned)
        for number in sorted(new):
            token = await self.store.acquire(number)
            owner = OwnedPartition(number, token)
            for status in (SagaStatus.RUNNING, SagaStatus.COMPENSATING):
                owner.in_flight += await self.store.count_status(number, status.value)
            self.owned[number] = owner
            self.catching_up.add(number)
        self.metrics.partitions.set(len(self.owned))
        if new:
            log.info("partitions assigned", partitions=sorted(new))
            self.relay.notify(new)  # recover commands a previous owner left unsent

    async def revoked(self, tps: set[TopicPartition]) -> None:
        for number in sorted({tp.partition for tp in tps}):
            self.drop(number)
        log.info("partitions revoked", partitions=sorted({tp.partition for tp in tps}))

    def drop(self, number: int, owner: OwnedPartition | None = None) -> None:
        """Forget a partition; with ``owner``, only if that ownership is still current.

        A batch fenced out under an old token must not drop the ownership a rebalance
        has just given back to this same process under a new token.
        """
        if owner is not None and self.owned.get(number) is not owner:
            return
        self.owned.pop(number, None)
        self.catching_up.discard(number)
        self.relay.forget(number)
        self.metrics.partitions.set(len(self.owned))
