"""Partition ownership: a fresh fencing token on every assignment, dropped on revoke.

aiokafka installs a new assignment, and may fetch its records, *before* it awaits the
rebalance listener, and it swallows the listener's exceptions (shared/notes). So:

- the listener only pauses newly assigned partitions and marks them ``pending`` (no
  await, nothing that can fail); the loop takes their tokens on its next turn through
  ``reconcile``, and they resume once owned;
- acquiring a token that fails (Redis down) leaves the partition pending, retried on
  every turn; ``reconcile`` also drops what the consumer no longer has. A partition is
  never assigned-but-silently-idle, and only the loop ever takes tokens.
- records of a partition that is assigned but not owned are never skipped: the
  runtime seeks back to them ("not yet"), it never treats them as someone else's.
- a partition whose write was fenced (a newer owner took it while this consumer still
  believes it is assigned) waits ``fenced_hold_s`` before it is claimed again, enough
  for a zombie's consumer to learn it was revoked; the two never fight over it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from dirigent.coordinator.metrics import CoordinatorMetrics
from dirigent.coordinator.partition import OwnedPartition
from dirigent.coordinator.relay import OutboxRelay
from dirigent.errors import DirigentError
from dirigent.observability import get_logger
from dirigent.saga import SagaStatus
from dirigent.store import SagaStorePort
from dirigent.transport.consumer import TopicPartition

__all__ = ["Ownership", "Pausable"]

log = get_logger("dirigent.coordinator.ownership")


class Pausable(Protocol):
    def pause(self, partitions: Iterable[TopicPartition]) -> None: ...


@dataclass
class Ownership:
    """The partition numbers this coordinator owns (of all co-partitioned topics)."""

    store: SagaStorePort
    relay: OutboxRelay
    metrics: CoordinatorMetrics
    clock: Callable[[], float]
    fenced_hold_s: float = 10.0
    consumer: Pausable | None = None  # set once the consumer exists
    owned: dict[int, OwnedPartition] = field(default_factory=dict)
    # Assigned partition numbers whose token is not held yet: paused, retried each loop.
    pending: set[int] = field(default_factory=set)
    # Partitions whose backlog is not read yet (newly owned, or after an outage): their
    # timers wait, so that replies already in the log win over timeouts that fell due
    # meanwhile; at most until the deadline kept here, so that timers never starve.
    catching_up: dict[int, float] = field(default_factory=dict)
    catch_up_s: float = 30.0
    degraded: str | None = None  # why a pending partition could not be owned yet
    held_until: dict[int, float] = field(default_factory=dict)  # fenced: claim later

    def numbers(self) -> set[int]:
        return set(self.owned)

    def in_flight(self) -> int:
        return sum(p.in_flight for p in self.owned.values())

    def token_of(self, number: int) -> str | None:
        owner = self.owned.get(number)
        return owner.token if owner is not None else None

    async def assigned(self, tps: set[TopicPartition]) -> None:
        """Rebalance listener: pause, and leave the tokens to the loop's next turn."""
        if self.consumer is not None:
            self.consumer.pause(tps)
        numbers = {tp.partition for tp in tps}
        for number in numbers:
            self.owned.pop(number, None)  # a new assignment always takes a new token
            self.held_until.pop(number, None)
            self.pending.add(number)
        log.info("partitions assigned", partitions=sorted(numbers))

    async def revoked(self, tps: set[TopicPartition]) -> None:
        numbers = sorted({tp.partition for tp in tps})
        for number in numbers:
            self.drop(number)
            self.pending.discard(number)
            self.held_until.pop(number, None)
        log.info("partitions revoked", partitions=numbers)

    async def reconcile(self, assignment: set[TopicPartition]) -> None:
        """Make ownership match the consumer's assignment: drop, and retry pending."""
        assigned = {tp.partition for tp in assignment}
        for number in set(self.owned) - assigned:
            self.drop(number)
        self.pending &= assigned
        self.pending |= assigned - set(self.owned)
        await self.acquire_pending()

    async def acquire_pending(self) -> None:
        """Take a token for every pending partition; failures stay pending (retried)."""
        new: list[int] = []
        now = self.clock()
        for number in sorted(self.pending):
            if self.held_until.get(number, 0.0) > now:
                continue
            try:
                owner = await self._acquire(number)
            except DirigentError as exc:
                # The store is down: the partition stays pending (paused), and the loop
                # backs off and tries again on its next turn.
                self.degraded = f"cannot own partition {number}: {exc}"
                self._publish(new)
                raise
            self.owned[number] = owner
            self.pending.discard(number)
            self.held_until.pop(number, None)
            self.catching_up[number] = now + self.catch_up_s
            new.append(number)
        if not self.pending:
            self.degraded = None
        self._publish(new)

    def _publish(self, new: list[int]) -> None:
        self.metrics.partitions.set(len(self.owned))
        if new:
            log.info("partitions owned", partitions=new)
            self.relay.recover(set(new))  # commands a previous owner left unsent

    async def _acquire(self, number: int) -> OwnedPartition:
        token = await self.store.acquire(number)
        owner = OwnedPartition(number, token)
        for status in (SagaStatus.RUNNING, SagaStatus.COMPENSATING):
            owner.in_flight += await self.store.count_status(number, status.value)
        return owner

    def drop(self, number: int, owner: OwnedPartition | None = None) -> None:
        """Forget a partition; with ``owner``, only if that ownership is still current.

        A batch fenced out under an old token must not drop the ownership a rebalance
        has just given back to this same process under a new token.
        """
        if owner is not None and self.owned.get(number) is not owner:
            return
        self.owned.pop(number, None)
        self.catching_up.pop(number, None)
        self.relay.forget(number)
        self.metrics.partitions.set(len(self.owned))

    def catch_up(self) -> None:
        """During an outage: once it ends, read every owned partition's backlog before
        firing its timers (for at most ``catch_up_s`` after the last failed turn)."""
        until = self.clock() + self.catch_up_s
        for number in self.owned:
            self.catching_up[number] = until

    def fenced(self, number: int, token: str) -> None:
        """A write under ``token`` was refused: someone newer owns the partition now."""
        owner = self.owned.get(number)
        if owner is not None and owner.token == token:
            self.drop(number, owner)
            self.held_until[number] = self.clock() + self.fenced_hold_s
            log.warning("fenced out: another coordinator owns the partition",
                        partition=number, hold_s=self.fenced_hold_s)  # fmt: skip
