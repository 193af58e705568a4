"""The authoring constructs: initiating and read-only steps, conditions, waits, typed data."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from dirigent.errors import SagaCodeError, SagaDefinitionError
from dirigent.events import Event
from dirigent.saga import (
    EventReceived,
    OnTimeout,
    RetryPolicy,
    SagaDefinition,
    SagaStatus,
    Step,
    StepKind,
    StepStatus,
    decide,
    define_saga,
    initiating,
    parallel,
    wait_for,
)
from dirigent.testing import SagaHarness
from tests.unit.saga.saga_fixtures import Cmd, Failed, Ok, Started, Undone, comp, step


class Paid(Event):
    event_type: ClassVar[str] = "test.Paid"
    order: str
    amount: int = 0


class Declined(Event):
    event_type: ClassVar[str] = "test.Declined"
    saga: str
    reason: str = ""


def _saga(*steps: Any, **kw: Any) -> SagaDefinition:
    return define_saga("constructs", start=Started, saga_id="saga", steps=list(steps), **kw)


def _cmds(h: SagaHarness) -> list[str]:
    return [c.event.what for c in h.sent if isinstance(c.event, Cmd)]


# -- the initiating transaction ---------------------------------------------------------


def test_the_initiating_step_is_done_at_start_and_compensated_last() -> None:
    saga = _saga(initiating("create", compensation=comp("create")), step("a"), step("b"),
                 step("p", StepKind.PIVOT))  # fmt: skip
    h = SagaHarness(saga)
    h.start(Started(saga="s1"))
    assert h.step_status("create") is StepStatus.SUCCEEDED
    assert _cmds(h) == ["a"]  # nothing is sent for the initiating step
    h.reply(Ok(saga="s1"))
    h.reply(Failed(saga="s1"))  # b fails: undo a, then the initiating transaction
    h.reply(_undone())
    h.reply(_undone())
    assert _cmds(h) == ["a", "b", "undo-a", "undo-create"]
    assert h.status is SagaStatus.COMPENSATED


def _undone() -> Event:
    return Undone(saga="s1")


def test_an_initiating_step_must_come_first_and_have_a_compensation() -> None:
    with pytest.raises(SagaDefinitionError, match="'late': an initiating step must come first"):
        _saga(step("a"), initiating("late", compensation=comp("late")))


# -- read-only steps --------------------------------------------------------------------


def test_a_read_only_step_sends_nothing_when_the_saga_compensates() -> None:
    check = Step(name="check", command=lambda d: Cmd(saga=d["saga"], what="check"),
                 topic="check.commands", success=(Ok,), failure=(Failed,),
                 read_only=True)  # fmt: skip
    h = SagaHarness(_saga(step("a"), check, step("b"), step("p", StepKind.PIVOT)))
    h.start(Started(saga="s1"))
    h.reply(Ok(saga="s1"))  # a
    h.reply(Ok(saga="s1"))  # check
    h.reply(Failed(saga="s1"))  # b
    h.reply(_undone())
    assert _cmds(h) == ["a", "check", "b", "undo-a"]
    assert h.status is SagaStatus.COMPENSATED


def test_read_only_is_explicit_and_validated() -> None:
    bare = Step(name="x", command=lambda d: Cmd(saga="s", what="x"), topic="x.commands",
                success=(Ok,))  # fmt: skip
    with pytest.raises(SagaDefinitionError, match=r"'x': .*read_only=True if it changes nothing"):
        _saga(bare)
    both = Step(name="y", command=lambda d: Cmd(saga="s", what="y"), topic="y.commands",
                success=(Ok,), read_only=True, compensation=comp("y"))  # fmt: skip
    with pytest.raises(SagaDefinitionError, match="'y': a read-only step changes nothing"):
        _saga(both)


# -- conditions -------------------------------------------------------------------------


def test_a_false_condition_skips_the_step_records_it_and_never_compensates_it() -> None:
    saga = _saga(step("a"), step("big", when=lambda d: d["amount"] > 100), step("b"),
                 step("p", StepKind.PIVOT))  # fmt: skip
    h = SagaHarness(saga)
    h.start(Started(saga="s1", amount=5))
    decision = h.reply(Ok(saga="s1"))  # a succeeded: big is skipped, b is sent
    assert h.step_status("big") is StepStatus.SKIPPED
    assert decision.transition is not None
    assert decision.transition.skipped == ("big",)
    h.reply(Failed(saga="s1"))  # b fails
    h.reply(_undone())
    assert _cmds(h) == ["a", "b", "undo-a"]
    assert h.status is SagaStatus.COMPENSATED


def test_a_true_condition_runs_the_step() -> None:
    h = SagaHarness(_saga(step("big", when=lambda d: d["amount"] > 100), step("p", StepKind.PIVOT)))
    h.start(Started(saga="s1", amount=500))
    assert _cmds(h) == ["big"]


def test_a_group_condition_skips_every_sibling_and_a_skipped_last_step_completes() -> None:
    saga = _saga(step("p", StepKind.PIVOT),
                 parallel("g", step("x", StepKind.RETRIABLE), step("y", StepKind.RETRIABLE),
                          when=lambda d: d["amount"] > 100))  # fmt: skip
    h = SagaHarness(saga)
    h.start(Started(saga="s1", amount=1))
    h.reply(Ok(saga="s1"))
    assert h.step_status("x") is StepStatus.SKIPPED
    assert h.step_status("y") is StepStatus.SKIPPED
    assert h.status is SagaStatus.COMPLETED


def test_a_condition_that_returns_no_bool_fails_naming_saga_and_step() -> None:
    h = SagaHarness(_saga(step("odd", when=lambda d: None), step("p", StepKind.PIVOT)))
    with pytest.raises(SagaCodeError, match=r"saga 'constructs', step 'odd': condition.*NoneType"):
        h.start(Started(saga="s1"))


# -- waits for business events ----------------------------------------------------------


def _wait(on_timeout: OnTimeout = OnTimeout.FAIL) -> Step:
    def keep(d: Any, e: Event) -> Any:
        assert isinstance(e, Paid)
        return {**d, "paid": e.amount}

    return wait_for("paid", event=Paid, topic="payments.events", correlate="order",
                    timeout_s=60, on_timeout=on_timeout, on_event=keep)  # fmt: skip


def test_a_wait_completes_on_its_event_and_the_saga_moves_on() -> None:
    h = SagaHarness(_saga(step("a"), _wait(), step("p", StepKind.PIVOT)))
    h.start(Started(saga="s1"))
    h.reply(Ok(saga="s1"))
    assert h.step_status("paid") is StepStatus.RUNNING
    assert _cmds(h) == ["a"]
    h.deliver(Paid(order="s1", amount=42))  # no causation id: correlated by the order field
    assert h.step_status("paid") is StepStatus.SUCCEEDED
    assert h.data["paid"] == 42
    assert _cmds(h) == ["a", "p"]


def test_an_event_that_comes_before_its_wait_is_kept_for_it() -> None:
    h = SagaHarness(_saga(step("a"), _wait(), step("p", StepKind.PIVOT)))
    h.start(Started(saga="s1"))
    h.deliver(Paid(order="s1", amount=7))
    assert h.step_status("paid") is StepStatus.PENDING
    h.reply(Ok(saga="s1"))  # a: the wait is reached and completed at once
    assert h.step_status("paid") is StepStatus.SUCCEEDED
    assert h.data["paid"] == 7
    assert _cmds(h) == ["a", "p"]
    assert h.deliver(Paid(order="s1", amount=7)).ignored  # a second one changes nothing


def test_a_wait_that_times_out_fails_the_saga_back() -> None:
    h = SagaHarness(_saga(step("a"), _wait(OnTimeout.FAIL), step("p", StepKind.PIVOT)))
    h.start(Started(saga="s1"))
    h.reply(Ok(saga="s1"))
    h.advance(61)
    assert h.step_status("paid") is StepStatus.FAILED
    assert h.status is SagaStatus.COMPENSATING
    assert "no test.Paid within 60" in (h.reason or "")
    assert _cmds(h) == ["a", "undo-a"]


def test_a_wait_declared_to_continue_goes_on_without_the_event() -> None:
    h = SagaHarness(_saga(step("a"), _wait(OnTimeout.CONTINUE), step("p", StepKind.PIVOT)))
    h.start(Started(saga="s1"))
    h.reply(Ok(saga="s1"))
    h.advance(61)
    assert h.step_status("paid") is StepStatus.TIMED_OUT
    assert _cmds(h) == ["a", "p"]
    assert h.deliver(Paid(order="s1")).ignored  # too late: the wait is over


def test_a_deadline_during_a_wait_stops_waiting_and_compensates() -> None:
    h = SagaHarness(_saga(step("a"), _wait(), step("p", StepKind.PIVOT), deadline_s=30))
    h.start(Started(saga="s1"))
    h.reply(Ok(saga="s1"))
    h.advance(31)
    assert h.step_status("paid") is StepStatus.CANCELLED
    assert _cmds(h) == ["a", "undo-a"]


def test_an_event_that_correlates_to_another_saga_changes_nothing() -> None:
    h = SagaHarness(_saga(step("a"), _wait(), step("p", StepKind.PIVOT)))
    h.start(Started(saga="s1"))
    h.reply(Ok(saga="s1"))
    d = decide(h.definition, h.state, EventReceived("m", Paid(order="s2")), now=1.0)
    assert d.ignored == "test.Paid correlates to saga 's2', not 's1'"


def test_an_awaited_type_that_is_also_a_compensation_reply_is_named_as_such() -> None:
    with pytest.raises(SagaDefinitionError, match=r"test\.Undone is awaited here but compensated"):
        _saga(step("a"), wait_for("w", event=Undone, topic="t", correlate="saga", timeout_s=1))


def test_a_wait_correlation_field_must_exist_on_the_event() -> None:
    with pytest.raises(SagaDefinitionError, match="Paid has no correlation field 'nope'"):
        _saga(wait_for("w", event=Paid, topic="t", correlate="nope", timeout_s=1))


# -- typed data, failure data and reasons -----------------------------------------------


class Order(BaseModel):
    saga: str
    amount: int
    card: str | None = None
    declines: int = 0


def _typed(**kw: Any) -> SagaDefinition:
    def remember(d: Order, e: Event) -> Order:
        assert isinstance(d, Order)
        return d.model_copy(update={"card": "c-1"})

    def count(d: Order, e: Event) -> Order:
        return d.model_copy(update={"declines": d.declines + 1})

    a = Step(name="a", command=lambda d: Cmd(saga=d.saga, what=f"a:{d.amount}"),
             topic="a.commands", success=(Ok,), failure=(Declined,), compensation=comp("a"),
             on_success=remember, on_failure=count, **kw)  # fmt: skip
    b = Step(name="b", command=lambda d: Cmd(saga=d.saga, what=f"b:{d.card}"),
             topic="b.commands", success=(Ok,), kind=StepKind.PIVOT)  # fmt: skip
    return _saga(a, b, data=Order)


def test_typed_data_reaches_builders_and_updaters_as_the_model() -> None:
    h = SagaHarness(_typed())
    h.start(Started(saga="s1", amount=9))
    h.reply(Ok(saga="s1"))
    assert _cmds(h) == ["a:9", "b:c-1"]
    assert h.data == {"saga": "s1", "amount": 9, "card": "c-1", "declines": 0}


def test_a_failure_reply_updates_the_data_and_its_reason_reaches_the_saga() -> None:
    h = SagaHarness(_typed())
    h.start(Started(saga="s1", amount=9))
    h.reply(Declined(saga="s1", reason="card expired"))
    assert h.data["declines"] == 1
    assert h.status is SagaStatus.COMPENSATED
    assert "replied test.Declined: card expired" in (h.reason or "")


def test_an_update_that_breaks_the_model_fails_naming_the_updater() -> None:
    def bad(d: Any, e: Event) -> Any:
        return {"saga": d.saga, "amount": "lots"}

    saga = _saga(Step(name="a", command=lambda d: Cmd(saga=d.saga, what="a"), topic="a.commands",
                      success=(Ok,), kind=StepKind.PIVOT, on_success=bad), data=Order)  # fmt: skip
    h = SagaHarness(saga)
    h.start(Started(saga="s1"))
    with pytest.raises(SagaCodeError, match=r"step 'a': success updater .* not a valid Order"):
        h.reply(Ok(saga="s1"))


def test_a_builder_that_returns_none_fails_naming_saga_step_and_builder() -> None:
    saga = _saga(Step(name="a", command=lambda d: None, topic="a.commands",  # type: ignore[arg-type,return-value]
                      success=(Ok,), kind=StepKind.PIVOT))  # fmt: skip
    with pytest.raises(
        SagaCodeError,
        match=r"saga 'constructs', step 'a': command builder returned NoneType, expected an Event",
    ):
        SagaHarness(saga).start(Started(saga="s1"))


def test_a_builder_that_raises_is_named_with_the_error() -> None:
    saga = _saga(Step(name="a", command=lambda d: Cmd(saga=d["missing"], what="a"),
                      topic="a.commands", success=(Ok,), kind=StepKind.PIVOT))  # fmt: skip
    with pytest.raises(SagaCodeError, match=r"step 'a': command builder raised KeyError"):
        SagaHarness(saga).start(Started(saga="s1"))


# -- retry policies ---------------------------------------------------------------------


def _unbounded(deadline_s: float | None) -> SagaDefinition:
    forever = RetryPolicy(max_attempts=None, backoff_base_s=1, backoff_cap_s=2)
    r = Step(name="r", command=lambda d: Cmd(saga=d["saga"], what="r"), topic="r.commands",
             success=(Ok,), failure=(Failed,), kind=StepKind.RETRIABLE, retry=forever)  # fmt: skip
    return _saga(step("p", StepKind.PIVOT), r, deadline_s=deadline_s)


def test_unbounded_retries_go_on_past_any_count() -> None:
    h = SagaHarness(_unbounded(None))
    h.start(Started(saga="s1"))
    h.reply(Ok(saga="s1"))
    for _ in range(25):
        h.reply(Failed(saga="s1"), step="r")
        h.fire_next_timer()
    assert h.state.step("r").attempt == 26
    h.reply(Ok(saga="s1"), step="r")
    assert h.status is SagaStatus.COMPLETED


def test_unbounded_retries_stop_at_the_saga_deadline() -> None:
    h = SagaHarness(_unbounded(100))
    h.start(Started(saga="s1"))
    h.reply(Ok(saga="s1"))
    while h.status is SagaStatus.RUNNING:
        h.reply(Failed(saga="s1"), step="r")
        h.advance(3)  # past the longest backoff (2 s): the next attempt is out
    assert h.status is SagaStatus.FAILED
    assert 100 <= h.now <= 106
    assert h.state.step("r").attempt > 30


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (RetryPolicy(max_attempts=0), "max_attempts must be None or at least 1"),
        (RetryPolicy(backoff_base_s=5, backoff_cap_s=1), "backoff needs"),
        (RetryPolicy(non_retryable=(int,)), "non_retryable holds"),  # type: ignore[arg-type]
    ],
)
def test_a_bad_retry_policy_fails_at_definition_naming_saga_and_step(
    policy: RetryPolicy, message: str
) -> None:
    s = Step(name="z", command=lambda d: Cmd(saga="s", what="z"), topic="z.commands",
             success=(Ok,), kind=StepKind.PIVOT, retry=policy)  # fmt: skip
    with pytest.raises(SagaDefinitionError, match=rf"saga 'constructs', step 'z': .*{message}"):
        _saga(s)


# -- topics and participants ------------------------------------------------------------


def test_reply_topics_and_participants_follow_the_service_part_of_the_topic() -> None:
    s = Step(name="x", command=lambda d: Cmd(saga="s", what="x"), topic="shop.inventory.commands",
             success=(Ok,), kind=StepKind.PIVOT)  # fmt: skip
    assert s.participant == "shop.inventory"
    assert s.reply_topic == "shop.inventory.events"
    saga = _saga(s, _wait(), start_topic="shop.orders.events")
    assert saga.input_topics == {"shop.inventory.events", "payments.events", "shop.orders.events"}
    assert saga.command_topics == {"shop.inventory.commands"}
