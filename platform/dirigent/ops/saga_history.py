"""One saga's timeline: its transitions and the operator actions on it, in order.

Transitions and audit records are keyed by saga id, so only the one partition of each
topic that the saga id hashes to is read, record by record (memory holds the saga's own
entries only), from the start of what the topics still retain to their current end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dirigent.events import (
    OpsAudit,
    SagaTransition,
    SagaTransitionBatch,
    SchemaCatalog,
    SingleObjectCodec,
    read_transitions,
)
from dirigent.transport.reader import partition_count, partition_for, read_partition
from dirigent.transport.security import Bootstrap

__all__ = ["HistoryEntry", "saga_history"]

_CODEC = SingleObjectCodec(SchemaCatalog(), models=[SagaTransition, OpsAudit])
_TYPE = "dirigent-type"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of the timeline: a state change, or an operator's request and outcome."""

    at: datetime
    kind: str  # "transition" | "operator"
    what: str  # "RUNNING -> COMPENSATING", "saga.resume applied"
    cause: str = ""  # start, reply:<type>, event:<type>, timer:<kind>, admin:<action>
    step: str | None = None
    reason: str | None = None
    version: int | None = None
    commands: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    message_id: str = ""
    details: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(), "kind": self.kind, "what": self.what,
            "cause": self.cause, "step": self.step, "reason": self.reason,
            "version": self.version, "commands": list(self.commands),
            "skipped": list(self.skipped), "message_id": self.message_id,
            "details": self.details,
        }  # fmt: skip


async def saga_history(
    bootstrap: Bootstrap, saga_id: str, *, transitions_topic: str, audit_topic: str
) -> list[HistoryEntry]:
    """The saga's transitions and operator actions, oldest first."""
    entries = [*await _transitions(bootstrap, saga_id, transitions_topic),
               *await _operator(bootstrap, saga_id, audit_topic)]  # fmt: skip
    return sorted(entries, key=lambda e: (e.at, e.version or 0))


async def _own_records(bootstrap: Bootstrap, topic: str, saga_id: str) -> list[bytes]:
    key = saga_id.encode()
    partition = partition_for(saga_id, await partition_count(bootstrap, topic))
    return [r.value or b"" async for r in read_partition(bootstrap, topic, partition)
            if r.key == key]  # fmt: skip


async def _transition_records(bootstrap: Bootstrap, topic: str, saga_id: str) -> list[bytes]:
    """Values of the saga's own transition records, and of every batch (which carries
    many sagas' transitions) on its partition."""
    key, batch = saga_id.encode(), SagaTransitionBatch.event_type.encode()
    partition = partition_for(saga_id, await partition_count(bootstrap, topic))
    return [r.value or b"" async for r in read_partition(bootstrap, topic, partition)
            if r.key == key or (_TYPE, batch) in r.headers]  # fmt: skip


async def _transitions(bootstrap: Bootstrap, saga_id: str, topic: str) -> list[HistoryEntry]:
    out = []
    mine = [t for value in await _transition_records(bootstrap, topic, saga_id)
            for t in read_transitions(_CODEC, value)]  # fmt: skip
    for t in mine:
        if t.saga_id != saga_id:
            continue
        what = f"{t.from_status or 'new'} -> {t.to_status}"
        out.append(HistoryEntry(
            t.timestamp, "transition", what, t.cause, t.step, t.reason, t.version,
            tuple(t.commands), tuple(t.skipped), t.message_id,
        ))  # fmt: skip
    return out


async def _operator(bootstrap: Bootstrap, saga_id: str, topic: str) -> list[HistoryEntry]:
    out = []
    for value in await _own_records(bootstrap, topic, saga_id):
        try:
            a = _CODEC.decode(value, reader=OpsAudit)
        except Exception:  # noqa: BLE001 - other writers' records on the audit topic
            continue
        if not isinstance(a, OpsAudit) or a.target != saga_id:
            continue
        outcome = a.details.get("outcome", "")
        out.append(HistoryEntry(
            a.timestamp, "operator", f"{a.action} {outcome}".strip(),
            reason=f"{a.who}: {a.details.get('why', '')}", details=dict(a.details),
        ))  # fmt: skip
    return out
