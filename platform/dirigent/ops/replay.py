"""Reading dead-letter topics and replaying their records (the I/O around ``ops.dlt``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dirigent.ops.audit import AUDIT_TOPIC, record_audit
from dirigent.ops.dlt import DeadLetter, replay_record
from dirigent.transport import RawProducer, SentRecord
from dirigent.transport.reader import read_topic

__all__ = ["Replayed", "load_dead_letters", "replay"]


@dataclass(frozen=True, slots=True)
class Replayed:
    """What a replay produced, in the order of the dead letters."""

    letters: tuple[DeadLetter, ...]
    sent: tuple[SentRecord, ...]


async def load_dead_letters(
    bootstrap: str, topic: str, *, limit: int | None = None
) -> list[DeadLetter]:
    """The dead letters of ``topic`` from its beginning, read without a consumer group."""
    return [DeadLetter.of(r) for r in await read_topic(bootstrap, topic, limit=limit)]


async def replay(
    bootstrap: str,
    dlt: str,
    letters: Sequence[DeadLetter],
    *,
    who: str,
    fingerprint: str | None = None,
    audit_topic: str = AUDIT_TOPIC,
) -> Replayed:
    """Produce ``letters`` back to their original topics and record a ``dlt.replay`` audit.

    Every record is built before anything is sent, so a dead letter without its origin
    stops the replay before it starts. The audit is written once the broker acknowledged
    every replayed record.
    """
    records = [replay_record(d) for d in letters]
    async with RawProducer(bootstrap) as producer:
        sent = await producer.send_batch(records) if records else []
        details = {
            "count": str(len(records)),
            "fingerprint": fingerprint or "",
            "offsets": ",".join(f"{d.record.partition}:{d.record.offset}" for d in letters),
            "topics": ",".join(sorted({r.topic for r in records})),
        }
        await record_audit(
            producer, who=who, action="dlt.replay", target=dlt, details=details, topic=audit_topic
        )
    return Replayed(tuple(letters), tuple(sent))
