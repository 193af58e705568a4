"""The outbox relay: produce what the store holds, then forget it.

Commands reach Kafka at least once (a crash between the broker's ack and the outbox
delete re-sends them); their ids are deterministic, so participants drop the repeats.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from dirigent.coordinator.breaker import Breakers
from dirigent.observability import get_logger
from dirigent.store.saga_store import SagaStore
from dirigent.transport import OutgoingRecord, RawProducer

__all__ = ["OutboxRelay"]

log = get_logger("dirigent.coordinator.relay")


@dataclass
class OutboxRelay:
    store: SagaStore
    producer: RawProducer
    breakers: Breakers
    participant_of: Mapping[str, str]  # command topic -> participant
    clock: Callable[[], float]
    interval_s: float = 0.5
    batch: int = 2000
    sent: int = 0
    pending: dict[int, int] = field(default_factory=dict)  # partition -> entries left
    _dirty: set[int] = field(default_factory=set)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self, partitions: set[int]) -> None:
        self._dirty |= partitions
        self._wake.set()

    def forget(self, partition: int) -> None:
        self._dirty.discard(partition)
        self.pending.pop(partition, None)

    async def run(self, owned: Callable[[], set[int]]) -> None:
        """Relay until cancelled: on notification, and every ``interval_s`` for all."""
        while True:
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel
                # that races with the event being set, and the relay would never stop.
                async with asyncio.timeout(self.interval_s):
                    await self._wake.wait()
            except TimeoutError:
                self._dirty |= owned()
            self._wake.clear()
            dirty, self._dirty = self._dirty & owned(), set()
            for partition in sorted(dirty):
                await self.flush(partition)

    async def flush(self, partition: int) -> None:
        """Produce this partition's outbox in order, as far as the breakers allow."""
        while True:
            entries = await self.store.outbox_pending(partition, self.batch)
            now = self.clock()
            ready, held = [], 0
            for entry_id, rec in entries:
                participant = self.participant_of.get(rec.topic)
                if participant is not None and not self.breakers[participant].may_send(now):
                    held += 1
                    continue
                ready.append((entry_id, rec))
            if ready:
                records = [OutgoingRecord(r.topic, r.value, r.key, r.headers) for _, r in ready]
                await self.producer.send_batch(records)
                await self.store.outbox_ack(partition, [entry_id for entry_id, _ in ready])
                self.sent += len(ready)
            self.pending[partition] = held
            if len(entries) < self.batch or not ready:
                return
