"""Dead letters as operators see them: parsed diagnostics, selection, replayed form (pure).

A record of a ``<topic>.dlt`` topic is the original record (key, value, headers) plus the
``dirigent-dlt-*`` headers written by ``dirigent.transport.dead_letter_record``. Nothing
here does I/O; ``dirigent.ops.replay`` reads and produces.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dirigent.errors import ContractError
from dirigent.transport import InboundRecord, OutgoingRecord
from dirigent.transport.deadletter import DLT_PREFIX

# Set on a replayed record (after the original headers): how often it was replayed, and
# by which replay. A replayed record that fails again is dead-lettered with them, so
# it is recognised as a return, not counted as a new failure.
REPLAYED_HEADER = "dirigent-replayed"
REPLAY_ID_HEADER = "dirigent-replay-id"
REPLAY_OF_HEADER = "dirigent-replay-of"  # the dead letter replayed: ``<dlt>[p]@o``
_MARKERS = (REPLAYED_HEADER, REPLAY_ID_HEADER, REPLAY_OF_HEADER)

__all__ = [
    "REPLAYED_HEADER",
    "REPLAY_ID_HEADER",
    "REPLAY_OF_HEADER",
    "DeadLetter",
    "OffsetRef",
    "original_headers",
    "parse_offset",
    "replay_record",
    "select",
]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead-letter record and its diagnostics (``None`` where a header is missing)."""

    record: InboundRecord
    topic: str | None
    partition: int | None
    offset: int | None
    error_class: str | None
    message: str | None
    fingerprint: str | None
    attempts: int | None
    handler: str | None
    group: str | None
    first_failure_ms: int | None
    last_failure_ms: int | None
    message_id: str | None = None
    message_type: str | None = None
    saga_id: str | None = None
    causation_id: str | None = None
    replays: int = 0
    replay_id: str | None = None
    reduced: str | None = None

    @classmethod
    def of(cls, record: InboundRecord) -> DeadLetter:
        diag = diagnostics(record.headers)
        env = _envelope_headers(record.headers)
        return cls(
            record=record,
            topic=diag.get("topic"),
            partition=_int(diag.get("partition")),
            offset=_int(diag.get("offset")),
            error_class=diag.get("error-class"),
            message=diag.get("error-message"),
            fingerprint=diag.get("fingerprint"),
            attempts=_int(diag.get("attempts")),
            handler=diag.get("handler"),
            group=diag.get("group"),
            first_failure_ms=_int(diag.get("first-failure")),
            last_failure_ms=_int(diag.get("last-failure")),
            message_id=env.get("dirigent-id"),
            message_type=env.get("dirigent-type"),
            saga_id=env.get("dirigent-saga-id"),
            causation_id=env.get("dirigent-causation-id"),
            replays=_int(env.get(REPLAYED_HEADER)) or 0,
            replay_id=env.get(REPLAY_ID_HEADER),
            reduced=diag.get("reduced"),
        )

    @property
    def failed_at_ms(self) -> int:
        """When it last failed (the dead-letter record's time if no header says)."""
        return self.last_failure_ms or self.record.timestamp_ms

    @property
    def position(self) -> tuple[int, int]:
        """``(partition, offset)`` in the dead-letter topic."""
        return self.record.partition, self.record.offset

    @property
    def where(self) -> str:
        """Its place in the dead-letter topic, ``topic[partition]@offset``."""
        r = self.record
        return f"{r.topic}[{r.partition}]@{r.offset}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (the record's own bytes are left out)."""
        return {
            "dlt_partition": self.record.partition,
            "dlt_offset": self.record.offset,
            "dlt_timestamp_ms": self.record.timestamp_ms,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "error_class": self.error_class,
            "message": self.message,
            "fingerprint": self.fingerprint,
            "attempts": self.attempts,
            "handler": self.handler,
            "group": self.group,
            "first_failure_ms": self.first_failure_ms,
            "last_failure_ms": self.last_failure_ms,
            "message_id": self.message_id,
            "type": self.message_type,
            "saga_id": self.saga_id,
            "causation_id": self.causation_id,
            "replays": self.replays,
            "replay_id": self.replay_id,
            "reduced": self.reduced,
        }


