"""Reading and batching the transitions topic (``dirigent.saga.transitions``).

A record on it is either one ``SagaTransition`` or a ``SagaTransitionBatch``: the
coordinator's relay joins the transitions of one partition that it sends together into
one record (fewer Kafka records per saga step). ``read_transitions`` accepts both, so
history, analytics and tests read the topic one way. A batch goes to the partition the
coordinator owns, which is the partition its sagas' ids hash to when the transitions
topic has as many partitions as the saga topics (``dirigent topics create`` does that);
the coordinator batches only then.

Batching is cheap: an Avro array is a count, the items' bodies and a terminator, so the
already-encoded transitions are joined as bytes, never decoded.
"""

from __future__ import annotations

from collections.abc import Sequence

from dirigent.events.builtin import SagaTransition, SagaTransitionBatch
from dirigent.events.codec import AvroCodec, schema_of

__all__ = ["batch_transitions", "read_transitions"]


def batch_transitions(codec: AvroCodec, values: Sequence[bytes]) -> bytes:
    """One ``SagaTransitionBatch`` value from ``SagaTransition`` values ``codec`` wrote."""
    body = b"".join(codec.body_of(v) for v in values)
    count = _varint(2 * len(values)) if values else b""  # zigzag of a positive long
    return codec.framed(SagaTransitionBatch, count + body + b"\x00")


def read_transitions(codec: AvroCodec, value: bytes) -> list[SagaTransition]:
    """The transitions in one record of the topic, in order (either form)."""
    for model in (SagaTransition, SagaTransitionBatch):  # known to any reader
        codec.catalog.add(schema_of(model))
    if codec.writer_of(value).name == SagaTransitionBatch.event_type:
        batch = codec.decode(value, reader=SagaTransitionBatch)
        assert isinstance(batch, SagaTransitionBatch)
        return list(batch.transitions)
    one = codec.decode(value, reader=SagaTransition)
    assert isinstance(one, SagaTransition)
    return [one]


def _varint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)
