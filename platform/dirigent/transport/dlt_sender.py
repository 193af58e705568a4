"""``send_dead_letters``: dead letters that reach the broker, whatever their size.

The caller (the service runtime, the coordinator) hands over the poison records with
their failures; this sends the full form of each, re-sends in reduced form any that
the producer or broker refuses for good (too large, a header it cannot encode), and
returns only when every letter is acknowledged. A transient failure (broker down)
raises a retryable ``PublishFailed``: the caller must not commit, rewinds and retries
(letters acknowledged before the failure are then sent again: at least once). Metrics
and logs belong after the return, so they count only what the broker acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence

from dirigent.errors import PublishFailed
from dirigent.observability import get_logger
from dirigent.transport.consumer import InboundRecord
from dirigent.transport.deadletter import Failure, dead_letter_record
from dirigent.transport.producer import OutgoingRecord, RawProducer, SentRecord

__all__ = ["FailedRecord", "send_dead_letters"]

log = get_logger(__name__)
FailedRecord = tuple[InboundRecord, Failure]
"""A record that cannot be processed, and why (``dirigent.ops.DeadLetter`` is one read
back from a dead-letter topic)."""


async def send_dead_letters(
    producer: RawProducer, letters: Sequence[FailedRecord], *, group: str
) -> list[SentRecord]:
    """Dead-letter ``letters`` (record, failure) to ``<topic>.dlt``; one ack per letter.

    Example::

        sent = await send_dead_letters(producer, [(record, failure)], group="inventory")
        metrics.dead_lettered.inc(len(sent))  # only what the broker acknowledged

    Raises ``PublishFailed``: retryable if the broker could not be reached (rewind and
    retry), not retryable if even the reduced form was refused (the DLT topic does not
    exist or is not writable: a configuration problem).
    """
    max_bytes = producer.settings.max_request_bytes
    full = [dead_letter_record(r, f, group=group, max_bytes=max_bytes) for r, f in letters]
    results = await producer.send_each(full)
    _raise_transient(results)
    retry = [i for i, res in enumerate(results) if isinstance(res, PublishFailed)]
    if retry:
        reduced = [_reduced(letters[i], results[i], group, max_bytes) for i in retry]
        for i, res in zip(retry, await producer.send_each(reduced), strict=True):
            if isinstance(res, PublishFailed):
                raise res
            results[i] = res
            log.warning("dead letter sent in reduced form", dlt=res.topic, offset=res.offset)
    return [r for r in results if isinstance(r, SentRecord)]


def _raise_transient(results: Sequence[SentRecord | PublishFailed]) -> None:
    for res in results:
        if isinstance(res, PublishFailed) and res.retryable:
            raise res


def _reduced(
    letter: FailedRecord, refused: SentRecord | PublishFailed, group: str, max_bytes: int
) -> OutgoingRecord:
    record, failure = letter
    why = f"full form refused: {refused}"
    return dead_letter_record(record, failure, group=group, max_bytes=max_bytes, reduce=why)
