"""Turning a handler's return value into reply records with deterministic ids."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from dirigent.events import AvroCodec, Event
from dirigent.events.envelope import Envelope
from dirigent.service.handlers import Reply
from dirigent.transport.producer import OutgoingRecord

__all__ = ["as_events", "reply_records"]

# Reply ids derive from the command id: a handler re-run after a crash produces replies
# with the same ids, so the coordinator's duplicate check still recognises them.
_REPLY_NS = uuid.UUID("6a0f9d52-3c55-4c3e-9a63-6d1e0b1f2a77")


def as_events(reply: Reply) -> list[Event]:
    if reply is None:
        return []
    if isinstance(reply, Event):
        return [reply]
    if isinstance(reply, Sequence) and all(isinstance(e, Event) for e in reply):
        return list(reply)
    raise TypeError(f"a handler must return an Event, a list of Events or None, not {reply!r}")


async def reply_records(
    incoming: Envelope,
    reply: Reply,
    *,
    topic: str,
    source: str,
    codec: AvroCodec,
    traceparent: str | None = None,
) -> list[OutgoingRecord]:
    """Encoded replies: causation = incoming id, same saga/correlation, key = saga id;
    ``traceparent`` (the handler's span) replaces the incoming one."""
    records = []
    for index, event in enumerate(as_events(reply)):
        value = await codec.aencode(event)
        env = incoming.reply(
            type=event.event_type,
            source=source,
            schema_ref=codec.schema_ref(type(event)),
            message_id=str(uuid.uuid5(_REPLY_NS, f"{incoming.message_id}/{index}")),
            traceparent=traceparent,
        )
        records.append(OutgoingRecord(topic, value, env.record_key, tuple(env.to_headers())))
    return records
