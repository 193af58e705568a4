"""The outbox relay: produce what the store holds, then forget it.

Commands reach Kafka at least once (a crash between the broker's ack and the outbox
delete re-sends them); their ids are deterministic, so participants drop the repeats.
The delete is fenced (a zombie cannot forget a new owner's commands) and re-arms each
command's step timeout from the moment the broker acknowledged it, so time spent in the
outbox while the broker is down never counts as silence. A command a breaker holds is
not re-armed: its timeout keeps running (see ``timers``), so a saga whose participant
stays silent still ends.

Faults never end the relay: a transient one is retried on the next round (and shown
by ``degraded``), a fenced partition is handed back to ``on_fenced``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from dirigent.coordinator.participants import ParticipantHealth
from dirigent.errors import DirigentError, FencedOut
from dirigent.observability import get_logger
from dirigent.store import OutboxRecord, SagaStorePort
from dirigent.transport import OutgoingRecord, RawProducer

__all__ = ["OutboxRelay", "Owners"]

log = get_logger("dirigent.coordinator.relay")


class Owners(Protocol):
    """Who owns which partition (``Ownership``): the relay writes only under our token."""

    def token_of(self, number: int) -> str | None: ...

    def fenced(self, number: int, token: str) -> None: ...


@dataclass
class OutboxRelay:
    store: SagaStorePort
    producer: RawProducer
    health: ParticipantHealth
    participant_of: Mapping[str, str]  # command topic -> participant
    clock: Callable[[], float]
    interval_s: float = 0.5
    batch: int = 2000
    sent: int = 0
    pending: dict[int, int] = field(default_factory=dict)  # partition -> entries held
    degraded: str | None = None  # the last fault, until a round succeeds
    owners: Owners | None = None
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
        backoff = self.interval_s
        while True:
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel
                # that races with the event being set, and the relay would never stop.
                async with asyncio.timeout(backoff):
                    await self._wake.wait()
            except TimeoutError:
                self._dirty |= owned()
            self._wake.clear()
            dirty, self._dirty = self._dirty & owned(), set()
            failed = False
            for partition in sorted(dirty):
                failed |= not await self.flush_safely(partition)
            backoff = min(backoff * 2, 5.0) if failed else self.interval_s

    async def flush_safely(self, partition: int) -> bool:
        """``flush``, with faults reported instead of raised; True if it went through."""
        try:
            await self.flush(partition)
        except DirigentError as exc:
            if not exc.retryable:
                raise
            self._dirty.add(partition)  # try again next round
            self.degraded = f"outbox relay: {exc}"
            log.warning("relay failed; will retry", partition=partition, error=str(exc))
            return False
        self.degraded = None
        return True

    async def flush(self, partition: int) -> None:
        """Produce this partition's outbox in order, as far as the breakers allow.

        Entries a breaker holds stay (in order) and are paged past, so one silent
        participant never holds up the others.
        """
        after: bytes | None = None
        held = 0
        while True:
            token = self._token(partition)
            if token is None:
                return  # no longer ours
            entries = await self.store.outbox_pending(partition, self.batch, after=after)
            if not entries:
                break
            now = self.clock()
            ready: list[tuple[bytes, OutboxRecord]] = []
            for entry_id, rec in entries:
                participant = self.participant_of.get(rec.topic)
                if participant is not None and not self.health.may_send(participant, now):
                    held += 1
                else:
                    ready.append((entry_id, rec))
            if ready and not await self._send(partition, token, ready):
                return  # fenced out: the new owner re-sends what we could not forget
            if len(entries) < self.batch:
                break
            after = entries[-1][0]  # what is before it was sent or is held (counted)
        self.pending[partition] = held

    def _token(self, partition: int) -> str | None:
        return self.owners.token_of(partition) if self.owners is not None else None

    async def _send(
        self, partition: int, token: str, ready: list[tuple[bytes, OutboxRecord]]
    ) -> bool:
        """Produce ``ready`` and forget it; False if a newer owner fenced us out."""
        records = [
            OutgoingRecord(r.topic, r.value, r.key, r.headers, partition=r.partition)
            for _, r in ready
        ]
        await self.producer.send_batch(records)
        acked = self.clock()
        rearm = [(r.rearm[0], acked + r.rearm[1]) for _, r in ready if r.rearm is not None]
        try:
            await self.store.outbox_ack(partition, token, [e for e, _ in ready], rearm)
        except FencedOut:
            if self.owners is not None:
                self.owners.fenced(partition, token)
            log.warning("relay fenced out", partition=partition)
            return False
        self.sent += len(ready)
        return True
