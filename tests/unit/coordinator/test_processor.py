"""The batch processor's paths against the faithful in-memory store: applied, duplicate,
version conflict (a stale cache), fenced, forwarded and orphan inputs."""

from __future__ import annotations

import pytest

from dirigent.coordinator import Topology
from dirigent.coordinator.inputs import Routed, Router
from dirigent.coordinator.outbound import OutboundEncoder
from dirigent.coordinator.partition import OwnedPartition
from dirigent.coordinator.processor import BatchProcessor
from dirigent.errors import FencedOut
from dirigent.events import DEFAULT_LIMITS, Envelope, Event, SchemaCatalog, SingleObjectCodec
from dirigent.saga import SagaState, SagaStatus
from dirigent.store import MemorySagaStore, OutboxRecord
from dirigent.transport import InboundRecord
from dirigent.transport.reader import partition_for
from sagas.contracts.shop import OrderLine, OrderPlaced, StockReserved
from sagas.order_fulfilment import build_order_fulfilment

SAGA = build_order_fulfilment(prefix="t-")
TOPOLOGY = Topology.of([SAGA])
CODEC = SingleObjectCodec(SchemaCatalog(), models=TOPOLOGY.models)
PARTITIONS = 6
ROUTER = Router(TOPOLOGY, CODEC, DEFAULT_LIMITS, dict.fromkeys(TOPOLOGY.input_topics, PARTITIONS))
HOME = partition_for("o1", PARTITIONS)


def record(
    event: Event,
    *,
    partition: int = HOME,
    offset: int = 0,
    message_id: str = "m1",
    causation_id: str | None = None,
    saga_id: str | None = None,
) -> InboundRecord:
    env = Envelope.new(
        type=event.event_type, source="t", schema_ref=CODEC.schema_ref(type(event)),
        message_id=message_id, causation_id=causation_id, saga_id=saga_id,
    )  # fmt: skip
    topic = "t-orders.events" if isinstance(event, OrderPlaced) else "t-inventory.events"
    return InboundRecord(topic, partition, offset, 0, b"o1", CODEC.encode(event),
                         tuple(env.to_headers()))  # fmt: skip


def placed(order_id: str = "o1") -> OrderPlaced:
    return OrderPlaced(order_id=order_id, customer_id="c", items=[OrderLine(sku="s", quantity=1)],
                       amount_cents=5, currency="EUR")  # fmt: skip


def routed(rec: InboundRecord) -> Routed:
    r = ROUTER.route(rec)
    assert isinstance(r, Routed), r
    return r


Setup = tuple[MemorySagaStore, BatchProcessor, OwnedPartition]


@pytest.fixture
async def setup() -> Setup:
    store = MemorySagaStore()
    encoder = OutboundEncoder(CODEC, source="test", transitions_topic=None)
    processor = BatchProcessor(TOPOLOGY, store, encoder, clock=lambda: 100.0)
    owner = OwnedPartition(HOME, await store.acquire(HOME))
    return store, processor, owner


async def state_of(store: MemorySagaStore, saga_id: str) -> SagaState:
    [row] = await store.load_many(HOME, [saga_id])
    assert row is not None
    return SagaState.from_json(row.state_json)


async def test_a_start_is_applied_and_its_command_is_in_the_outbox(setup: Setup) -> None:
    store, processor, owner = setup
    result = await processor.process(owner, [routed(record(placed()))])
    assert [a.decision.state.status for a in result.applied] == [SagaStatus.RUNNING]  # type: ignore[union-attr]
    [(_, command)] = await store.outbox_pending(HOME)
    assert command.topic == "t-inventory.commands"
    assert command.rearm is not None  # its step timeout is re-armed when it is sent
    assert (await state_of(store, "o1")).version == 1


async def test_a_redelivered_input_is_a_duplicate_and_changes_nothing(setup: Setup) -> None:
    store, processor, owner = setup
    await processor.process(owner, [routed(record(placed()))])
    owner.forget("o1")  # as after a restart: nothing cached
    again = await processor.process(owner, [routed(record(placed()))])
    assert (again.duplicates, again.applied) == (1, [])
    assert len(await store.outbox_pending(HOME)) == 1
    assert (await state_of(store, "o1")).version == 1


async def test_a_stale_cache_loses_the_compare_and_set_and_decides_again(setup: Setup) -> None:
    store, processor, owner = setup
    await processor.process(owner, [routed(record(placed()))])
    stale = owner.cached("o1")
    assert stale is not None
    [(_, cmd)] = await store.outbox_pending(HOME)
    command_id = dict(cmd.headers)["dirigent-id"].decode()
    reply = StockReserved(order_id="o1", reservation_id="r1")
    await processor.process(owner, [routed(record(reply, message_id="m2", saga_id="o1",
                                                  causation_id=command_id))])  # fmt: skip
    owner.remember("o1", stale)  # someone (a zombie's leftovers) left an old version here
    late = await processor.process(owner, [routed(record(reply, message_id="m3", saga_id="o1",
                                                         causation_id=command_id))])  # fmt: skip
    # Reloaded after the conflict: the reply is recognised as already taken, not re-applied.
    assert [a.decision.ignored for a in late.applied] == [
        "step 'reserve_stock' is SUCCEEDED: shop.inventory.StockReserved changes nothing"
    ]
    assert (await state_of(store, "o1")).version == 2


async def test_a_newer_owner_fences_the_batch_out(setup: Setup) -> None:
    store, processor, owner = setup
    await store.acquire(HOME)  # another coordinator took the partition
    with pytest.raises(FencedOut):
        await processor.process(owner, [routed(record(placed()))])
    assert await store.load_many(HOME, ["o1"]) == [None]


async def test_an_input_on_the_wrong_partition_is_forwarded_not_applied(setup: Setup) -> None:
    store, processor, _ = setup
    elsewhere = (HOME + 1) % PARTITIONS
    owner = OwnedPartition(elsewhere, await store.acquire(elsewhere))
    rec = record(placed(), partition=elsewhere)
    result = await processor.process(owner, [routed(rec)])
    assert (result.forwarded, result.applied) == (1, [])
    assert await store.load_many(elsewhere, ["o1"]) == [None]
    [(_, fwd)] = await store.outbox_pending(elsewhere)
    assert fwd == OutboxRecord(rec.topic, b"o1", rec.value or b"", rec.headers, partition=HOME)
    again = await processor.process(owner, [routed(rec)])  # redelivered: forwarded once
    assert again.duplicates == 1


async def test_a_reply_for_no_saga_is_an_orphan_and_not_marked_seen(setup: Setup) -> None:
    store, processor, owner = setup
    reply = StockReserved(order_id="o1", reservation_id="r1")
    result = await processor.process(owner, [routed(record(reply, saga_id="o1"))])
    assert [o.reason for o in result.orphans] == [f"orphan reply: no saga 'o1' on partition {HOME}"]
    assert result.applied == []
    assert await store.outbox_pending(HOME) == []
