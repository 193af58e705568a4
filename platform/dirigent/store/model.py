"""What the saga store reads and writes, free of any Redis import."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from dirigent.store.outbox import OutboxRecord

__all__ = ["PartitionLoad", "StoredSaga", "Write", "WriteOutcome", "WriteResult"]


class WriteOutcome(StrEnum):
    """What the store made of one ``Write``."""

    OK = "OK"  # applied
    DUPLICATE = "DUP"  # its message id was applied before: nothing changed
    FENCED = "FENCED"  # the token is stale: nothing changed
    CONFLICT = "CONFLICT"  # the saga's version moved: nothing changed, not marked seen


@dataclass(frozen=True, slots=True)
class Write:
    """Everything one input changes. ``state_json is None``: only mark it seen.

    ``expected_version`` is the version read before the engine ran (0 = new saga).
    """

    message_id: str
    saga_id: str
    expected_version: int = 0
    new_version: int = 0
    state_json: bytes | None = None
    old_status: str | None = None
    new_status: str = ""
    terminal: bool = False
    outbox: Sequence[OutboxRecord] = ()
    timers: Sequence[tuple[str, float, bytes]] = ()  # (timer id, due at, timer json)
    cancel_timers: Sequence[str] = ()
    watermark: tuple[str, int] | None = None  # (topic, next offset)
    now: float = 0.0


@dataclass(frozen=True, slots=True)
class StoredSaga:
    """A saga as stored: its version, status and state JSON."""

    version: int
    status: str
    state_json: bytes


@dataclass(frozen=True, slots=True)
class WriteResult:
    """One ``Write``'s outcome and, when applied, the ids the store gave its outbox
    records (in order): what the relay acknowledges once it has produced them."""

    outcome: WriteOutcome
    entry_ids: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class PartitionLoad:
    """What waits on one partition (``partition_load``): outbox entries, timers due
    now, and the timers due by a later time whose id ends with a suffix."""

    outbox: int = 0
    timers_due: int = 0
    matching: int = 0
