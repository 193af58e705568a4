"""Operators' requests on the admin topic: routed to the saga's partition, or poison."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dirigent.coordinator import Topology
from dirigent.coordinator.inputs import Poison, Routed, Router
from dirigent.events import DEFAULT_LIMITS, Envelope, SagaAdmin, SchemaCatalog, SingleObjectCodec
from dirigent.saga import AdminAction, AdminRequested
from dirigent.transport import InboundRecord
from dirigent.transport.reader import partition_for
from sagas.order_fulfilment import build_order_fulfilment

SAGA = build_order_fulfilment(prefix="t-")
TOPOLOGY = Topology.of([SAGA])
CODEC = SingleObjectCodec(SchemaCatalog(), models=[*TOPOLOGY.models, SagaAdmin])
PARTITIONS = 6
ADMIN = "coord.admin"
ROUTER = Router(TOPOLOGY, CODEC, DEFAULT_LIMITS,
                dict.fromkeys([*TOPOLOGY.input_topics, ADMIN], PARTITIONS),
                admin_topic=ADMIN)  # fmt: skip
HOME = partition_for("o1", PARTITIONS)


def _request(action: str = "resume", *, topic: str = ADMIN, partition: int = HOME,
             saga_id: str = "o1") -> InboundRecord:  # fmt: skip
    event = SagaAdmin(saga_id=saga_id, action=action, who="ops", why="because",
                      requested_at=datetime.now(UTC))  # fmt: skip
    env = Envelope.new(type=SagaAdmin.event_type, source="ops", message_id="req-1",
                       schema_ref=CODEC.schema_ref(SagaAdmin))  # fmt: skip
    return InboundRecord(topic, partition, 0, 0, saga_id.encode(), CODEC.encode(event),
                         tuple(env.to_headers()), None)  # fmt: skip


def test_a_request_becomes_an_admin_input_for_the_saga_it_names() -> None:
    routed = ROUTER.route(_request())
    assert isinstance(routed, Routed)
    assert routed.saga_id == "o1"
    assert routed.forward_to is None
    assert routed.input == AdminRequested("req-1", AdminAction.RESUME, "ops", "because", None)
    assert routed.message_id == "req-1"  # deduplicated by its request id


@pytest.mark.parametrize("landed", [p for p in range(PARTITIONS) if p != HOME])
def test_a_request_on_another_partition_is_forwarded_to_the_sagas(landed: int) -> None:
    routed = ROUTER.route(_request(partition=landed))
    assert isinstance(routed, Routed)
    assert routed.forward_to == HOME


def test_an_unknown_action_is_poison_naming_the_known_ones() -> None:
    routed = ROUTER.route(_request("delete"))
    assert isinstance(routed, Poison)
    known = "(one of retry, compensate, abort, resume, migrate)"
    assert f"unknown saga action 'delete' {known}" in str(routed.error)


def test_a_request_on_an_event_topic_is_not_taken_as_one() -> None:
    routed = ROUTER.route(_request(topic="t-orders.events"))
    assert isinstance(routed, Poison)
    assert "no saga starts on or awaits dirigent.SagaAdmin" in str(routed.error)
