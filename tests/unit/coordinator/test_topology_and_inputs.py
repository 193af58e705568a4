import pytest

from dirigent.coordinator import Topology
from dirigent.coordinator.inputs import Poison, Routed, route_record
from dirigent.errors import SagaDefinitionError
from dirigent.events import DEFAULT_LIMITS, Envelope, SchemaCatalog, SingleObjectCodec
from dirigent.saga import EventReceived
from dirigent.transport import InboundRecord
from sagas.contracts.shop import OrderLine, OrderPlaced, StockReserved
from sagas.order_fulfilment import build_order_fulfilment

SAGA = build_order_fulfilment(prefix="t-")
TOPOLOGY = Topology.of([SAGA])
CODEC = SingleObjectCodec(SchemaCatalog(), models=TOPOLOGY.models)
PLACED = OrderPlaced(
    order_id="o1", customer_id="c", items=[OrderLine(sku="s", quantity=1)],
    amount_cents=5, currency="EUR",
)  # fmt: skip


def record(event: object, *, saga_id: str | None = "o1", value: bytes | None = None,
           headers: tuple[tuple[str, bytes], ...] | None = None) -> InboundRecord:  # fmt: skip
    env = Envelope.new(type=event.event_type, source="t", saga_id=saga_id,  # type: ignore[attr-defined]
                       schema_ref=CODEC.schema_ref(type(event)))  # type: ignore[arg-type]  # fmt: skip
    return InboundRecord(
        "t-orders.events", 0, 7, 0, b"o1",
        CODEC.encode(event) if value is None else value,  # type: ignore[arg-type]
        tuple(env.to_headers()) if headers is None else headers,
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
    routed = route_record(record(PLACED, saga_id=None), TOPOLOGY, CODEC, DEFAULT_LIMITS)
    assert isinstance(routed, Routed)
    assert routed.saga_id == "o1"
    assert routed.definition is SAGA
    assert isinstance(routed.input, EventReceived)


def test_reply_without_saga_id_is_poison_naming_the_header() -> None:
    reply = StockReserved(order_id="o1", reservation_id="r")
    routed = route_record(record(reply, saga_id=None), TOPOLOGY, CODEC, DEFAULT_LIMITS)
    assert isinstance(routed, Poison)
    assert "dirigent-saga-id" in str(routed.error)


def test_garbage_body_and_missing_headers_are_poison() -> None:
    bad_body = route_record(record(PLACED, value=b"\xc3\x01nope"), TOPOLOGY, CODEC, DEFAULT_LIMITS)
    assert isinstance(bad_body, Poison)
    no_headers = route_record(record(PLACED, headers=()), TOPOLOGY, CODEC, DEFAULT_LIMITS)
    assert isinstance(no_headers, Poison)
    assert "missing envelope header" in str(no_headers.error)


def test_events_no_saga_cares_about_are_skipped() -> None:
    env = Envelope.new(type="shop.orders.Other", source="t", schema_ref="fp:" + "0" * 16)
    rec = InboundRecord("t-orders.events", 0, 1, 0, None, b"x", tuple(env.to_headers()))
    assert route_record(rec, TOPOLOGY, CODEC, DEFAULT_LIMITS) is None
