"""Business events a saga waits for: routed by correlation, forwarded home, or poison."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from dirigent.coordinator import Topology
from dirigent.coordinator.inputs import Poison, Routed, Router
from dirigent.errors import SagaDefinitionError
from dirigent.events import DEFAULT_LIMITS, Envelope, Event, SchemaCatalog, SingleObjectCodec
from dirigent.events.catalog import parse_standalone
from dirigent.saga import EventReceived, StepKind, define_saga, wait_for
from dirigent.transport import InboundRecord, Publisher
from dirigent.transport.reader import partition_for
from tests.unit.saga.saga_fixtures import Ok, Started, step

_SCHEMA = parse_standalone({
    "type": "record", "name": "TicketAccepted", "namespace": "test", "fields": [
        {"name": "order_id", "type": "string"},
        {"name": "restaurant", "type": "string", "default": "r-9"},
    ],
})  # fmt: skip


class TicketAccepted(Event, schema=_SCHEMA):
    order_id: str
    restaurant: str = "r-9"


def _saga(name: str = "kitchen", correlate: str = "order_id", start: type[Event] = Started) -> Any:
    return define_saga(name, start=start, saga_id="saga", start_topic="orders.events", steps=[
        step("a"),
        wait_for("accepted", event=TicketAccepted, topic="kitchen.events", correlate=correlate,
                 timeout_s=60),
        step("p", StepKind.PIVOT),
    ])  # fmt: skip


SAGA = _saga()
TOPOLOGY = Topology.of([SAGA])
CODEC = SingleObjectCodec(SchemaCatalog(), models=[TicketAccepted])
PARTITIONS = 4
ROUTER = Router(TOPOLOGY, CODEC, DEFAULT_LIMITS, dict.fromkeys(TOPOLOGY.input_topics, PARTITIONS))


def _record(event: Event, partition: int, key: bytes = b"r-9") -> InboundRecord:
    """As another service publishes it: no saga id, no causation, its own key."""
    env = Envelope.new(type=event.event_type, source="kitchen",
                       schema_ref=CODEC.schema_ref(type(event)))  # fmt: skip
    return InboundRecord("kitchen.events", partition, 3, 0, key, CODEC.encode(event),
                         tuple(env.to_headers()), None)  # fmt: skip


def test_the_wait_topic_and_the_start_topic_are_read() -> None:
    assert "kitchen.events" in TOPOLOGY.input_topics
    assert "orders.events" in TOPOLOGY.input_topics
    assert TOPOLOGY.start_topics == ("orders.events",)


@pytest.mark.parametrize("landed", range(PARTITIONS))
def test_an_awaited_event_routes_by_its_correlation_field_to_the_sagas_partition(
    landed: int,
) -> None:
    home = partition_for("o-7", PARTITIONS)
    routed = ROUTER.route(_record(TicketAccepted(order_id="o-7"), landed))
    assert isinstance(routed, Routed)
    assert routed.saga_id == "o-7"
    assert routed.definition is None  # not a start: the stored saga decides
    assert routed.forward_to == (None if landed == home else home)
    assert isinstance(routed.input, EventReceived)
    assert routed.input.causation_id is None


def test_an_awaited_event_that_names_no_saga_is_poison_naming_the_step() -> None:
    routed = ROUTER.route(_record(TicketAccepted(order_id=""), 0))
    assert isinstance(routed, Poison)
    assert "saga kitchen, step accepted" in str(routed.error)


def test_two_sagas_waiting_for_one_event_type_are_refused() -> None:
    class Other(Event):
        event_type: ClassVar[str] = "test.OtherStart"
        saga: str

    with pytest.raises(SagaDefinitionError, match=r"both wait for test\.TicketAccepted"):
        Topology.of([SAGA, _saga("other", start=Other)])


def test_an_awaited_type_that_is_also_a_reply_is_refused() -> None:
    replying = define_saga("replying", start=TicketAccepted, saga_id="order_id",
                           steps=[step("x", StepKind.PIVOT)])  # fmt: skip
    with pytest.raises(SagaDefinitionError, match="also a start event"):
        Topology.of([SAGA, replying])
    assert Ok.event_type in SAGA.reply_types


def test_a_publisher_given_the_sagas_keys_an_awaited_event_by_its_saga_id() -> None:
    publisher = Publisher("127.0.0.1:1", CODEC, source="kitchen", sagas=[SAGA])  # no I/O yet
    env = publisher.envelope_for(TicketAccepted(order_id="o-7"))
    assert env.saga_id == "o-7"
    assert env.record_key == b"o-7"
