"""Operator actions, recorded as ``OpsAudit`` events on ``dirigent.ops.audit``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from dirigent.events import OpsAudit, SchemaCatalog, SingleObjectCodec
from dirigent.transport import Publisher, RawProducer, TopicSpec, ensure_topics

__all__ = ["AUDIT_TOPIC", "AuditEntry", "record_audit", "record_audits"]

AUDIT_TOPIC = "dirigent.ops.audit"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One operator action to record."""

    who: str
    action: str
    target: str
    details: Mapping[str, str]


async def record_audit(
    producer: RawProducer,
    *,
    who: str,
    action: str,
    target: str,
    details: Mapping[str, str],
    topic: str = AUDIT_TOPIC,
) -> OpsAudit:
    """Publish one audit event (creating the topic if missing); keyed by ``target``."""
    [event] = await record_audits(producer, [AuditEntry(who, action, target, details)], topic)
    return event


async def record_audits(
    producer: RawProducer, entries: Sequence[AuditEntry], topic: str = AUDIT_TOPIC
) -> list[OpsAudit]:
    """Publish audit events in order (each keyed by its target); returns once all are
    acknowledged. Each must fit a record (keep ``details`` well under 1 MiB)."""
    await ensure_topics(producer.bootstrap, [TopicSpec(topic)])
    now = datetime.now(UTC)
    events = [OpsAudit(who=e.who, action=e.action, target=e.target, details=dict(e.details),
                       timestamp=now) for e in entries]  # fmt: skip
    codec = SingleObjectCodec(SchemaCatalog(), models=[OpsAudit])
    async with Publisher(producer.bootstrap, codec, source="dirigent-ops", producer=producer) as p:
        for event in events:
            await p.publish(event, topic=topic, key=event.target)
    return events
