"""Create Order: the saga of *Microservices Patterns* (Chris Richardson, chapter 4), with a
voucher and a wait for the restaurant added so that it uses every construct of the DSL.

==================  ==========  ==========================================  ===============
step                service     what it does                                undone by
==================  ==========  ==========================================  ===============
create_order        orders      initiating: the start event (the order      RejectOrder
                                exists, pending approval)                   (runs last)
verify_consumer     consumers   read-only: may this consumer order?         (nothing)
create_ticket       kitchen     a ticket, pending approval                  RejectTicket
redeem_voucher      vouchers    only ``when=`` the order has a voucher      RestoreVoucher
ticket_accepted     kitchen     waits for TicketAccepted (the restaurant    (nothing)
                                said yes), correlated by ``order_id``
authorize_card      accounting  **pivot**: the point of no return           (never)
approve_ticket      kitchen     retriable, retried without bound            (never)
approve_order       orders      retriable, retried without bound            (never)
==================  ==========  ==========================================  ===============

A failure reply means the step did not happen, so it is not undone; a silent
compensatable step may have happened, so it is. Read-only, skipped and waiting steps are
never undone. Compensations find what to undo by order id (``RejectTicket`` may carry
no ticket id: its step's reply never came) and answer "done" when there is nothing to do.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from dirigent.events import Event
from dirigent.saga import (
    Compensation,
    OnTimeout,
    RetryPolicy,
    SagaDefinition,
    Step,
    StepKind,
    define_saga,
    initiating,
    wait_for,
)
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

__all__ = ["CreateOrderData", "build_create_order", "create_order"]

NO_REASON = "the order could not be completed"
"""What ``RejectOrder`` says when no participant gave a reason (a step timed out)."""


class CreateOrderData(BaseModel):
    """The saga data: the order as created, plus what replies and events told the saga.

    It starts as the ``OrderCreated`` fields; every update is validated against it.
    """

    order_id: str
    consumer_id: str
    restaurant_id: str
    line_items: list[OrderLineItem]
    total_cents: int
    currency: str
    voucher_code: str | None = None
    ticket_id: str | None = None  # TicketCreated
    discount_cents: int = 0  # VoucherRedeemed
    ready_by: datetime | None = None  # TicketAccepted
    authorization_id: str | None = None  # CardAuthorized
    rejection_reason: str | None = None  # the reason of a failure reply, for RejectOrder

    @property
    def amount_due_cents(self) -> int:
        return max(self.total_cents - self.discount_cents, 0)


# -- conditions and data updaters: plain functions of the data (and the reply) ----------


def has_voucher(d: CreateOrderData) -> bool:
    return d.voucher_code is not None


def _ticket_created(d: CreateOrderData, reply: Event) -> CreateOrderData:
    assert isinstance(reply, TicketCreated)  # the engine passes this step's success types
    return d.model_copy(update={"ticket_id": reply.ticket_id})


def _voucher_redeemed(d: CreateOrderData, reply: Event) -> CreateOrderData:
    assert isinstance(reply, VoucherRedeemed)
    return d.model_copy(update={"discount_cents": reply.discount_cents})


def _ticket_accepted(d: CreateOrderData, event: Event) -> CreateOrderData:
    assert isinstance(event, TicketAccepted)
    return d.model_copy(update={"ticket_id": event.ticket_id, "ready_by": event.ready_by})


def _card_authorized(d: CreateOrderData, reply: Event) -> CreateOrderData:
    assert isinstance(reply, CardAuthorized)
    return d.model_copy(update={"authorization_id": reply.authorization_id})


_REFUSALS = (ConsumerVerificationFailed, TicketCreationFailed, VoucherRejected, CardDeclined)


def _refused(d: CreateOrderData, reply: Event) -> CreateOrderData:
    """A failure reply: keep its reason, so that ``RejectOrder`` can tell the consumer."""
    assert isinstance(reply, _REFUSALS)
    return d.model_copy(update={"rejection_reason": reply.reason})


def build_create_order(
    *,
    prefix: str = "",
    step_timeout_s: float = 30.0,
    accept_timeout_s: float = 15 * 60,
    deadline_s: float = 3600.0,
    backoff_cap_s: float = 60.0,
) -> SagaDefinition:
    """The create-order saga; ``prefix`` namespaces its topics (tests, demos).

    The start event arrives on ``<prefix>orders.events``; commands go to
    ``<prefix><service>.commands`` and replies come back on ``<prefix><service>.events``,
    where the kitchen also publishes ``TicketAccepted``. ``step_timeout_s`` applies to
    every command and compensation, ``accept_timeout_s`` to the restaurant's answer,
    ``backoff_cap_s`` to the retries after the pivot.
    """
    orders = f"{prefix}orders.commands"
    kitchen = f"{prefix}kitchen.commands"
    vouchers = f"{prefix}vouchers.commands"

    create_order = initiating(
        "create_order",
        compensation=Compensation(
            command=lambda d: RejectOrder(
                order_id=d.order_id, reason=d.rejection_reason or NO_REASON
            ),
            topic=orders,
            compensated=(OrderRejected,),
            timeout_s=step_timeout_s,
        ),
    )

    verify_consumer = Step(
        name="verify_consumer",
        command=lambda d: VerifyConsumer(
            order_id=d.order_id, consumer_id=d.consumer_id, total_cents=d.total_cents
        ),
        topic=f"{prefix}consumers.commands",
        success=(ConsumerVerified,),
        failure=(ConsumerVerificationFailed,),
        on_failure=_refused,
        read_only=True,
        timeout_s=step_timeout_s,
        retry=RetryPolicy(max_attempts=3, non_retryable=(ConsumerVerificationFailed,)),
    )

    create_ticket = Step(
        name="create_ticket",
        command=lambda d: CreateTicket(
            order_id=d.order_id,
            restaurant_id=d.restaurant_id,
            line_items=[TicketLineItem(**i.model_dump()) for i in d.line_items],
        ),
        topic=kitchen,
        success=(TicketCreated,),
        failure=(TicketCreationFailed,),
        on_success=_ticket_created,
        on_failure=_refused,
        compensation=Compensation(
            command=lambda d: RejectTicket(order_id=d.order_id, ticket_id=d.ticket_id),
            topic=kitchen,
            compensated=(TicketRejected,),
            timeout_s=step_timeout_s,
        ),
        timeout_s=step_timeout_s,
        retry=RetryPolicy(max_attempts=3, non_retryable=(TicketCreationFailed,)),
    )

    redeem_voucher = Step(
        name="redeem_voucher",
        when=has_voucher,  # no voucher: SKIPPED, never sent, never compensated
        command=lambda d: RedeemVoucher(
            order_id=d.order_id, consumer_id=d.consumer_id, voucher_code=d.voucher_code
        ),
        topic=vouchers,
        success=(VoucherRedeemed,),
        failure=(VoucherRejected,),
        on_success=_voucher_redeemed,
        on_failure=_refused,
        compensation=Compensation(
            command=lambda d: RestoreVoucher(order_id=d.order_id, voucher_code=d.voucher_code),
            topic=vouchers,
            compensated=(VoucherRestored,),
            timeout_s=step_timeout_s,
        ),
        timeout_s=step_timeout_s,
        retry=RetryPolicy(max_attempts=3, non_retryable=(VoucherRejected,)),
    )

    ticket_accepted = wait_for(
        "ticket_accepted",
        event=TicketAccepted,
        topic=f"{prefix}kitchen.events",
        correlate="order_id",  # the event's field that holds the saga id
        timeout_s=accept_timeout_s,
        on_timeout=OnTimeout.FAIL,  # the restaurant never answered: compensate
        on_event=_ticket_accepted,
    )

    authorize_card = Step(
        name="authorize_card",
        command=lambda d: AuthorizeCard(
            order_id=d.order_id,
            consumer_id=d.consumer_id,
            amount_cents=d.amount_due_cents,
            currency=d.currency,
        ),
        topic=f"{prefix}accounting.commands",
        success=(CardAuthorized,),
        failure=(CardDeclined,),
        on_success=_card_authorized,
        on_failure=_refused,
        kind=StepKind.PIVOT,
        timeout_s=step_timeout_s,
        retry=RetryPolicy(max_attempts=3, non_retryable=(CardDeclined,)),
    )

    # After the pivot the saga only moves forward: retry until it works (each attempt
    # after a timeout re-sends the same command id). The saga deadline stops them.
    until_done = RetryPolicy(max_attempts=None, backoff_base_s=1.0, backoff_cap_s=backoff_cap_s)

    approve_ticket = Step(
        name="approve_ticket",
        command=lambda d: ApproveTicket(order_id=d.order_id, ticket_id=d.ticket_id),
        topic=kitchen,
        success=(TicketApproved,),
        failure=(TicketApprovalFailed,),
        kind=StepKind.RETRIABLE,
        timeout_s=step_timeout_s,
        retry=until_done,
    )

    approve_order = Step(
        name="approve_order",
        command=lambda d: ApproveOrder(order_id=d.order_id),
        topic=orders,
        success=(OrderApproved,),
        kind=StepKind.RETRIABLE,
        timeout_s=step_timeout_s,
        retry=until_done,
    )

    return define_saga(
        "create_order",
        start=OrderCreated,
        start_topic=f"{prefix}orders.events",
        saga_id="order_id",
        data=CreateOrderData,
        steps=[
            create_order,
            verify_consumer,
            create_ticket,
            redeem_voucher,
            ticket_accepted,
            authorize_card,
            approve_ticket,
            approve_order,
        ],
        deadline_s=deadline_s,
        version=1,
    )


create_order = build_create_order()
