"""Operator actions, recorded as ``OpsAudit`` events on ``dirigent.ops.audit``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from dirigent.events import OpsAudit, SchemaCatalog, SingleObjectCodec
from dirigent.transport import Publisher, RawProducer, TopicSpec, ensure_topics

__all__ = ["AUDIT_TOPIC", "record_audit"]

AUDIT_TOPIC = "dirigent.ops.audit"


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
    await ensure_topics(producer.bootstrap, [TopicSpec(topic)])
    event = OpsAudit(
        who=who,
        action=action,
        target=target,
        details=dict(details),
        timestamp=datetime.now(UTC),
    )
    codec = SingleObjectCodec(SchemaCatalog(), models=[OpsAudit])
    async with Publisher(producer.bootstrap, codec, source="dirigent-ops", producer=producer) as p:
        await p.publish(event, topic=topic, key=target)
    return event
