"""Dead letters as operators see them: parsed diagnostics, selection and grouping (pure).

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

__all__ = [
    "DeadLetter",
    "FingerprintGroup",
    "OffsetRef",
    "group_by_fingerprint",
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

    @classmethod
    def of(cls, record: InboundRecord) -> DeadLetter:
        diag = diagnostics(record.headers)
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
        )

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
        }


@dataclass(frozen=True, slots=True)
class FingerprintGroup:
    """Dead letters of one kind of failure."""

    fingerprint: str
    count: int
    error_class: str | None
    sample_message: str | None
    topics: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "count": self.count,
            "error_class": self.error_class,
            "sample_message": self.sample_message,
            "topics": list(self.topics),
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


def replay_record(letter: DeadLetter) -> OutgoingRecord:
    """The original record for its original topic.

    A keyed record lands where its key hashes to (its saga's partition, as before); a
    record without a key goes back to the partition it came from.
    """
    if not letter.topic:
        raise ContractError(
            f"dead letter {letter.where} has no {DLT_PREFIX}topic header: cannot replay it"
        )
    reduced = diagnostics(letter.record.headers).get("reduced")
    if reduced is not None:
        raise ContractError(
            f"dead letter {letter.where} holds a reduced copy ({reduced}): replaying it "
            f"would send other bytes than the original at {letter.topic}[{letter.partition}]"
            f"@{letter.offset}"
        )
    r = letter.record
    partition = letter.partition if r.key is None else None
    return OutgoingRecord(letter.topic, r.value, r.key, original_headers(r.headers), partition)


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


def group_by_fingerprint(letters: Iterable[DeadLetter]) -> list[FingerprintGroup]:
    """One group per fingerprint, largest first; the sample is the first occurrence."""
    firsts: dict[str, DeadLetter] = {}
    counts: dict[str, int] = {}
    topics: dict[str, set[str]] = {}
    for d in letters:
        fp = d.fingerprint or "-"
        firsts.setdefault(fp, d)
        counts[fp] = counts.get(fp, 0) + 1
        topics.setdefault(fp, set()).add(d.topic or "-")
    groups = [
        FingerprintGroup(fp, counts[fp], d.error_class, d.message, tuple(sorted(topics[fp])))
        for fp, d in firsts.items()
    ]
    return sorted(groups, key=lambda g: (-g.count, g.fingerprint))


def _int(text: str | None) -> int | None:
    try:
        return None if text is None else int(text)
    except ValueError:
        return None
