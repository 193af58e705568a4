"""Closed-loop load: keep ``in_flight`` sagas (or pipe chains) running until enough finish.

A feeder starts a new saga for every one that finishes; an observer notes broker-side
times. Saga: command produced (Kafka timestamp, seen by the participant) -> reply
applied (the decision time in the transition record). Pipe: one hop's output record ->
the next hop's output record of the same chain (both Kafka timestamps).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bench.pipe import HOP
from bench.shop import order
from bench.tally import Tally
from dirigent.events import AvroCodec, Envelope, SagaTransition
from dirigent.transport import BatchConsumer, InboundRecord, OutgoingRecord, RawProducer
from sagas.contracts.shop import ReserveStock, StockLine

__all__ = ["Feeder", "observe_pipe", "observe_sagas"]

PIPE_HOPS = 3


class Feeder:
    """Produces ``total`` starts: never more than ``in_flight`` unfinished at a time
    (closed loop), or, with ``rate``, at that many per second whatever happens (open
    loop). Remembers when each start (by record key) was acknowledged."""

    def __init__(self, producer: RawProducer, make: Callable[[int], OutgoingRecord], *,
                 total: int, in_flight: int, rate: float | None = None) -> None:  # fmt: skip
        self.producer, self.make, self.total, self.rate = producer, make, total, rate
        self.placed = 0
        self.published: dict[bytes, float] = {}  # record key -> epoch ms
        self._credit = in_flight
        self._wake = asyncio.Event()
        self._wake.set()

    def finished(self, n: int) -> None:
        if n:
            self._credit += n
            self._wake.set()

    async def run(self) -> None:
        if self.rate is not None:
            await self._open_loop(self.rate)
            return
        while self.placed < self.total:
            await self._wake.wait()
            self._wake.clear()
            k = min(self._credit, self.total - self.placed)
            if k <= 0:
                continue
            self._credit -= k
            await self._place(k)

    async def _open_loop(self, rate: float) -> None:
        loop = asyncio.get_running_loop()
        began = loop.time()
        while self.placed < self.total:
            due = min(self.total, int((loop.time() - began) * rate) + 1)
            if due > self.placed:
                await self._place(due - self.placed)
            await asyncio.sleep(0.01)

    async def _place(self, k: int) -> None:
        records = [self.make(self.placed + i) for i in range(k)]
        self.placed += k
        await self.producer.send_batch(records)
        now_ms = time.time() * 1000
        for r in records:
            if r.key is not None:
                self.published[r.key] = now_ms


def order_record(prefix: str, codec: AvroCodec, run: str) -> Callable[[int], OutgoingRecord]:
    def make(i: int) -> OutgoingRecord:
        placed = order(f"{run}-{i}")
        env = Envelope.new(type=placed.event_type, source="bench", saga_id=placed.order_id,
                           schema_ref=codec.schema_ref(type(placed)))  # fmt: skip
        return OutgoingRecord(f"{prefix}-orders.events", codec.encode(placed), env.record_key,
                              tuple(env.to_headers()))  # fmt: skip

    return make


async def observe_sagas(consumer: BatchConsumer, codec: AvroCodec,
                        sent_at: dict[tuple[str, str], int], feeder: Feeder,
                        tally: Tally) -> None:  # fmt: skip
    """Read the transitions topic until the tally is done."""
    while not tally.done:
        batch = await consumer.getmany(timeout_ms=100)
        finished = 0
        for records in batch.values():
            for r in records:
                t = codec.decode(r.value or b"", reader=SagaTransition)
                assert isinstance(t, SagaTransition)
                at = t.timestamp.timestamp() * 1000
                if t.step is not None:
                    produced = sent_at.pop((t.saga_id, t.step), None)
                    if produced is not None:
                        tally.steps.append((at, at - produced))
                if t.to_status == "COMPLETED":
                    tally.completions.append(at)
                    started = feeder.published.pop(t.saga_id.encode(), None)
                    if started is not None:
                        tally.sagas.append((at, at - started))
                    finished += 1
                elif t.to_status != "RUNNING":
                    raise RuntimeError(f"saga {t.saga_id} ended {t.to_status}: {t.reason}")
        feeder.finished(finished)


def chain_record(
    prefix: str, run: str, codec: AvroCodec | None = None
) -> Callable[[int], OutgoingRecord]:
    """A pipe chain's first record, with a realistic envelope (about the size of a command);
    with ``codec``, its value is an Avro ``ReserveStock`` and the hop count a header."""
    headers = tuple(Envelope.new(type="shop.inventory.ReserveStock", source="bench",
                                 schema_ref="fp:0123456789abcdef", saga_id=f"{run}-0",
                                 causation_id="c" * 36).to_headers())  # fmt: skip

    def make(i: int) -> OutgoingRecord:
        key = f"{run}-{i}".encode()
        if codec is None:
            return OutgoingRecord(f"{prefix}-pipe.in", key + b"|1|" + b"x" * 40, key, headers)
        cmd = ReserveStock(order_id=key.decode(), items=[StockLine(sku="sku-1", quantity=2)])
        ref = codec.schema_ref(ReserveStock)
        env = Envelope.new(type=cmd.event_type, source="bench", saga_id=cmd.order_id,
                           schema_ref=ref, causation_id="c" * 36)  # fmt: skip
        return OutgoingRecord(f"{prefix}-pipe.in", codec.encode(cmd), key,
                              (*env.to_headers(), (HOP, b"1")))  # fmt: skip

    return make


async def observe_pipe(consumer: BatchConsumer, producer: RawProducer, feeder: Feeder,
                       tally: Tally) -> None:  # fmt: skip
    """Echo the pipe's output back into it until every chain has made its hops."""
    last: dict[bytes, int] = {}
    while not tally.done:
        batch = await consumer.getmany(timeout_ms=100)
        out: list[OutgoingRecord] = []
        finished = 0
        for records in batch.values():
            for r in records:
                key, hop, pad = _hop(r)
                at, before = r.timestamp_ms, last.pop(key, None)
                if before is not None:
                    tally.steps.append((at, at - before))
                if int(hop) == PIPE_HOPS:
                    tally.completions.append(at)
                    finished += 1
                    continue
                last[key] = at
                out.append(_next_hop(r, key, int(hop) + 1, pad))
        if out:
            await producer.send_batch(out)
        if batch:  # like the participant: commit once the replies are acknowledged
            await consumer.commit({tp: rs[-1].offset + 1 for tp, rs in batch.items()})
        feeder.finished(finished)


def _hop(r: InboundRecord) -> tuple[bytes, bytes, bytes]:
    """(chain key, hop, padding) of a raw pipe record, or of an Avro one (hop header)."""
    for name, value in r.headers:
        if name == HOP:
            return r.key or b"", value or b"1", b""
    key, hop, pad = (r.value or b"").split(b"|", 2)
    return key, hop, pad


def _next_hop(r: InboundRecord, key: bytes, hop: int, pad: bytes) -> OutgoingRecord:
    topic = r.topic.replace(".out", ".in")
    if any(name == HOP for name, _ in r.headers):
        headers = tuple((n, str(hop).encode() if n == HOP else v or b"") for n, v in r.headers)
        return OutgoingRecord(topic, r.value or b"", r.key, headers)
    return OutgoingRecord(topic, b"|".join((key, str(hop).encode(), pad)), r.key, r.headers)
