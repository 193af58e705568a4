"""The compensation check compares each step's failure with the author's table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import pytest

from dirigent.events import Event
from dirigent.saga import SagaStatus, StepKind, define_saga, initiating, wait_for
from dirigent.testing import (
    CompensationReport,
    Outcome,
    ScriptedReply,
    assert_compensates_every_step,
    check_compensations,
)
from sagas.contracts.shop import (
    OrderApproved,
    OrderLine,
    OrderPlaced,
    PaymentAuthorized,
    PaymentDeclined,
    PaymentVoided,
    ShipmentFailed,
    ShipmentScheduled,
    StockReleased,
    StockReservationFailed,
    StockReserved,
)
from sagas.order_fulfilment import order_fulfilment
from tests.unit.saga.saga_fixtures import (
    Cmd,
    Failed,
    Ok,
    Started,
    Undone,
    comp,
    linear_saga,
    step,
)

LINEAR = linear_saga()  # a, b (compensatable) -> p (pivot) -> r (retriable, 2 attempts)
OK = {name: Ok(saga="s") for name in LINEAR.steps}
UNDONE = {"a": Undone(saga="s"), "b": Undone(saga="s")}
BY_SILENCE = {
    "a": Outcome("COMPENSATED", "a"),  # a timed-out step may have happened: undone too
    "b": Outcome("COMPENSATED", "b", "a"),
    "p": Outcome("PARKED"),  # a silent pivot is never compensated blindly
    "r": Outcome("PARKED"),
}


def _check(
    expected: Mapping[str, Outcome], failures: Mapping[str, ScriptedReply] | None = None
) -> CompensationReport:
    return assert_compensates_every_step(
        LINEAR,
        Started(saga="s"),
        expected=expected,
        success_replies=OK,
        compensation_replies=UNDONE,
        failure_replies=failures,
    )


def test_a_correct_table_passes_and_the_report_shows_every_row() -> None:
    report = _check(BY_SILENCE)
    assert report.ok
    assert report.failures == []
    lines = str(report).splitlines()
    assert lines[0] == "saga 'linear', each step failed in turn: all ok"
    assert lines[1].split() == ["step", "failed", "by", "expected", "actual"]
    assert lines[3].split() == ["ok", "b", "timeout", *["COMPENSATED", "['b',", "'a']"] * 2]


def test_failure_replies_mean_the_step_did_not_happen() -> None:
    failed = Failed(saga="s")
    _check(
        {
            "a": Outcome("COMPENSATED"),
            "b": Outcome("COMPENSATED", "a"),
            "p": Outcome("COMPENSATED", "b", "a"),
            "r": Outcome("FAILED"),  # after the pivot: nothing to undo, it failed for good
        },
        failures=dict.fromkeys(LINEAR.steps, failed),
    )


def test_a_wrong_order_fails_naming_the_step() -> None:
    with pytest.raises(AssertionError) as info:
        _check({**BY_SILENCE, "b": Outcome("COMPENSATED", "a", "b")})
    lines = str(info.value).splitlines()
    assert lines[0] == "saga 'linear', each step failed in turn: 1 of 4 FAIL"
    (row,) = [line for line in lines if line.lstrip().startswith("FAIL")]
    assert row.split()[:3] == ["FAIL", "b", "timeout"]
    assert "COMPENSATED ['a', 'b']  COMPENSATED ['b', 'a']" in row
    assert "reason: step 'b'" in str(info.value)


def test_a_wrong_status_fails_naming_the_step() -> None:
    with pytest.raises(AssertionError, match=r"FAIL  p +timeout +COMPENSATED \[\] +PARKED \[\]"):
        _check({**BY_SILENCE, "p": Outcome("COMPENSATED")})


def test_a_step_missing_from_the_table_fails_naming_it() -> None:
    table = {name: outcome for name, outcome in BY_SILENCE.items() if name != "r"}
    with pytest.raises(AssertionError, match=r"FAIL  r +timeout +\(not in the table\) +PARKED"):
        _check(table)


def test_a_table_entry_naming_no_step_fails_naming_it() -> None:
    with pytest.raises(AssertionError) as info:
        _check({**BY_SILENCE, "q": Outcome("PARKED")})
    assert "FAIL  q     -" in str(info.value)
    assert "(no such step)" in str(info.value)
    assert "the steps that can fail: a, b, p, r" in str(info.value)


def test_check_compensations_returns_the_failing_rows_instead_of_raising() -> None:
    report = check_compensations(
        LINEAR,
        Started(saga="s"),
        expected={"a": BY_SILENCE["a"], "zz": Outcome("PARKED")},
        success_replies=OK,
        compensation_replies=UNDONE,
    )
    assert report.failures == ["b", "p", "r", "zz"]
    assert [c.actual for c in report.cases] == list(BY_SILENCE.values())


def test_outcome_takes_a_status_name_and_one_step_name_per_argument() -> None:
    assert Outcome("PARKED") == Outcome(SagaStatus.PARKED)
    assert str(Outcome("COMPENSATED", "b", "a")) == "COMPENSATED ['b', 'a']"
    with pytest.raises(ValueError, match="no saga status 'COMPENSATE'"):
        Outcome("COMPENSATE")
    with pytest.raises(TypeError, match="one per argument, not"):
        Outcome("COMPENSATED", ("b", "a"))  # type: ignore[arg-type]


def test_a_table_value_that_is_not_an_outcome_is_refused_naming_the_step() -> None:
    table: dict[str, object] = {**BY_SILENCE, "p": ("PARKED", ())}
    with pytest.raises(TypeError, match=r"expected\['p'\] is \('PARKED', \(\)\)"):
        _check(table)  # type: ignore[arg-type]


def test_a_callable_reply_gets_the_command_event_it_answers() -> None:
    seen: list[Event] = []

    def refuse(command: Event) -> Event:
        seen.append(command)
        return Failed(saga="s")

    _check({**BY_SILENCE, "a": Outcome("COMPENSATED")}, failures={"a": refuse})
    assert seen == [Cmd(saga="s", what="a")]


def test_reply_maps_must_name_steps_and_give_every_reply_needed() -> None:
    start = Started(saga="s")
    with pytest.raises(ValueError, match=r"failure_replies of saga 'linear': 'bb' names no step"):
        check_compensations(
            LINEAR, start, expected=BY_SILENCE, success_replies=OK,
            compensation_replies=UNDONE, failure_replies={"bb": Failed(saga="s")},
        )  # fmt: skip
    with pytest.raises(ValueError, match=r"compensation_replies .*'p' names no step"):
        check_compensations(
            LINEAR, start, expected=BY_SILENCE, success_replies=OK,
            compensation_replies={**UNDONE, "p": Undone(saga="s")},
        )  # fmt: skip
    with pytest.raises(ValueError, match="no compensation reply given for step 'a'"):
        check_compensations(
            LINEAR, start, expected=BY_SILENCE, success_replies=OK, compensation_replies={}
        )


def test_a_scripted_reply_the_engine_ignores_is_an_error() -> None:
    with pytest.raises(ValueError, match="failure reply given for step 'a' was ignored"):
        _check(BY_SILENCE, failures={"a": Undone(saga="s")})  # not a reply step a takes


def test_order_fulfilment_failed_by_replies() -> None:
    # A failure reply means the step did not happen, so it is not compensated; a failed
    # pivot undoes everything before it. approve_order has no failure reply: it times out
    # after the pivot, and the saga parks.
    assert_compensates_every_step(
        order_fulfilment,
        OrderPlaced(
            order_id="o-1",
            customer_id="c-1",
            items=[OrderLine(sku="sku-1", quantity=2)],
            amount_cents=4200,
            currency="EUR",
        ),
        expected={
            "reserve_stock": Outcome("COMPENSATED"),
            "authorize_payment": Outcome("COMPENSATED", "reserve_stock"),
            "schedule_shipment": Outcome("COMPENSATED", "authorize_payment", "reserve_stock"),
            "approve_order": Outcome("PARKED"),
        },
        success_replies={
            "reserve_stock": StockReserved(order_id="o-1", reservation_id="r-1"),
            "authorize_payment": PaymentAuthorized(order_id="o-1", authorization_id="a-1"),
            "schedule_shipment": ShipmentScheduled(order_id="o-1", shipment_id="sh-1"),
            "approve_order": OrderApproved(order_id="o-1"),
        },
        compensation_replies={
            "reserve_stock": StockReleased(order_id="o-1"),
            "authorize_payment": PaymentVoided(order_id="o-1"),
        },
        failure_replies={
            "reserve_stock": StockReservationFailed(order_id="o-1", reason="none left"),
            "authorize_payment": PaymentDeclined(order_id="o-1", reason="card expired"),
            "schedule_shipment": ShipmentFailed(order_id="o-1", reason="no carrier"),
        },
    )


class Paid(Event):
    event_type: ClassVar[str] = "test.Paid"
    saga: str


CONSTRUCTS = define_saga(
    "constructs",
    start=Started,
    saga_id="saga",
    steps=[
        initiating("create", compensation=comp("create")),
        step("a"),
        wait_for("paid", event=Paid, topic="pay.events", correlate="saga", timeout_s=60),
        step("big", when=lambda d: d["amount"] > 100),
        step("p", StepKind.PIVOT),
    ],
)


def test_initiating_steps_waits_and_skipped_steps() -> None:
    report = assert_compensates_every_step(
        CONSTRUCTS,
        Started(saga="s"),  # amount 1: "big" is skipped
        expected={
            "a": Outcome("COMPENSATED", "a", "create"),  # the initiating step is undone last
            "paid": Outcome("COMPENSATED", "a", "create"),  # a wait is never compensated
            "big": Outcome("COMPLETED"),  # skipped, so it cannot fail
            "p": Outcome("PARKED"),
        },
        success_replies={"a": Ok(saga="s"), "paid": Paid(saga="s"), "p": Ok(saga="s")},
        compensation_replies={"create": Undone(saga="s"), "a": Undone(saga="s")},
    )
    assert [c.how for c in report.cases] == ["timeout", "timeout", "skipped (when=)", "timeout"]


def test_an_initiating_step_in_the_table_is_a_stray_entry() -> None:
    with pytest.raises(AssertionError, match=r"FAIL  create +- .*\(initiating: cannot fail\)"):
        assert_compensates_every_step(
            CONSTRUCTS,
            Started(saga="s"),
            expected={
                "create": Outcome("COMPENSATED", "create"),
                "a": Outcome("COMPENSATED", "a", "create"),
                "paid": Outcome("COMPENSATED", "a", "create"),
                "big": Outcome("COMPLETED"),
                "p": Outcome("PARKED"),
            },
            success_replies={"a": Ok(saga="s"), "paid": Paid(saga="s"), "p": Ok(saga="s")},
            compensation_replies={"create": Undone(saga="s"), "a": Undone(saga="s")},
        )
