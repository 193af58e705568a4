"""Which commands have not left the outbox yet, and since when (per partition).

A step timeout measures a participant's silence, so while its command waits in the
outbox (a breaker holds it, the broker refused it) the timer scanner holds the timeout
(``timers``), for at most ``hold_s`` per step: the hold key is the timer id without its
attempt, so a step's next attempt does not start a new hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dirigent.store import OutboxRecord

__all__ = ["Round", "UnsentCommands"]


@dataclass
class Round:
    """What one relay round of a partition saw: commands still unsent (timer id ->
    hold key), those the broker acknowledged, and entries a breaker held."""

    unsent: dict[str, str] = field(default_factory=dict)
    sent: set[str] = field(default_factory=set)
    held: int = 0

    def unsent_now(self, records: Iterable[OutboxRecord]) -> None:
        for rec in records:
            if rec.rearm is not None:
                timer_id = rec.rearm[0]
                self.unsent[timer_id] = timer_id.rpartition(":")[0] or timer_id

    def sent_now(self, records: Iterable[OutboxRecord]) -> None:
        for rec in records:
            if rec.rearm is not None:
                self.unsent.pop(rec.rearm[0], None)
                self.sent.add(rec.rearm[0])


@dataclass
class UnsentCommands:
    hold_s: float = 60.0
    # partition -> timer id -> hold key; partition -> hold key -> first seen unsent
    _unsent: dict[int, dict[str, str]] = field(default_factory=dict)
    _since: dict[int, dict[str, float]] = field(default_factory=dict)

    def hold_until(self, partition: int, timer_id: str) -> float | None:
        """Until when the step timeout ``timer_id`` is held, if its command is unsent.

        ``None``: the command left the outbox (or was never seen here): its timeout
        runs. A time in the past: it has been unsent for longer than ``hold_s``.
        """
        key = self._unsent.get(partition, {}).get(timer_id)
        if key is None:
            return None
        return self._since[partition][key] + self.hold_s

    def remember(self, partition: int, round_: Round, now: float, *, complete: bool) -> None:
        """Keep what a round left unsent. A round that read the whole outbox replaces
        what was known; one cut short (or one that saw only new entries) adds to it,
        less what it sent."""
        unsent = round_.unsent
        if not complete:
            earlier = self._unsent.get(partition, {})
            unsent = {**{t: k for t, k in earlier.items() if t not in round_.sent}, **unsent}
        if not unsent and partition not in self._unsent:
            return
        since = self._since.get(partition, {})
        self._unsent[partition] = unsent
        self._since[partition] = {k: since.get(k, now) for k in set(unsent.values())}

    def forget(self, partition: int) -> None:
        self._unsent.pop(partition, None)
        self._since.pop(partition, None)
