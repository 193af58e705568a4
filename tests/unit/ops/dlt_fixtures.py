"""Dead letters built the way the DLT writer builds them, for the ops unit tests."""

from __future__ import annotations

from dirigent.events import Envelope
from dirigent.ops import DeadLetter
from dirigent.transport import Failure, InboundRecord, dead_letter_record

SCHEMA_REF = "fp:" + "0" * 16


def failure(fp: str = "f" * 16, *, cls: str = "app.errors.Boom", message: str = "boom",
            handler: str = "inventory.reserve", last_ms: int = 2_000) -> Failure:  # fmt: skip
    return Failure(cls, message, "Traceback...", fp, handler, 3, 1_000, last_ms)


def letter(
    offset: int = 0,
    *,
    fail: Failure | None = None,
    topic: str = "shop.inventory.commands",
    saga_id: str | None = "saga-1",
    message_id: str = "m-1",
    causation_id: str | None = "cause-1",
    group: str = "inventory",
    dlt_partition: int = 0,
    extra_headers: tuple[tuple[str, bytes], ...] = (),
) -> DeadLetter:
    env = Envelope.new(
        type="shop.inventory.ReserveStock",
        source="t",
        schema_ref=SCHEMA_REF,
        saga_id=saga_id,
        causation_id=causation_id,
        message_id=message_id,
    )
    headers = tuple(env.to_headers()) + extra_headers
    original = InboundRecord(topic, 1, 40 + offset, 123, (saga_id or "k").encode(), b"\x01v",
                             headers)  # fmt: skip
    out = dead_letter_record(original, fail or failure(), group=group)
    stored = InboundRecord(out.topic, dlt_partition, offset, 9_000, out.key, out.value,
                           out.headers)  # fmt: skip
    return DeadLetter.of(stored)
