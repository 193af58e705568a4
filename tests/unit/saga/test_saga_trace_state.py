"""A saga's trace context in its stored state: kept when there is one, absent otherwise."""

from __future__ import annotations

import json

from dirigent.saga import EventReceived, SagaState, SagaTrace, decide
from sagas.contracts.shop import OrderLine, OrderPlaced, StockReserved
from sagas.order_fulfilment import build_order_fulfilment

SAGA = build_order_fulfilment()
TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def placed() -> OrderPlaced:
    return OrderPlaced(order_id="o1", customer_id="c", items=[OrderLine(sku="s", quantity=1)],
                       amount_cents=5, currency="EUR")  # fmt: skip


def test_a_state_without_a_trace_is_written_as_before() -> None:
    d = decide(SAGA, None, EventReceived("m1", placed()), now=10.0)
    assert d.state is not None
    assert d.state.trace is None
    assert "tp" not in json.loads(d.state.to_json())


def test_an_old_state_document_loads_with_no_trace() -> None:
    d = decide(SAGA, None, EventReceived("m1", placed()), now=10.0)
    assert d.state is not None
    doc = json.loads(d.state.to_json())
    assert SagaState.from_json(json.dumps(doc)) == d.state


def test_the_trace_survives_the_engine_and_records_when_each_attempt_began() -> None:
    trace = SagaTrace(TP, parent="00f067aa0ba902b7")
    started = decide(SAGA, None, EventReceived("m1", placed(), trace=trace), now=10.0)
    assert started.state is not None
    assert started.state.trace == SagaTrace(TP, "00f067aa0ba902b7", {"reserve_stock": 10.0})
    [cmd] = started.commands
    reply = EventReceived("m2", StockReserved(order_id="o1", reservation_id="r"), cmd.command_id)
    moved = decide(SAGA, started.state, reply, now=12.5)
    assert moved.state is not None
    assert moved.state.trace is not None
    assert moved.state.trace.sent == {"reserve_stock": 10.0, "authorize_payment": 12.5}
    assert SagaState.from_json(moved.state.to_json()) == moved.state
