"""Asking the coordinator to act on a saga, and waiting for its audited answer.

The request goes to the coordinator group's admin topic, keyed by the saga id, so it
lands on the partition the saga lives on and is applied by the coordinator that owns
it: fenced and deduplicated like every input, never by writing Redis from here. The
coordinator writes the outcome (applied or refused, with the reason) to the audit topic
in the same atomic write; this module reads it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from dirigent.coordinator.settings import admin_topic_for
from dirigent.errors import TransportError
from dirigent.events import Envelope, OpsAudit, SagaAdmin, SchemaCatalog, SingleObjectCodec
from dirigent.ops.audit import AUDIT_TOPIC
from dirigent.saga import AdminAction
from dirigent.transport import Publication, Publisher
from dirigent.transport.reader import end_offset, partition_count, partition_for, read_partition
from dirigent.transport.security import Bootstrap

__all__ = ["AUDIT_TOPIC", "AdminOutcome", "request_action"]

_CODEC = SingleObjectCodec(SchemaCatalog(), models=[SagaAdmin, OpsAudit])


@dataclass(frozen=True, slots=True)
class AdminOutcome:
    """What the coordinator did with a request (``audit`` is ``None``: no answer in time)."""

    request_id: str
    saga_id: str
    action: AdminAction
    audit: OpsAudit | None

    @property
    def answered(self) -> bool:
        return self.audit is not None

    @property
    def applied(self) -> bool:
        return self.audit is not None and self.audit.details.get("outcome") == "applied"

    @property
    def detail(self) -> str:
        if self.audit is None:
            return "no answer from the coordinator yet (is one running for this group?)"
        return self.audit.details.get("detail", "")


async def request_action(
    bootstrap: Bootstrap,
    group_id: str,
    saga_id: str,
    action: AdminAction,
    *,
    who: str,
    why: str,
    step: str | None = None,
    wait_s: float = 30.0,
    audit_topic: str = AUDIT_TOPIC,
) -> AdminOutcome:
    """Send ``action`` for ``saga_id`` to the coordinators of ``group_id``; wait up to
    ``wait_s`` for the audited outcome (``wait_s=0``: do not wait)."""
    admin = admin_topic_for(group_id)
    try:
        await partition_count(bootstrap, admin)
    except TransportError as exc:
        raise TransportError(
            f"{exc}: no coordinator of group {group_id!r} has started yet "
            "(it creates its admin topic)", retryable=False,
        ) from exc  # fmt: skip
    audit_partition = partition_for(saga_id, await partition_count(bootstrap, audit_topic))
    start = await end_offset(bootstrap, audit_topic, audit_partition)
    request_id = str(uuid.uuid4())
    event = SagaAdmin(saga_id=saga_id, action=action.value, step=step, who=who, why=why,
                      requested_at=datetime.now(UTC))  # fmt: skip
    env = Envelope.new(type=SagaAdmin.event_type, source=f"dirigent-ops:{who}",
                       schema_ref=_CODEC.schema_ref(SagaAdmin), saga_id=saga_id,
                       message_id=request_id)  # fmt: skip
    async with Publisher(bootstrap, _CODEC, source="dirigent-ops") as publisher:
        await publisher.publish_many([Publication(event, admin, saga_id, env)])
    audit = None
    if wait_s > 0:
        audit = await _answer(bootstrap, audit_topic, audit_partition, start, request_id, wait_s)
    return AdminOutcome(request_id, saga_id, action, audit)


async def _answer(
    bootstrap: Bootstrap, topic: str, partition: int, start: int, request_id: str, wait_s: float
) -> OpsAudit | None:
    try:
        reader = read_partition(bootstrap, topic, partition, start=start, follow=True)
        async with asyncio.timeout(wait_s), contextlib.aclosing(reader) as records:
            async for record in records:
                audit = _decode(record.value)
                if audit is not None and audit.details.get("request_id") == request_id:
                    return audit
    except TimeoutError:
        return None
    return None


def _decode(value: bytes | None) -> OpsAudit | None:
    try:
        event = _CODEC.decode(value or b"", reader=OpsAudit)
    except Exception:  # noqa: BLE001 - other writers' records on the audit topic
        return None
    return event if isinstance(event, OpsAudit) else None
