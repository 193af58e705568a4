import pytest

from dirigent.coordinator import Topology
from dirigent.coordinator.inputs import Poison, Routed, Router
from dirigent.errors import SagaDefinitionError
from dirigent.events import DEFAULT_LIMITS, Envelope, SchemaCatalog, SingleObjectCodec
from dirigent.saga import EventReceived
from dirigent.transport import InboundRecord
from dirigent.transport.reader import partition_for
from sagas.contracts.shop import OrderLine, OrderPlaced, StockReserved
from sagas.order_fulfilment import build_order_fulfilment

SAGA = build_order_fulfilment(prefix="t-")
TOPOLOGY = Topology.of([SAGA])
CODEC = SingleObjectCodec(SchemaCatalog(), models=TOPOLOGY.models)
PARTITIONS = 6
HOME = partition_for("o1", PARTITIONS)
ROUTER = Router(TOPOLOGY, CODEC, DEFAULT_LIMITS, dict.fromkeys(TOPOLOGY.input_topics, PARTITIONS))
PLACED = OrderPlaced(
    order_id="o1", customer_id="c", items=[OrderLine(sku="s", quantity=1)],
    amount_cents=5, currency="EUR",
)  # fmt: skip


def record(event: object, *, saga_id: str | None = "o1", value: bytes | None = None,
           headers: tuple[tuple[str, bytes], ...] | None = None, partition: int = HOME,
           defect: str | None = None) -> InboundRecord:  # fmt: skip
    env = Envelope.new(type=event.event_type, source="t", saga_id=saga_id,  # type: ignore[attr-defined]
                       schema_ref=CODEC.schema_ref(type(event)))  # type: ignore[arg-type]  # fmt: skip
    return InboundRecord(
        "t-orders.events", partition, 7, 0, b"o1",
        CODEC.encode(event) if value is None else value,  # type: ignore[arg-type]
        tuple(env.to_headers()) if headers is None else headers, defect,
    )  # fmt: skip


def test_topology_reads_reply_topics_by_convention() -> None:
    assert TOPOLOGY.input_topics == (
        "t-inventory.events", "t-orders.events", "t-payments.events", "t-shipping.events",
    )  # fmt: skip
    assert TOPOLOGY.by_start[OrderPlaced.event_type] is SAGA


def test_two_sagas_starting_on_one_event_are_refused() -> None:
    other = build_order_fulfilment(prefix="u-")
    with pytest.raises(SagaDefinitionError, match="order_fulfilment"):
        Topology.of([SAGA, other])


def test_start_event_routes_to_its_saga_with_derived_id() -> None:
    routed = ROUTER.route(record(PLACED, saga_id=None))
    assert isinstance(routed, Routed)
    assert routed.saga_id == "o1"
    assert routed.definition is SAGA
    assert routed.forward_to is None
    assert isinstance(routed.input, EventReceived)


@pytest.mark.parametrize("landed", [p for p in range(PARTITIONS) if p != HOME])
def test_an_input_on_another_partition_is_forwarded_to_its_home(landed: int) -> None:
    routed = ROUTER.route(record(PLACED, saga_id=None, partition=landed))
    assert isinstance(routed, Routed)
    assert routed.forward_to == HOME  # never applied where a foreign partitioner put it
    reply = ROUTER.route(record(StockReserved(order_id="o1", reservation_id="r"),
                                partition=landed))  # fmt: skip
    assert isinstance(reply, Routed)
    assert reply.forward_to == HOME


def test_reply_without_saga_id_is_poison_naming_the_header() -> None:
    reply = StockReserved(order_id="o1", reservation_id="r")
    routed = ROUTER.route(record(reply, saga_id=None))
    assert isinstance(routed, Poison)
    assert "dirigent-saga-id" in str(routed.error)


def test_garbage_body_and_missing_headers_are_poison() -> None:
    bad_body = ROUTER.route(record(PLACED, value=b"\xc3\x01nope"))
    assert isinstance(bad_body, Poison)
    no_headers = ROUTER.route(record(PLACED, headers=()))
    assert isinstance(no_headers, Poison)
    assert "missing envelope header" in str(no_headers.error)


def test_a_record_the_consumer_could_not_read_is_poison_naming_the_defect() -> None:
    routed = ROUTER.route(record(PLACED, defect="header name(s) not valid UTF-8: '\\udcff'"))
    assert isinstance(routed, Poison)
    assert "t-orders.events[" in str(routed.error)
    assert "not valid UTF-8" in str(routed.error)


def test_a_type_no_saga_knows_is_poison_unless_ignored_on_purpose() -> None:
    env = Envelope.new(type="shop.orders.Other", source="t", schema_ref="fp:" + "0" * 16)
    rec = InboundRecord("t-orders.events", 0, 1, 0, None, b"x", tuple(env.to_headers()))
    routed = ROUTER.route(rec)
    assert isinstance(routed, Poison)
    assert "no saga starts on or awaits shop.orders.Other" in str(routed.error)
    ignoring = Router(TOPOLOGY, CODEC, DEFAULT_LIMITS, ROUTER.partitions,
                      frozenset({"shop.orders.Other"}))  # fmt: skip
    assert ignoring.route(rec) is None
