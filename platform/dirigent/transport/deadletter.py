"""Dead letters: the original record byte for byte, plus ``dirigent-dlt-*`` diagnostics.

A dead letter goes to ``<topic>.dlt`` with the original key, value and headers (in
order) followed by the diagnostic headers below, so an operator can group failures by
fingerprint, fix and replay them. Reused by the coordinator for its own poison input.

==============================  =================================================
``dirigent-dlt-topic``          original topic
``dirigent-dlt-partition``      original partition
``dirigent-dlt-offset``         original offset
``dirigent-dlt-timestamp``      original record timestamp (epoch ms)
``dirigent-dlt-group``          consumer group that gave up
``dirigent-dlt-handler``        handler name (or ``-`` before a handler was chosen)
``dirigent-dlt-error-class``    qualified class name of the last error
``dirigent-dlt-error-message``  its message (bounded)
``dirigent-dlt-stacktrace``     its traceback (bounded, innermost frames kept)
``dirigent-dlt-fingerprint``    16 hex: hash of error class + handler + top frame
``dirigent-dlt-attempts``       attempts made (1 for poison input)
``dirigent-dlt-first-failure``  epoch ms of the first failed attempt
``dirigent-dlt-last-failure``   epoch ms of the last failed attempt
``dirigent-dlt-defect``         why the record could not be read as it is (if so)
==============================  =================================================

**A dead letter always fits.** ``dead_letter_record`` never produces a record that the
producer would refuse for its size (``max_request_bytes``, less ``SIZE_MARGIN``). When the
original value + headers + diagnostics would not fit, or when asked (``reduce=``), it
produces the *reduced form*: the value cut to its first ``REDUCED_VALUE_BYTES`` bytes
(the original is kept by reference: source topic/partition/offset, size, SHA-256),
original headers kept only up to ``REDUCED_HEADERS_BYTES``, and:

==================================  ============================================
``dirigent-dlt-reduced``            why the original was not copied whole
``dirigent-dlt-original-size``      bytes of the original value (``-1``: null)
``dirigent-dlt-original-sha256``    hex SHA-256 of the original value
``dirigent-dlt-value-kept``         bytes of the original value kept (its head)
``dirigent-dlt-key-sha256``         hex SHA-256 of the key, when the key was cut
==================================  ============================================

In both forms an original header whose name is not valid UTF-8 is kept with its name
escaped (``\\xff``) and counted in ``dirigent-dlt-headers-escaped``; one whose value is
larger than ``MAX_ORIGINAL_HEADER_BYTES`` is dropped and counted in
``dirigent-dlt-headers-dropped``. A record with neither key nor value (a keyless
tombstone) gets an empty value and ``dirigent-dlt-null-value: 1``.

``send_dead_letters(producer, letters, group=...)`` sends them: the full form first, the
reduced form for any record the broker or producer refuses as too large; it returns
only once every letter is acknowledged, and raises (``PublishFailed``) otherwise, so a
caller counts and logs only what is acknowledged and rewinds on an error.
"""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka.record.default_records import DefaultRecordBatchBuilder

from dirigent.transport.consumer import InboundRecord
from dirigent.transport.producer import OutgoingRecord, ProducerSettings

__all__ = [
    "DLT_PREFIX",
    "DLT_SUFFIX",
    "Failure",
    "dead_letter_record",
    "dlt_topic",
    "fingerprint",
    "wire_size",
]

DLT_SUFFIX = ".dlt"
DLT_PREFIX = "dirigent-dlt-"
MAX_MESSAGE_BYTES = 1024
MAX_STACK_BYTES = 8 * 1024
MAX_NAME_BYTES = 256  # group, handler, error class
MAX_ORIGINAL_HEADER_BYTES = 64 * 1024
REDUCED_VALUE_BYTES = 4 * 1024
REDUCED_HEADERS_BYTES = 32 * 1024
REDUCED_KEY_BYTES = 1024
SIZE_MARGIN = 4 * 1024  # request/batch overhead beyond the record itself
DEFAULT_MAX_BYTES = ProducerSettings.model_fields["max_request_bytes"].default


def dlt_topic(topic: str) -> str:
    """The dead-letter topic of ``topic``: ``<topic>.dlt``."""
    return topic + DLT_SUFFIX


def fingerprint(exc: BaseException, handler: str) -> str:
    """Stable id of a kind of failure: error class + handler + innermost frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    top = f"{frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].name}" if frames else "-"
    text = f"{_qualname(exc)}|{handler}|{top}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a record is dead-lettered."""

    error_class: str
    message: str
    stacktrace: str
    fingerprint: str
    handler: str
    attempts: int
    first_failure_ms: int
    last_failure_ms: int

    @classmethod
    def of(
        cls, exc: BaseException, *, handler: str, attempts: int, first_ms: int, last_ms: int
    ) -> Failure:
        stack = "".join(traceback.format_exception(exc))
        return cls(
            error_class=_qualname(exc),
            message=str(exc),
            stacktrace=stack,
            fingerprint=fingerprint(exc, handler),
            handler=handler,
            attempts=attempts,
            first_failure_ms=first_ms,
            last_failure_ms=last_ms,
        )


