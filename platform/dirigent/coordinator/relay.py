"""The outbox relay: produce what the store holds, then forget it.

Commands reach Kafka at least once (a crash between the broker's ack and the outbox
delete re-sends them); their ids are deterministic, so participants drop the repeats.
The delete is fenced (a zombie cannot forget a new owner's commands) and re-arms each
command's step timeout from the moment the broker acknowledged it.

**From memory.** The processor hands over the records its store call just made durable,
with their entry ids (``offer``); the relay produces them as they are and acknowledges
them by id. The outbox is read back (``XRANGE``) only to *recover*: a partition just
assigned (a previous owner's leftovers), one whose last round failed or was cut short,
one where a breaker holds entries (they stay, in order, and are paged past), and every
``sweep_s`` as a safety net. A read-back drops the offered entries it covered.

A command that has not left the outbox is *unsent* (``unsent``): the timer scanner
holds its step timeout, for at most ``hold_s`` per step, so time in the outbox is not
silence, while a saga whose participant stays away still ends.

Faults never end the relay: a transient one is retried on the next round (and shown
by ``degraded``), a fenced partition is handed back to ``on_fenced``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from dirigent.coordinator.participants import ParticipantHealth
from dirigent.coordinator.unsent import Round, UnsentCommands
from dirigent.errors import DirigentError, FencedOut
from dirigent.observability import get_logger
from dirigent.store import OutboxRecord, SagaStorePort
from dirigent.store.outbox import entry_order
from dirigent.transport import OutgoingRecord, RawProducer

__all__ = ["Entry", "OutboxRelay", "Owners"]

log = get_logger("dirigent.coordinator.relay")

Entry = tuple[bytes, OutboxRecord]  # (outbox entry id, record)


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
    read_backs: int = 0  # outbox reads (recovery); from-memory rounds do none
    pending: dict[int, int] = field(default_factory=dict)  # partition -> entries held
    degraded: str | None = None  # the last fault, until a round succeeds
    owners: Owners | None = None
    hold_s: float = 60.0  # longest an unsent command's step timeout is held
    sweep_s: float = 30.0  # read every owned outbox back this often, whatever happened
    # joins records to send (the transitions batcher); None: each record as it is
    combine: Callable[[int, Sequence[OutboxRecord]], list[OutgoingRecord]] | None = None
    unsent: UnsentCommands = field(init=False)
    _dirty: set[int] = field(default_factory=set)
    _recover: set[int] = field(default_factory=set)
    _fresh: dict[int, list[Entry]] = field(default_factory=dict)
    _last_sweep: float = 0.0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.unsent = UnsentCommands(self.hold_s)

    def offer(self, partition: int, entries: Sequence[Entry]) -> None:
        """Records the store just made durable on ``partition``, in outbox order."""
        if entries:
            self._fresh.setdefault(partition, []).extend(entries)
            self.notify({partition})

    def notify(self, partitions: set[int]) -> None:
        self._dirty |= partitions
        self._wake.set()

    def recover(self, partitions: set[int]) -> None:
        """Read these outboxes back on the next round (a new owner, an unknown outcome)."""
        self._recover |= partitions
        self.notify(partitions)

    def forget(self, partition: int) -> None:
        self._dirty.discard(partition)
        self._recover.discard(partition)
        self._fresh.pop(partition, None)
        self.pending.pop(partition, None)
        self.unsent.forget(partition)

    def hold_until(self, partition: int, timer_id: str) -> float | None:
        """See ``UnsentCommands.hold_until``."""
        return self.unsent.hold_until(partition, timer_id)

    async def run(self, owned: Callable[[], set[int]]) -> None:
        """Relay until cancelled: on notification; every ``interval_s`` what needs
        recovery; every ``sweep_s`` every owned partition's outbox."""
        backoff = self.interval_s
        while True:
            try:
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel
                # that races with the event being set, and the relay would never stop.
                async with asyncio.timeout(backoff):
                    await self._wake.wait()
            except TimeoutError:
                self._dirty |= self._recover | set(self._fresh)
            self._wake.clear()
            mine = owned()
            now = self.clock()
            if now - self._last_sweep >= self.sweep_s:
                self._last_sweep = now
                self._recover |= mine
                self._dirty |= mine
            dirty, self._dirty = self._dirty & mine, set()
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
            self._recover.add(partition)  # what was sent or forgotten is unknown
            self.degraded = f"outbox relay: {exc}"
            log.warning("relay failed; will retry", partition=partition, error=str(exc))
            return False
        self.degraded = None
        return True

    async def flush(self, partition: int) -> None:
        """Produce this partition's outbox in order, as far as the breakers allow:
        from memory when nothing needs recovery, else read back from the store."""
        fresh = self._fresh.pop(partition, [])
        if partition not in self._recover and self._may_send_all(fresh):
            await self._flush_fresh(partition, fresh)
        else:
            self._recover.add(partition)
            self._fresh[partition] = fresh + self._fresh.get(partition, [])
            await self._flush_outbox(partition)

    def _may_send_all(self, fresh: list[Entry]) -> bool:
        """Whether every breaker these entries go through is closed (asks without
        taking a half-open breaker's probe slot: the read-back path sends the probe)."""
        now = self.clock()
        for _, rec in fresh:
            participant = self.participant_of.get(rec.topic)
            if participant is not None and not self.health.closed(participant, now):
                return False
        return True

    async def _flush_fresh(self, partition: int, fresh: list[Entry]) -> None:
        token = self._token(partition)
        if token is None or not fresh:
            return
        round_ = Round()
        round_.unsent_now(r for _, r in fresh)
        try:
            if await self._send(partition, token, fresh):
                round_.sent_now(r for _, r in fresh)
        finally:
            self._remember(partition, round_, complete=False)
        self.pending[partition] = 0

    async def _flush_outbox(self, partition: int) -> None:
        """Read the outbox back and send what may go; a complete pass with nothing held
        ends the recovery."""
        round_ = Round()
        complete, last = False, None
        try:
            complete, last = await self._pages(partition, round_)
        finally:
            self._remember(partition, round_, complete=complete)
        self.read_backs += 1
        if not complete:
            return
        self.pending[partition] = round_.held
        if last is not None:  # offered entries the read covered were sent or are held
            fresh = [
                e for e in self._fresh.pop(partition, []) if entry_order(e[0]) > entry_order(last)
            ]
            if fresh:
                self._fresh[partition] = fresh
        if round_.held == 0:
            self._recover.discard(partition)
        elif partition in self._fresh:
            self._fresh.pop(partition)  # the next read-back sends them, in order

    async def _pages(self, partition: int, round_: Round) -> tuple[bool, bytes | None]:
        """Send what may go, page by page: (read every page, the last entry id read);
        not complete if the partition is no longer ours."""
        after: bytes | None = None
        while True:
            token = self._token(partition)
            if token is None:
                return False, after
            entries = await self.store.outbox_pending(partition, self.batch, after=after)
            if not entries:
                return True, after
            now = self.clock()
            ready: list[Entry] = []
            round_.unsent_now(rec for _, rec in entries)  # until the broker acknowledges
            for entry_id, rec in entries:
                participant = self.participant_of.get(rec.topic)
                if participant is not None and not self.health.may_send(participant, now):
                    round_.held += 1
                else:
                    ready.append((entry_id, rec))
            if ready:
                if not await self._send(partition, token, ready):
                    return False, after  # fenced: the new owner sends what we could not
                round_.sent_now(rec for _, rec in ready)
            after = entries[-1][0]  # what is before it was sent or is held (counted)
            if len(entries) < self.batch:
                return True, after

    def _remember(self, partition: int, round_: Round, *, complete: bool) -> None:
        if self._token(partition) is None:  # not ours (any more): nothing to hold
            self.unsent.forget(partition)
        else:
            self.unsent.remember(partition, round_, self.clock(), complete=complete)

    def _token(self, partition: int) -> str | None:
        return self.owners.token_of(partition) if self.owners is not None else None

    async def _send(self, partition: int, token: str, ready: list[Entry]) -> bool:
        """Produce ``ready`` and forget it; False if a newer owner fenced us out."""
        if self.combine is not None:
            records = self.combine(partition, [r for _, r in ready])
        else:
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