@dataclass(frozen=True, slots=True)
class OffsetRef:
    """``--offset`` as typed: ``O`` (any partition) or ``P:O``."""

    offset: int
    partition: int | None = None

    def matches(self, record: InboundRecord) -> bool:
        return record.offset == self.offset and self.partition in (None, record.partition)


def diagnostics(headers: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """The ``dirigent-dlt-*`` headers by short name (the last one wins)."""
    return {
        k[len(DLT_PREFIX) :]: v.decode(errors="replace")
        for k, v in headers
        if k.startswith(DLT_PREFIX)
    }


def original_headers(headers: Iterable[tuple[str, bytes]]) -> tuple[tuple[str, bytes], ...]:
    """The headers as the original record had them: diagnostics removed, order kept."""
    return tuple((k, v) for k, v in headers if not k.startswith(DLT_PREFIX))


def replay_record(
    letter: DeadLetter,
    *,
    replay_id: str | None = None,
    to: str | None = None,
    value: bytes | None = None,
) -> OutgoingRecord:
    """The original record for its original topic (or ``to``), marked as replayed.

    A keyed record lands where its key hashes to (its saga's partition, as before); a
    record without a key goes back to the partition it came from (any partition of
    ``to``). With ``replay_id`` the record carries ``dirigent-replayed`` (one more than
    the dead letter's own count), ``dirigent-replay-id`` and ``dirigent-replay-of`` (the
    dead letter's place); the message id and every other header stay. ``value``
    replaces the value (an edited payload).
    """
    if not letter.topic:
        raise ContractError(
            f"dead letter {letter.where} has no {DLT_PREFIX}topic header: cannot replay it"
        )
    if letter.reduced is not None:
        raise ContractError(
            f"dead letter {letter.where} holds a reduced copy ({letter.reduced}): replaying "
            f"it would send other bytes than the original at {letter.topic}"
            f"[{letter.partition}]@{letter.offset}"
        )
    r = letter.record
    headers = original_headers(r.headers)
    if replay_id is not None:
        headers = (
            *(h for h in headers if h[0] not in _MARKERS),
            (REPLAYED_HEADER, str(letter.replays + 1).encode()),
            (REPLAY_ID_HEADER, replay_id.encode()),
            (REPLAY_OF_HEADER, letter.where.encode()),
        )
    topic = to or letter.topic
    partition = letter.partition if r.key is None and topic == letter.topic else None
    return OutgoingRecord(topic, r.value if value is None else value, r.key, headers, partition)


def parse_offset(text: str) -> OffsetRef:
    """``"12"`` or ``"3:12"`` (partition 3, offset 12); ``ValueError`` names the input."""
    part, sep, off = text.partition(":")
    try:
        if sep:
            return OffsetRef(int(off), int(part))
        return OffsetRef(int(part))
    except ValueError:
        raise ValueError(f"offset {text!r} is neither OFFSET nor PARTITION:OFFSET") from None


def select(
    letters: Sequence[DeadLetter],
    *,
    fingerprint: str | None = None,
    offsets: Sequence[OffsetRef] = (),
) -> list[DeadLetter]:
    """Dead letters with this fingerprint and (if any are given) at one of ``offsets``."""
    return [
        d
        for d in letters
        if (fingerprint is None or d.fingerprint == fingerprint)
        and (not offsets or any(o.matches(d.record) for o in offsets))
    ]


def _envelope_headers(headers: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """The first value of each ``dirigent-*`` header of the original record (not ours)."""
    found: dict[str, str] = {}
    for k, v in headers:
        if k.startswith("dirigent-") and not k.startswith(DLT_PREFIX) and k not in found:
            found[k] = (v or b"").decode(errors="replace")
    return found


def _int(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None
