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
==============================  =================================================
"""

from __future__ import annotations

import hashlib
import traceback
from dataclasses import dataclass

from dirigent.transport.consumer import InboundRecord
from dirigent.transport.producer import OutgoingRecord

__all__ = ["DLT_PREFIX", "DLT_SUFFIX", "Failure", "dead_letter_record", "dlt_topic", "fingerprint"]

DLT_SUFFIX = ".dlt"
DLT_PREFIX = "dirigent-dlt-"
MAX_MESSAGE_BYTES = 1024
MAX_STACK_BYTES = 8 * 1024


def dlt_topic(topic: str) -> str:
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


def dead_letter_record(record: InboundRecord, failure: Failure, *, group: str) -> OutgoingRecord:
    """The DLT record for ``record``: original bytes + diagnostic headers, same key."""
    diag: dict[str, str | bytes] = {
        "topic": record.topic,
        "partition": str(record.partition),
        "offset": str(record.offset),
        "timestamp": str(record.timestamp_ms),
        "group": group,
        "handler": failure.handler,
        "error-class": failure.error_class,
        "error-message": _head(failure.message, MAX_MESSAGE_BYTES),
        "stacktrace": _tail(failure.stacktrace, MAX_STACK_BYTES),
        "fingerprint": failure.fingerprint,
        "attempts": str(failure.attempts),
        "first-failure": str(failure.first_failure_ms),
        "last-failure": str(failure.last_failure_ms),
    }
    headers = record.headers + tuple((DLT_PREFIX + k, _bytes(v)) for k, v in diag.items())
    return OutgoingRecord(dlt_topic(record.topic), record.value, record.key, headers)


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _qualname(exc: BaseException) -> str:
    cls = type(exc)
    return f"{cls.__module__}.{cls.__qualname__}"


def _head(text: str, limit: int) -> bytes:
    return text.encode()[:limit].decode(errors="ignore").encode()


def _tail(text: str, limit: int) -> bytes:
    """Keep the end of a traceback: the innermost frames and the error say the most."""
    data = text.encode()
    if len(data) <= limit:
        return data
    return b"...\n" + data[-(limit - 4) :].decode(errors="ignore").encode()
