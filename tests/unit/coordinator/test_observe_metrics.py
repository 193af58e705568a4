"""What ``observe`` counts from applied decisions: attempts, retries, compensations,
outcomes and step latency, through the real engine and the faithful in-memory store."""

from __future__ import annotations

from dirigent.coordinator import CoordinatorMetrics, Topology
from dirigent.coordinator.inputs import Routed, Router, route_timer
from dirigent.coordinator.observe import observe
from dirigent.coordinator.outbound import OutboundEncoder
from dirigent.coordinator.partition import OwnedPartition
from dirigent.coordinator.processor import BatchProcessor
from dirigent.events import DEFAULT_LIMITS, Envelope, Event, SchemaCatalog, SingleObjectCodec
from dirigent.saga import Timer, TimerKind
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

SAGA = build_order_fulfilment(prefix="t-", step_timeout_s=5.0)
TOPOLOGY = Topology.of([SAGA])
CODEC = SingleObjectCodec(SchemaCatalog(), models=TOPOLOGY.models)
ROUTER = Router(TOPOLOGY, CODEC, DEFAULT_LIMITS, dict.fromkeys(TOPOLOGY.input_topics, 1))
HOME = partition_for("o1", 1)


class World:
    def __init__(self) -> None:
        self.now = 100.0
        self.store = MemorySagaStore()
        encoder = OutboundEncoder(CODEC, source="test", transitions_topic=None)
        self.processor = BatchProcessor(TOPOLOGY, self.store, encoder, clock=lambda: self.now)
        self.metrics = CoordinatorMetrics()
        self.sent: list[str] = []  # command ids, in outbox order

    async def feed(self, owner: OwnedPartition, items: list[Routed]) -> None:
        result = await self.processor.process(owner, items)
        observe(result.applied, owner, TOPOLOGY, self.metrics, self.now)
        self.sent += [dict(r.headers)["dirigent-id"].decode() for _, r in result.outbox]

    async def due(self, kind: TimerKind) -> list[Routed]:
        docs = await self.store.due_timers(HOME, self.now)
        timers = [t for t in map(Timer.from_json, docs) if t.kind is kind]
        return [r for t in timers if (r := route_timer(t, TOPOLOGY)) is not None]

    def value(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


def record(event: Event, message_id: str, causation_id: str | None = None) -> Routed:
    env = Envelope.new(type=event.event_type, source="t", schema_ref=CODEC.schema_ref(type(event)),
                       message_id=message_id, causation_id=causation_id,
                       saga_id=None if isinstance(event, OrderPlaced) else "o1")  # fmt: skip
    topic = "t-orders.events" if isinstance(event, OrderPlaced) else "t-inventory.events"
    rec = InboundRecord(topic, HOME, 0, 0, b"o1", CODEC.encode(event), tuple(env.to_headers()))
    routed = ROUTER.route(rec)
    assert isinstance(routed, Routed), routed
    return routed


async def test_attempts_retries_compensations_and_latency_are_counted() -> None:
    w = World()
    owner = OwnedPartition(HOME, await w.store.acquire(HOME))
    name, fwd = SAGA.name, {"phase": "forward"}
    placed = OrderPlaced(order_id="o1", customer_id="c", amount_cents=5, currency="EUR",
                         items=[OrderLine(sku="s", quantity=1)])  # fmt: skip
    await w.feed(owner, [record(placed, "m1")])
    assert w.value("dirigent_step_attempts_total", saga_type=name, step="reserve_stock", **fwd) == 1
    assert w.value("dirigent_sagas_total", saga_type=name, outcome="started") == 1

    w.now += 6  # the reserve command times out; its retry fires after the backoff
    await w.feed(owner, await w.due(TimerKind.STEP_TIMEOUT))
    w.now += 20
    await w.feed(owner, await w.due(TimerKind.RETRY))
    assert w.value("dirigent_step_attempts_total", saga_type=name, step="reserve_stock", **fwd) == 2
    assert w.value("dirigent_step_retries_total", saga_type=name, step="reserve_stock", **fwd) == 1

    w.now += 0.5
    reserved = StockReserved(order_id="o1", reservation_id="r1")
    await w.feed(owner, [record(reserved, "m2", causation_id=w.sent[-1])])
    latency = "dirigent_step_latency_seconds_count"
    assert w.value(latency, saga_type=name, step="reserve_stock", **fwd) == 1
    declined = PaymentDeclined(order_id="o1", reason="card declined")
    await w.feed(owner, [record(declined, "m3", causation_id=w.sent[-1])])
    assert w.value("dirigent_compensations_total", saga_type=name, step="reserve_stock") == 1
    undo = {"saga_type": name, "step": "reserve_stock", "phase": "compensation"}
    assert w.value("dirigent_step_attempts_total", **undo) == 1
    assert w.value("dirigent_step_retries_total", **undo) == 0
    assert w.value("dirigent_compensations_total", saga_type=name, step="authorize_payment") == 0
    w.now += 0.25
    released = StockReleased(order_id="o1")
    await w.feed(owner, [record(released, "m4", causation_id=w.sent[-1])])
    assert w.value(latency, **undo) == 1
    assert w.value(latency, saga_type=name, step="reserve_stock", **fwd) == 1
