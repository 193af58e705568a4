"""The Create Order saga, step failure by step failure, as the book's table reads.

Expectations are written from the saga's semantics, not from engine output:

- a failure reply means the step did not happen: it is not compensated;
- silence (retries ran out) means it may have happened: a compensatable step is
  compensated, a read-only one has nothing to undo, a pivot or later step parks;
- compensations run newest first, and the initiating step (the order itself) last;
- read-only, skipped and waiting steps are never compensated;
- after the pivot nothing is undone: the remaining steps are retried.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

import sagas.create_order
from dirigent.events import Event
from dirigent.saga import (
    Command,
    EventReceived,
    Migration,
    ParallelGroup,
    Phase,
    SagaCatalog,
    SagaStatus,
    Step,
    StepStatus,
    decide,
    define_saga,
)
from dirigent.testing import SagaHarness
from sagas.contracts.ftgo import (
    ApproveTicket,
    AuthorizeCard,
    CardAuthorized,
    CardDeclined,
    ConsumerVerificationFailed,
    ConsumerVerified,
    CreateTicket,
    OrderCreated,
    OrderLineItem,
    RedeemVoucher,
    RejectTicket,
    RestoreVoucher,
    TicketAccepted,
    TicketApprovalFailed,
    TicketApproved,
    TicketCreated,
    TicketCreationFailed,
    TicketLineItem,
    TicketRejected,
    VerifyConsumer,
    VoucherRedeemed,
    VoucherRejected,
    VoucherRestored,
)
from sagas.contracts.shop import ApproveOrder, OrderApproved, OrderRejected, RejectOrder
from sagas.create_order import NO_REASON, CreateOrderData, build_create_order, create_order

ORDER = OrderCreated(
    order_id="o-1",
    consumer_id="c-1",
    restaurant_id="r-1",
    line_items=[OrderLineItem(menu_item_id="pad-thai", quantity=2)],
    total_cents=2500,
    currency="EUR",
    voucher_code="SPRING-5",
)
NO_VOUCHER = ORDER.model_copy(update={"voucher_code": None})
READY_BY = datetime(2031, 5, 4, 19, 30, tzinfo=UTC)

VERIFIED = ConsumerVerified(order_id="o-1")
TICKET = TicketCreated(order_id="o-1", ticket_id="t-1")
REDEEMED = VoucherRedeemed(order_id="o-1", discount_cents=500)
ACCEPTED = TicketAccepted(order_id="o-1", restaurant_id="r-1", ticket_id="t-1", ready_by=READY_BY)
AUTHORIZED = CardAuthorized(order_id="o-1", authorization_id="a-1")
TICKET_APPROVED = TicketApproved(order_id="o-1")
ORDER_APPROVED = OrderApproved(order_id="o-1")

# What each participant answers to an undo (all of them: "done", even with nothing to do).
UNDONE: dict[type[Event], Event] = {
    RestoreVoucher: VoucherRestored(order_id="o-1"),
    RejectTicket: TicketRejected(order_id="o-1"),
    RejectOrder: OrderRejected(order_id="o-1", reason="-"),
}

# The commands the compensations send, by what they undo.
RESTORE_VOUCHER = RestoreVoucher(order_id="o-1", voucher_code="SPRING-5")
REJECT_TICKET = RejectTicket(order_id="o-1", ticket_id="t-1")
REJECT_UNKNOWN_TICKET = RejectTicket(order_id="o-1", ticket_id=None)  # its reply never came


def reject_order(reason: str = NO_REASON) -> RejectOrder:
    return RejectOrder(order_id="o-1", reason=reason)


# -- driving the saga -------------------------------------------------------------------


def started(order: OrderCreated = ORDER) -> SagaHarness:
    h = SagaHarness(create_order)
    h.start(order)
    return h


def answer(h: SagaHarness, *events: Event) -> None:
    """Replies go to the awaited command; TicketAccepted is a business event (no causation)."""
    for e in events:
        if isinstance(e, TicketAccepted):
            h.deliver(e)
        else:
            h.reply(e)


def stay_silent(h: SagaHarness, step: str) -> None:
    """``step`` never answers: its timeouts (and the backoff between attempts) run out."""
    while h.step_status(step) in (StepStatus.RUNNING, StepStatus.RETRY_WAIT):
        assert h.fire_next_timer() is not None


def undo_everything(h: SagaHarness) -> None:
    """Every participant confirms every undo it is sent, in the order sent."""
    while h.status is SagaStatus.COMPENSATING:
        [command] = h.awaiting()
        assert command.phase is Phase.COMPENSATION
        h.reply_to(command, UNDONE[type(command.event)])


def compensations(h: SagaHarness) -> list[Event]:
    return [c.event for c in h.sent if c.phase is Phase.COMPENSATION]


def forward(h: SagaHarness) -> list[Event]:
    return [c.event for c in h.sent if c.phase is Phase.FORWARD]


def sends_of(h: SagaHarness, step: str) -> list[Command]:
    return [c for c in h.sent if c.step == step and c.phase is Phase.FORWARD]


# -- the book's table: each step that can fail, and how --------------------------------

UP_TO_VOUCHER = (VERIFIED, TICKET)
UP_TO_WAIT = (*UP_TO_VOUCHER, REDEEMED)
UP_TO_PIVOT = (*UP_TO_WAIT, ACCEPTED)


@dataclasses.dataclass(frozen=True)
class Case:
    order: OrderCreated
    before: tuple[Event, ...]  # the replies that got the saga to the failing step
    fail: Callable[[SagaHarness], object]  # how it fails
    status: SagaStatus
    undo: tuple[Event, ...]  # exactly the compensations sent, in order
    reason: tuple[str, ...]  # words the saga's reason holds


def replies(event: Event) -> Callable[[SagaHarness], object]:
    return lambda h: h.reply(event)


def silent(step: str) -> Callable[[SagaHarness], object]:
    return lambda h: stay_silent(h, step)


SUSPENDED = ConsumerVerificationFailed(order_id="o-1", reason="consumer c-1 is suspended")
CLOSED = TicketCreationFailed(order_id="o-1", reason="restaurant r-1 is closed")
EXPIRED = VoucherRejected(order_id="o-1", reason="voucher SPRING-5 expired")
DECLINED = CardDeclined(order_id="o-1", reason="insufficient funds")

BOOK_TABLE = {
    # Read-only: a refusal and a silence both leave nothing to undo but the order.
    "verify_consumer refuses": Case(
        ORDER, (), replies(SUSPENDED), SagaStatus.COMPENSATED,
        (reject_order("consumer c-1 is suspended"),),
        ("'verify_consumer'", "ConsumerVerificationFailed: consumer c-1 is suspended"),
    ),
    "verify_consumer is silent": Case(
        ORDER, (), silent("verify_consumer"), SagaStatus.COMPENSATED,
        (reject_order(),), ("'verify_consumer'", "no reply"),
    ),
    # A refusal: no ticket exists. A silence: it may exist, so it is rejected (by order id).
    "create_ticket refuses": Case(
        ORDER, (VERIFIED,), replies(CLOSED), SagaStatus.COMPENSATED,
        (reject_order("restaurant r-1 is closed"),), ("'create_ticket'", "r-1 is closed"),
    ),
    "create_ticket is silent": Case(
        ORDER, (VERIFIED,), silent("create_ticket"), SagaStatus.COMPENSATED,
        (REJECT_UNKNOWN_TICKET, reject_order()), ("'create_ticket'", "outcome unknown"),
    ),
    "redeem_voucher refuses": Case(
        ORDER, UP_TO_VOUCHER, replies(EXPIRED), SagaStatus.COMPENSATED,
        (REJECT_TICKET, reject_order("voucher SPRING-5 expired")),
        ("'redeem_voucher'", "SPRING-5 expired"),
    ),
    "redeem_voucher is silent": Case(
        ORDER, UP_TO_VOUCHER, silent("redeem_voucher"), SagaStatus.COMPENSATED,
        (RESTORE_VOUCHER, REJECT_TICKET, reject_order()), ("'redeem_voucher'", "outcome unknown"),
    ),
    # The wait: the restaurant never accepts. The wait itself has nothing to undo.
    "ticket_accepted never comes": Case(
        ORDER, UP_TO_WAIT, silent("ticket_accepted"), SagaStatus.COMPENSATED,
        (RESTORE_VOUCHER, REJECT_TICKET, reject_order()),
        ("'ticket_accepted'", "no ftgo.kitchen.TicketAccepted within 900"),
    ),
    "ticket_accepted never comes, no voucher": Case(
        NO_VOUCHER, UP_TO_VOUCHER, silent("ticket_accepted"), SagaStatus.COMPENSATED,
        (REJECT_TICKET, reject_order()), ("'ticket_accepted'",),
    ),
    # The pivot: declined, everything before it is undone; silent, nothing is guessed.
    "authorize_card declines": Case(
        ORDER, UP_TO_PIVOT, replies(DECLINED), SagaStatus.COMPENSATED,
        (RESTORE_VOUCHER, REJECT_TICKET, reject_order("insufficient funds")),
        ("'authorize_card'", "CardDeclined: insufficient funds"),
    ),
    "authorize_card declines, no voucher": Case(
        NO_VOUCHER, (VERIFIED, TICKET, ACCEPTED), replies(DECLINED), SagaStatus.COMPENSATED,
        (REJECT_TICKET, reject_order("insufficient funds")), ("insufficient funds",),
    ),
    "authorize_card is silent": Case(
        ORDER, UP_TO_PIVOT, silent("authorize_card"), SagaStatus.PARKED,
        (), ("'authorize_card'", "outcome unknown"),
    ),
    # After the pivot: retried until the saga deadline, then FAILED or PARKED, never undone.
    "approve_ticket is silent past the deadline": Case(
        ORDER, (*UP_TO_PIVOT, AUTHORIZED), silent("approve_ticket"), SagaStatus.PARKED,
        (), ("'approve_ticket'", "outcome unknown"),
    ),
    "approve_order is silent past the deadline": Case(
        ORDER, (*UP_TO_PIVOT, AUTHORIZED, TICKET_APPROVED), silent("approve_order"),
        SagaStatus.PARKED, (), ("'approve_order'", "outcome unknown"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", BOOK_TABLE.values(), ids=BOOK_TABLE.keys())
def test_the_book_table(case: Case) -> None:
    h = started(case.order)
    answer(h, *case.before)
    case.fail(h)
    undo_everything(h)
    assert h.status is case.status
    assert compensations(h) == list(case.undo)
    for words in case.reason:
        assert words in (h.reason or "")
    undone = {n for n, s in h.state.steps.items() if s.status is StepStatus.COMPENSATED}
    assert undone == {c.step for c in h.sent if c.phase is Phase.COMPENSATION}


def test_approve_ticket_refused_past_the_deadline_fails_the_saga_and_undoes_nothing() -> None:
    h = started()
    answer(h, *UP_TO_PIVOT, AUTHORIZED)
    while h.status is SagaStatus.RUNNING:
        if h.step_status("approve_ticket") is StepStatus.RUNNING:
            h.reply(TicketApprovalFailed(order_id="o-1", reason="kitchen offline"))
        else:
            h.fire_next_timer()
    assert h.status is SagaStatus.FAILED
    assert h.now >= 3600  # retried until the saga deadline, however many attempts
    assert len(sends_of(h, "approve_ticket")) > 20
    assert compensations(h) == []
    assert "kitchen offline" in (h.reason or "")


# -- the happy paths --------------------------------------------------------------------


def test_an_order_with_a_voucher_runs_every_step_and_completes() -> None:
    h = started()
    answer(h, *UP_TO_PIVOT, AUTHORIZED, TICKET_APPROVED, ORDER_APPROVED)
    assert h.status is SagaStatus.COMPLETED
    assert forward(h) == [
        VerifyConsumer(order_id="o-1", consumer_id="c-1", total_cents=2500),
        CreateTicket(order_id="o-1", restaurant_id="r-1",
                     line_items=[TicketLineItem(menu_item_id="pad-thai", quantity=2)]),
        RedeemVoucher(order_id="o-1", consumer_id="c-1", voucher_code="SPRING-5"),
        AuthorizeCard(order_id="o-1", consumer_id="c-1", amount_cents=2000, currency="EUR"),
        ApproveTicket(order_id="o-1", ticket_id="t-1"),
        ApproveOrder(order_id="o-1"),
    ]  # fmt: skip
    assert compensations(h) == []
    assert [c.topic for c in h.sent] == [
        "consumers.commands", "kitchen.commands", "vouchers.commands",
        "accounting.commands", "kitchen.commands", "orders.commands",
    ]  # fmt: skip


def test_the_typed_data_holds_what_the_replies_and_the_event_said() -> None:
    h = started()
    answer(h, *UP_TO_PIVOT, AUTHORIZED, TICKET_APPROVED, ORDER_APPROVED)
    assert CreateOrderData.model_validate(h.data) == CreateOrderData(
        order_id="o-1",
        consumer_id="c-1",
        restaurant_id="r-1",
        line_items=[OrderLineItem(menu_item_id="pad-thai", quantity=2)],
        total_cents=2500,
        currency="EUR",
        voucher_code="SPRING-5",
        ticket_id="t-1",
        discount_cents=500,
        ready_by=READY_BY,
        authorization_id="a-1",
        rejection_reason=None,
    )


def test_an_order_without_a_voucher_skips_redeem_voucher_and_never_undoes_it() -> None:
    h = started(NO_VOUCHER)
    h.reply(VERIFIED)
    decision = h.reply(TICKET)  # the ticket exists: redeem_voucher is reached and skipped
    assert h.step_status("redeem_voucher") is StepStatus.SKIPPED
    assert decision.transition is not None
    assert decision.transition.skipped == ("redeem_voucher",)
    assert h.step_status("ticket_accepted") is StepStatus.RUNNING  # waiting right away
    answer(h, ACCEPTED, AUTHORIZED, TICKET_APPROVED, ORDER_APPROVED)
    assert h.status is SagaStatus.COMPLETED
    assert not any(isinstance(e, RedeemVoucher) for e in forward(h))
    assert AuthorizeCard(order_id="o-1", consumer_id="c-1", amount_cents=2500,
                         currency="EUR") in forward(h)  # fmt: skip
    assert h.data["discount_cents"] == 0


# -- the wait ---------------------------------------------------------------------------


def test_a_ticket_accepted_before_the_wait_is_kept_and_completes_it_when_reached() -> None:
    h = started()
    answer(h, VERIFIED, TICKET)  # redeem_voucher is in flight: the wait is not reached yet
    early = h.deliver(ACCEPTED)
    assert early.commands == ()
    assert h.step_status("ticket_accepted") is StepStatus.PENDING
    h.reply(REDEEMED)  # the wait is reached, completed at once, and the card is charged
    assert h.step_status("ticket_accepted") is StepStatus.SUCCEEDED
    assert [c.step for c in h.awaiting()] == ["authorize_card"]
    assert h.data["ready_by"] == "2031-05-04T19:30:00Z"
    assert h.deliver(ACCEPTED).ignored  # a repeat changes nothing
    answer(h, AUTHORIZED, TICKET_APPROVED, ORDER_APPROVED)
    assert h.status is SagaStatus.COMPLETED


def test_an_early_ticket_accepted_does_not_save_an_order_whose_voucher_is_rejected() -> None:
    h = started()
    answer(h, VERIFIED, TICKET, ACCEPTED)
    h.reply(EXPIRED)
    undo_everything(h)
    assert h.status is SagaStatus.COMPENSATED
    assert compensations(h) == [REJECT_TICKET, reject_order("voucher SPRING-5 expired")]
    assert h.step_status("ticket_accepted") is StepStatus.PENDING  # never reached


def test_a_ticket_accepted_after_the_order_was_rejected_changes_nothing() -> None:
    h = started(NO_VOUCHER)
    answer(h, VERIFIED, TICKET)
    stay_silent(h, "ticket_accepted")
    undo_everything(h)
    assert h.status is SagaStatus.COMPENSATED
    assert h.deliver(ACCEPTED).ignored
    assert h.status is SagaStatus.COMPENSATED


def test_a_ticket_accepted_for_another_order_does_not_complete_this_wait() -> None:
    h = started(NO_VOUCHER)
    answer(h, VERIFIED, TICKET)
    # The coordinator routes it to order o-2 by its correlation field; so does the harness.
    assert h.deliver(ACCEPTED.model_copy(update={"order_id": "o-2", "ticket_id": "t-9"})).ignored
    assert h.step_status("ticket_accepted") is StepStatus.RUNNING
    assert h.data["ticket_id"] == "t-1"


# -- the pivot and the reason -----------------------------------------------------------


def test_a_declined_card_puts_its_reason_in_the_saga_and_in_the_rejection() -> None:
    h = started()
    answer(h, *UP_TO_PIVOT, DECLINED)
    assert h.status is SagaStatus.COMPENSATING
    assert h.reason == (
        "step 'authorize_card' failed after 1 attempt(s): "
        "replied ftgo.accounting.CardDeclined: insufficient funds"
    )
    assert len(sends_of(h, "authorize_card")) == 1  # a decline is not retried
    undo_everything(h)
    assert h.data["rejection_reason"] == "insufficient funds"
    assert compensations(h)[-1] == reject_order("insufficient funds")
    assert h.step_status("authorize_card") is StepStatus.FAILED  # it did not happen


def test_a_silent_pivot_is_re_sent_as_the_same_command_and_resumed_by_its_late_reply() -> None:
    h = started()
    answer(h, *UP_TO_PIVOT)
    stay_silent(h, "authorize_card")
    sends = sends_of(h, "authorize_card")
    assert len(sends) == 3
    assert len({c.command_id for c in sends}) == 1  # accounting applies it at most once
    assert h.status == "PARKED"  # its outcome is unknown: nothing is undone, nothing guessed
    h.reply_to(sends[0], AUTHORIZED)  # the late reply resumes the saga
    assert [c.step for c in h.awaiting()] == ["approve_ticket"]
    answer(h, TICKET_APPROVED, ORDER_APPROVED)
    assert h.status is SagaStatus.COMPLETED
    assert compensations(h) == []


# -- after the pivot: unbounded retries -------------------------------------------------


def test_approve_ticket_is_retried_without_bound_until_the_kitchen_approves() -> None:
    h = started()
    answer(h, *UP_TO_PIVOT, AUTHORIZED)
    for _ in range(20):
        h.reply(TicketApprovalFailed(order_id="o-1", reason="kitchen busy"))
        assert h.step_status("approve_ticket") is StepStatus.RETRY_WAIT
        h.fire_next_timer()  # the backoff passes: the next attempt is sent
    sends = sends_of(h, "approve_ticket")
    assert [c.attempt for c in sends] == list(range(1, 22))
    assert len({c.command_id for c in sends}) == 21  # each refusal: a new command
    answer(h, TICKET_APPROVED, ORDER_APPROVED)
    assert h.status is SagaStatus.COMPLETED
    assert compensations(h) == []
    assert h.now < 3600  # all within the deadline (backoff capped at 60 s)


def test_a_silent_approve_order_is_re_sent_as_the_same_command_until_it_answers() -> None:
    h = started()
    answer(h, *UP_TO_PIVOT, AUTHORIZED, TICKET_APPROVED)
    for _ in range(20):
        h.fire_next_timer()  # a timeout, then the backoff before the re-send
        h.fire_next_timer()
    sends = sends_of(h, "approve_order")
    assert len(sends) == 21
    assert len({c.command_id for c in sends}) == 1  # the orders service applies it once
    h.reply_to(sends[-1], ORDER_APPROVED)
    assert h.status is SagaStatus.COMPLETED


# -- the definition ---------------------------------------------------------------------


def test_topics_participants_and_the_start_topic_carry_the_prefix() -> None:
    saga = build_create_order(prefix="t1-")
    assert saga.start_topic == "t1-orders.events"
    assert saga.input_topics == {
        "t1-orders.events", "t1-consumers.events", "t1-kitchen.events",
        "t1-vouchers.events", "t1-accounting.events",
    }  # fmt: skip
    assert saga.command_topics == {
        "t1-orders.commands", "t1-consumers.commands", "t1-kitchen.commands",
        "t1-vouchers.commands", "t1-accounting.commands",
    }  # fmt: skip
    assert saga.steps["authorize_card"].participant == "t1-accounting"
    assert saga.wait_types.keys() == {TicketAccepted.event_type}


def renamed(step: Step | ParallelGroup, old: str, new: str) -> Step | ParallelGroup:
    return dataclasses.replace(step, name=new) if step.name == old else step


def test_a_v1_instance_continues_on_a_v2_that_renamed_its_step() -> None:
    h = started()
    answer(h, *UP_TO_PIVOT)  # the v1 instance waits on authorize_card
    [charge] = h.awaiting()
    v2 = define_saga(
        "create_order",
        start=OrderCreated,
        start_topic="orders.events",
        saga_id="order_id",
        data=CreateOrderData,
        steps=[renamed(s, "authorize_card", "charge_card") for s in create_order.items],
        deadline_s=3600,
        version=2,
        migrations=[Migration(from_version=1, renames={"authorize_card": "charge_card"})],
    )
    assert SagaCatalog([v2]).plan(h.state) == "migrates v1 -> v2"
    d = decide(v2, h.state, EventReceived("m-9", AUTHORIZED, charge.command_id), now=h.now)
    assert d.state is not None
    assert d.state.step("charge_card").status is StepStatus.SUCCEEDED
    assert [c.event for c in d.commands] == [ApproveTicket(order_id="o-1", ticket_id="t-1")]
    bare = dataclasses.replace(v2, migrations=())
    assert SagaCatalog([bare]).plan(h.state).startswith("stranded:")
    assert SagaCatalog([create_order, bare]).plan(h.state) == "stays on v1"


# -- docs/sagas.md quotes this saga: the quotes must stay true ---------------------------

DOC = Path(__file__).resolve().parents[3] / "docs" / "sagas.md"
QUOTE = "# sagas/create_order.py\n"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_the_guide_quotes_the_saga_as_it_is() -> None:
    source = Path(sagas.create_order.__file__).read_text()
    quoted = [b.removeprefix(QUOTE) for b in python_blocks() if b.startswith(QUOTE)]
    assert len(quoted) >= 10
    for block in quoted:
        assert block in source, f"docs/sagas.md quotes code that is not in the saga:\n{block}"


def test_the_guides_harness_example_runs() -> None:
    [example] = [b for b in python_blocks() if "h = SagaHarness(create_order)" in b]
    scope = dict(globals())
    exec(example, scope)  # the names it uses are this module's imports and constants
    assert scope["h"].status is SagaStatus.COMPENSATED
