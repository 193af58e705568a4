"""The harness fails where the coordinator would: unencodable commands, broken saga code."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from dirigent.errors import ContractError, SagaCodeError, UnknownSchema
from dirigent.events import Event, parse_standalone
from dirigent.saga import EventReceived, SagaDefinition, Step, StepKind, decide, define_saga
from dirigent.saga.steps import CommandBuilder
from dirigent.testing import SagaHarness


def _schema(name: str, **fields: str) -> Any:
    return parse_standalone(
        {
            "type": "record",
            "name": name,
            "namespace": "harness.parity",
            "fields": [{"name": n, "type": t} for n, t in fields.items()],
        }
    )


class Ordered(Event, schema=_schema("Ordered", order_id="string", amount_cents="long")):
    order_id: str
    amount_cents: int


class Charge(Event, schema=_schema("Charge", order_id="string", amount_millis="long")):
    order_id: str
    amount_millis: int


class Charged(Event, schema=_schema("Charged", order_id="string")):
    order_id: str


class Unbound(Event):
    """A model the author forgot to bind to a schema."""

    event_type: ClassVar[str] = "harness.parity.Unbound"
    order_id: str


def _note(d: Any) -> Charge:
    return Charge(order_id=d["order_id"], amount_millis=1)


def _saga(
    charge: CommandBuilder, first: CommandBuilder = _note, reply: type[Event] = Charged
) -> SagaDefinition:
    def step(name: str, command: CommandBuilder, kind: StepKind) -> Step:
        return Step(name=name, command=command, topic="pay.commands", success=(reply,), kind=kind)

    return define_saga(
        "parity",
        start=Ordered,
        saga_id="order_id",
        steps=[step("note", first, StepKind.PIVOT), step("charge", charge, StepKind.RETRIABLE)],
    )


ORDER = Ordered(order_id="o-1", amount_cents=100)


def _overflowing(d: Any) -> Charge:
    # cents to "millis" with a wrong factor: 10**19 does not fit an Avro long
    return Charge(order_id=d["order_id"], amount_millis=d["amount_cents"] * 10**17)


def test_a_command_value_avro_cannot_hold_fails_naming_saga_step_and_type() -> None:
    h = SagaHarness(_saga(_overflowing))
    h.start(ORDER)
    before = h.state
    with pytest.raises(ContractError) as info:
        h.reply(Charged(order_id="o-1"))
    message = str(info.value)
    assert "saga 'parity', step 'charge' (forward): command Charge cannot be encoded" in message
    assert "too large" in message  # the codec's own words follow
    assert h.state == before  # nothing of that input was stored or sent
    assert [c.step for c in h.sent] == ["note"]


def test_a_command_bound_to_no_schema_fails_like_at_the_coordinator() -> None:
    h = SagaHarness(_saga(charge=_overflowing, first=lambda d: Unbound(order_id=d["order_id"])))
    with pytest.raises(UnknownSchema, match=r"saga 'parity', step 'note'.*command Unbound"):
        h.start(ORDER)
    with pytest.raises(AssertionError, match="no saga started yet"):
        _ = h.state
    assert h.sent == []


def test_a_saga_with_an_unbound_reply_type_is_refused_like_by_the_coordinator() -> None:
    class LooseReply(Event):
        event_type: ClassVar[str] = "harness.parity.LooseReply"
        order_id: str

    with pytest.raises(UnknownSchema, match="saga 'parity' cannot run under a coordinator"):
        SagaHarness(_saga(_note, reply=LooseReply))


def _broken(d: Any) -> Charge:
    return Charge(order_id=d["no_such_key"], amount_millis=1)


def _wrong_type(d: Any) -> Charge:
    return None  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("builder", "what"),
    [(_broken, "command builder raised KeyError"), (_wrong_type, "command builder returned")],
)
def test_errors_from_saga_code_reach_the_test_as_the_engine_raised_them(
    builder: CommandBuilder, what: str
) -> None:
    definition = _saga(charge=_note, first=builder)
    with pytest.raises(SagaCodeError) as direct:
        decide(definition, None, EventReceived("m-1", ORDER), 0.0)
    h = SagaHarness(definition)
    with pytest.raises(SagaCodeError, match=f"saga 'parity', step 'note': {what}") as via:
        h.start(ORDER)
    assert type(via.value) is type(direct.value)  # not wrapped, not translated
    assert str(via.value) == str(direct.value)
    assert h.sent == []
    assert h.saga_id is None
