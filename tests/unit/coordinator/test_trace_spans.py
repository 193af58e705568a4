"""Trace context through the processor: what commands carry, what spans are written."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from dirigent.config import Settings
from dirigent.coordinator import Topology
from dirigent.coordinator.inputs import Routed, Router, route_timer
from dirigent.coordinator.outbound import OutboundEncoder
from dirigent.coordinator.partition import OwnedPartition
from dirigent.coordinator.processor import BatchProcessor, BatchResult
from dirigent.coordinator.spans import emit_spans
from dirigent.events import DEFAULT_LIMITS, Envelope, Event, SchemaCatalog, SingleObjectCodec
from dirigent.observability import w3c
from dirigent.observability.tracing import Tracing, configure_tracing
from dirigent.saga import SagaStatus, Timer, TimerKind
from dirigent.store import MemorySagaStore
from dirigent.transport import InboundRecord
from dirigent.transport.reader import partition_for
from sagas.contracts.shop import (
    OrderLine,
    OrderPlaced,
    PaymentDeclined,
    StockReleased,
    StockReserved,
)
from sagas.order_fulfilment import build_order_fulfilment

SAGA = build_order_fulfilment(prefix="t-")
TOPOLOGY = Topology.of([SAGA])
CODEC = SingleObjectCodec(SchemaCatalog(), models=TOPOLOGY.models)
PARTITIONS = 6
HOME = partition_for("o1", PARTITIONS)
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
CALLER = "b7ad6b7169203331"
TP = f"00-{TRACE_ID}-{CALLER}-01"


def record(event: Event, *, message_id: str, causation_id: str | None = None,
           traceparent: str | None = None) -> InboundRecord:  # fmt: skip
    env = Envelope.new(type=event.event_type, source="t", schema_ref=CODEC.schema_ref(type(event)),
                       message_id=message_id, causation_id=causation_id, saga_id="o1",
                       traceparent=traceparent)  # fmt: skip
    topic = "t-orders.events" if isinstance(event, OrderPlaced) else "t-inventory.events"
    return InboundRecord(topic, HOME, 0, 0, b"o1", CODEC.encode(event), tuple(env.to_headers()))


def placed() -> OrderPlaced:
    return OrderPlaced(order_id="o1", customer_id="c", items=[OrderLine(sku="s", quantity=1)],
                       amount_cents=5, currency="EUR")  # fmt: skip


@dataclass
class Run:
    """A processor over the memory store, a settable clock, and what was sent."""

    tracing: Tracing
    now: float = 100.0

    async def start(self) -> None:
        self.store = MemorySagaStore()
        encoder = OutboundEncoder(CODEC, source="test", transitions_topic=None)
        on = self.tracing.enabled
        self.router = Router(TOPOLOGY, CODEC, DEFAULT_LIMITS,
                             dict.fromkeys(TOPOLOGY.input_topics, PARTITIONS),
                             new_trace=self.tracing.new_trace if on else None)  # fmt: skip
        self.processor = BatchProcessor(TOPOLOGY, self.store, encoder, lambda: self.now,
                                        spans=on)  # fmt: skip
        self.owner = OwnedPartition(HOME, await self.store.acquire(HOME))

    async def feed(self, rec: InboundRecord) -> BatchResult:
        routed = self.router.route(rec)
        assert isinstance(routed, Routed)
        result = await self.processor.process(self.owner, [routed])
        emit_spans(result.applied, HOME, TOPOLOGY, self.tracing)
        return result

    async def fire(self, timer: Timer) -> BatchResult:
        routed = route_timer(timer, TOPOLOGY)
        assert routed is not None
        result = await self.processor.process(self.owner, [routed])
        emit_spans(result.applied, HOME, TOPOLOGY, self.tracing)
        return result

    def commands(self, result: BatchResult) -> list[dict[str, str]]:
        return [{k: v.decode() for k, v in r.headers} for _, r in result.outbox]


async def test_tracing_off_and_no_traceparent_keeps_no_trace_and_sends_none() -> None:
    run = Run(Tracing.off())
    await run.start()
    result = await run.feed(record(placed(), message_id="m1"))
    [cmd] = run.commands(result)
    assert "traceparent" not in cmd
    state = result.applied[0].decision.state
    assert state is not None
    assert state.trace is None


async def test_tracing_off_hands_the_start_events_traceparent_to_the_participants() -> None:
    run = Run(Tracing.off())
    await run.start()
    result = await run.feed(record(placed(), message_id="m1", traceparent=TP))
    [cmd] = run.commands(result)
    assert cmd["traceparent"] == TP  # participants that trace hang under the caller


async def test_one_saga_is_one_trace_with_a_span_per_attempt_and_a_root() -> None:
    exporter = InMemorySpanExporter()
    run = Run(configure_tracing(Settings(), environ={}, exporter=exporter))
    await run.start()
    started = await run.feed(record(placed(), message_id="m1", traceparent=TP))
    [reserve] = run.commands(started)
    assert w3c.parse(reserve["traceparent"])[0] == TRACE_ID
    run.now = 103.0
    reply = StockReserved(order_id="o1", reservation_id="r1")
    moved = await run.feed(record(reply, message_id="m2", causation_id=reserve["dirigent-id"]))
    [pay] = run.commands(moved)
    run.now = 104.0
    declined = PaymentDeclined(order_id="o1", reason="card declined")
    undo = await run.feed(record(declined, message_id="m3", causation_id=pay["dirigent-id"]))
    [release] = run.commands(undo)
    run.now = 106.0
    done = await run.feed(record(StockReleased(order_id="o1"), message_id="m4",
                                 causation_id=release["dirigent-id"]))  # fmt: skip
    state = done.applied[0].decision.state
    assert state is not None
    assert state.status is SagaStatus.COMPENSATED
    assert run.tracing.flush()

    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert sorted(spans) == [
        "compensate reserve_stock", "saga order_fulfilment", "step authorize_payment",
        "step reserve_stock",
    ]  # fmt: skip
    root = spans["saga order_fulfilment"]
    assert {f"{s.context.trace_id:032x}" for s in spans.values() if s.context} == {TRACE_ID}
    assert root.parent is not None
    assert f"{root.parent.span_id:016x}" == CALLER  # under whoever started the saga
    assert (root.start_time, root.end_time) == (100 * 10**9, 106 * 10**9)
    assert root.context is not None
    for name in ("step reserve_stock", "step authorize_payment", "compensate reserve_stock"):
        parent = spans[name].parent
        assert parent is not None
        assert parent.span_id == root.context.span_id
    step = spans["step reserve_stock"]
    assert (step.start_time, step.end_time) == (100 * 10**9, 103 * 10**9)  # sent -> reply
    assert step.context is not None
    assert f"{step.context.span_id:016x}" == w3c.parse(reserve["traceparent"])[1]
    assert spans["step authorize_payment"].status.status_code is StatusCode.ERROR
    [link] = spans["compensate reserve_stock"].links
    assert link.context.span_id == step.context.span_id  # it undoes that attempt
    run.tracing.shutdown()


async def test_an_attempt_that_timed_out_ends_its_span_and_the_retry_links_back() -> None:
    exporter = InMemorySpanExporter()
    run = Run(configure_tracing(Settings(), environ={}, exporter=exporter))
    await run.start()
    started = await run.feed(record(placed(), message_id="m1", traceparent=TP))
    [first] = run.commands(started)
    timeout = next(
        t for t in started.applied[0].decision.timers if t.kind is TimerKind.STEP_TIMEOUT
    )
    run.now = 200.0
    waited = await run.fire(timeout)
    [retry] = [t for t in waited.applied[0].decision.timers if t.kind is TimerKind.RETRY]
    run.now = 205.0
    resent = await run.fire(retry)
    [second] = run.commands(resent)
    assert second["dirigent-id"] == first["dirigent-id"]  # a re-send after a timeout
    run.now = 206.0
    reply = StockReserved(order_id="o1", reservation_id="r1")
    await run.feed(record(reply, message_id="m2", causation_id=second["dirigent-id"]))
    assert run.tracing.flush()

    one, two = sorted(exporter.get_finished_spans(), key=lambda s: s.start_time or 0)
    assert (one.name, one.status.status_code) == ("step reserve_stock", StatusCode.ERROR)
    assert (one.start_time, one.end_time) == (100 * 10**9, 200 * 10**9)  # sent -> timeout
    assert (two.start_time, two.end_time) == (205 * 10**9, 206 * 10**9)
    assert one.context is not None
    assert two.context is not None
    assert f"{two.context.span_id:016x}" == w3c.parse(second["traceparent"])[1]
    [link] = two.links
    assert link.context.span_id == one.context.span_id  # resumed after the timer
    run.tracing.shutdown()