def dead_letter_record(
    record: InboundRecord,
    failure: Failure,
    *,
    group: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    reduce: str | None = None,
) -> OutgoingRecord:
    """The DLT record for ``record``: original bytes + diagnostics, same key; never raises.

    ``max_bytes`` is the producer's ``max_request_bytes``; the result always fits under
    it (the reduced form if the full one would not, or if ``reduce`` gives a reason).
    """
    diag = _diagnostics(record, failure, group)
    kept, counts = _original_headers(record.headers, MAX_ORIGINAL_HEADER_BYTES, budget=None)
    value, key = record.value, record.key
    if value is None and key is None:
        value, counts["null-value"] = b"", 1
    full = _assemble(record, kept, diag, counts, value, key)
    budget = max_bytes - SIZE_MARGIN
    if reduce is None and wire_size(full) <= budget:
        return full
    why = reduce or f"full form of {wire_size(full)} bytes exceeds {budget}"
    return _reduced(record, diag, why, budget, value, key)


def _reduced(
    record: InboundRecord,
    diag: dict[str, bytes],
    why: str,
    budget: int,
    value: bytes | None,
    key: bytes | None,
) -> OutgoingRecord:
    original = record.value or b""
    ref = {
        "reduced": _head(why, MAX_MESSAGE_BYTES),
        "original-size": str(-1 if record.value is None else len(original)).encode(),
        "original-sha256": hashlib.sha256(original).hexdigest().encode(),
    }
    if key is not None and len(key) > REDUCED_KEY_BYTES:
        ref["key-sha256"] = hashlib.sha256(key).hexdigest().encode()
        key = key[:REDUCED_KEY_BYTES]
    # Shrink in steps; the last one (diagnostics only) is far below any sane budget.
    for value_bytes, header_bytes in ((REDUCED_VALUE_BYTES, REDUCED_HEADERS_BYTES), (0, 0)):
        head = None if value is None else value[:value_bytes]
        kept, counts = _original_headers(record.headers, MAX_ORIGINAL_HEADER_BYTES, header_bytes)
        if record.value is None and record.key is None:
            counts["null-value"] = 1
        extra = {**ref, "value-kept": str(len(head or b"")).encode()}
        out = _assemble(record, kept, {**diag, **extra}, counts, head, key)
        if wire_size(out) <= budget:
            return out
    return out


def _diagnostics(record: InboundRecord, failure: Failure, group: str) -> dict[str, bytes]:
    diag = {
        "topic": _utf8(record.topic),
        "partition": str(record.partition).encode(),
        "offset": str(record.offset).encode(),
        "timestamp": str(record.timestamp_ms).encode(),
        "group": _head(group, MAX_NAME_BYTES),
        "handler": _head(failure.handler, MAX_NAME_BYTES),
        "error-class": _head(failure.error_class, MAX_NAME_BYTES),
        "error-message": _head(failure.message, MAX_MESSAGE_BYTES),
        "stacktrace": _tail(failure.stacktrace, MAX_STACK_BYTES),
        "fingerprint": _head(failure.fingerprint, 64),
        "attempts": str(failure.attempts).encode(),
        "first-failure": str(failure.first_failure_ms).encode(),
        "last-failure": str(failure.last_failure_ms).encode(),
    }
    if record.defect is not None:
        diag["defect"] = _head(record.defect, MAX_MESSAGE_BYTES)
    return diag


def _original_headers(
    headers: Sequence[tuple[str, bytes | None]], max_value: int, budget: int | None
) -> tuple[list[tuple[str, bytes | None]], dict[str, int]]:
    """Headers that can be copied (names escaped if not UTF-8) and what was done."""
    kept: list[tuple[str, bytes | None]] = []
    counts = {"headers-escaped": 0, "headers-dropped": 0}
    used = 0
    for name, raw in headers:
        safe = _safe_name(name)
        size = len(safe.encode()) + len(raw or b"")
        if len(raw or b"") > max_value or (budget is not None and used + size > budget):
            counts["headers-dropped"] += 1
            continue
        if safe != name:
            counts["headers-escaped"] += 1
        used += size
        kept.append((safe, raw))
    return kept, counts


def _assemble(
    record: InboundRecord,
    kept: list[tuple[str, bytes | None]],
    diag: dict[str, bytes],
    counts: dict[str, int],
    value: bytes | None,
    key: bytes | None,
) -> OutgoingRecord:
    notes = {k: str(n).encode() for k, n in counts.items() if n}
    ours = tuple((DLT_PREFIX + k, v) for k, v in {**diag, **notes}.items())
    headers = tuple(kept) + ours
    return OutgoingRecord(dlt_topic(record.topic), value, key, headers)  # type: ignore[arg-type]


def wire_size(record: OutgoingRecord) -> int:
    """The size the producer checks against ``max_request_bytes`` (aiokafka's estimate)."""
    return int(
        DefaultRecordBatchBuilder.estimate_size_in_bytes(
            record.key, record.value, list(record.headers)
        )
    )


def _safe_name(name: str) -> str:
    """``name`` if it encodes as UTF-8, else its bytes with the bad ones as ``\\xNN``."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogateescape") if _escapable(name) else None
        if raw is None:
            return name.encode("utf-8", "backslashreplace").decode("ascii", "replace")
        return raw.decode("utf-8", "backslashreplace")
    return name


def _escapable(name: str) -> bool:
    try:
        name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return True


def _qualname(exc: BaseException) -> str:
    cls = type(exc)
    return f"{cls.__module__}.{cls.__qualname__}"


def _head(text: str, limit: int) -> bytes:
    return _utf8(text)[:limit].decode(errors="ignore").encode()


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "backslashreplace")  # lone surrogates in messages, too


def _tail(text: str, limit: int) -> bytes:
    """Keep the end of a traceback: the innermost frames and the error say the most."""
    data = _utf8(text)
    if len(data) <= limit:
        return data
    return b"...\n" + data[-(limit - 4) :].decode(errors="ignore").encode()
