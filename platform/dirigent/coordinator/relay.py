"""The outbox relay: produce what the store holds, then forget it.

Commands reach Kafka at least once (a crash between the broker's ack and the outbox
delete re-sends them); their ids are deterministic, so participants drop the repeats.
The delete is fenced (a zombie cannot forget a new owner's commands) and re-arms each
command's step timeout from the moment the broker acknowledged it. A command that has
not left the outbox (a breaker holds it, or the broker refused the batch) is *unsent*:
the relay remembers it, and ``hold_until`` tells the timer scanner to keep its step
timeout on hold, for at most ``hold_s`` per stretch, so time in the outbox is not
silence, while a saga whose participant stays away still ends.

Faults never end the relay: a transient one is retried on the next round (and shown
by ``degraded``), a fenced partition is handed back to ``on_fenced``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
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
    hold_s: float = 60.0  # longest an unsent command's step timeout is held
    _dirty: set[int] = field(default_factory=set)
    # partition -> timer id -> hold key (the timer id without its attempt), and
    # partition -> hold key -> when that command was first seen unsent
    _unsent: dict[int, dict[str, str]] = field(default_factory=dict)
    _unsent_since: dict[int, dict[str, float]] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def notify(self, partitions: set[int]) -> None:
        self._dirty |= partitions
        self._wake.set()

    def forget(self, partition: int) -> None:
        self._dirty.discard(partition)
        self.pending.pop(partition, None)
        self._unsent.pop(partition, None)
        self._unsent_since.pop(partition, None)

    def hold_until(self, partition: int, timer_id: str) -> float | None:
        """Until when the step timeout ``timer_id`` is held, if its command is unsent.

        ``None``: the command left the outbox (or was never seen here): its timeout
        runs. A time in the past: it has been unsent for longer than ``hold_s``.
        """
        key = self._unsent.get(partition, {}).get(timer_id)
        if key is None:
            return None
        return self._unsent_since[partition][key] + self.hold_s

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
        round_ = _Round()
        complete = False
        try:
            complete = await self._pages(partition, round_)
        finally:
            self._remember(partition, round_, complete=complete)
        if complete:
            self.pending[partition] = round_.held

    async def _pages(self, partition: int, round_: _Round) -> bool:
        """Send what may go, page by page; False if the partition is no longer ours."""
        after: bytes | None = None
        while True:
            token = self._token(partition)
            if token is None:
                return False
            entries = await self.store.outbox_pending(partition, self.batch, after=after)
            if not entries:
                return True
            now = self.clock()
            ready: list[tuple[bytes, OutboxRecord]] = []
            for entry_id, rec in entries:
                round_.unsent_now(rec)  # until the broker acknowledges it
                participant = self.participant_of.get(rec.topic)
                if participant is not None and not self.health.may_send(participant, now):
                    round_.held += 1
                else:
                    ready.append((entry_id, rec))
            if ready:
                if not await self._send(partition, token, ready):
                    return False  # fenced out: the new owner re-sends what we could not forget
                round_.sent_now(rec for _, rec in ready)
            if len(entries) < self.batch:
                return True
            after = entries[-1][0]  # what is before it was sent or is held (counted)

    def _remember(self, partition: int, round_: _Round, *, complete: bool) -> None:
        """Keep what this round left unsent; a round cut short keeps the last round's
        too (the pages it did not reach), less what it sent."""
        if self._token(partition) is None:  # not ours (any more): nothing to hold
            self._unsent.pop(partition, None)
            self._unsent_since.pop(partition, None)
            return
        unsent = round_.unsent
        if not complete:
            earlier = self._unsent.get(partition, {})
            unsent = {**{t: k for t, k in earlier.items() if t not in round_.sent}, **unsent}
        now, since = self.clock(), self._unsent_since.get(partition, {})
        self._unsent[partition] = unsent
        self._unsent_since[partition] = {k: since.get(k, now) for k in set(unsent.values())}

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


@dataclass
class _Round:
    """What one flush of a partition saw: commands still unsent (timer id -> hold key:
    the timer id without its attempt), those the broker acknowledged, entries held."""

    unsent: dict[str, str] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)
    held: int = 0

    def unsent_now(self, rec: OutboxRecord) -> None:
        if rec.rearm is not None:
            timer_id = rec.rearm[0]
            self.unsent[timer_id] = timer_id.rpartition(":")[0] or timer_id

    def sent_now(self, records: Iterable[OutboxRecord]) -> None:
        for rec in records:
            if rec.rearm is not None:
                self.unsent.pop(rec.rearm[0], None)
                self.sent.add(rec.rearm[0])
