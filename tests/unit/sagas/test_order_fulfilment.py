"""How to test a saga: drive it with SagaHarness (real engine, virtual time)."""

from __future__ import annotations

from dirigent.testing import Outcome, SagaHarness, assert_compensates_every_step
from sagas.contracts.shop import (
    ApproveOrder,
    AuthorizePayment,
    OrderApproved,
    OrderLine,
    OrderPlaced,
    PaymentAuthorized,
    PaymentDeclined,
    PaymentVoided,
    ReleaseStock,
    ReserveStock,
    ShipmentScheduled,
    StockLine,
    StockReleased,
    StockReserved,
)
from sagas.order_fulfilment import order_fulfilment

ORDER = OrderPlaced(
    order_id="o-1",
    customer_id="c-1",
    items=[OrderLine(sku="sku-1", quantity=2)],
    amount_cents=4200,
    currency="EUR",
)
RESERVED = StockReserved(order_id="o-1", reservation_id="r-1")
AUTHORIZED = PaymentAuthorized(order_id="o-1", authorization_id="a-1")
SCHEDULED = ShipmentScheduled(order_id="o-1", shipment_id="sh-1")


def test_happy_path() -> None:
    h = SagaHarness(order_fulfilment)
    h.start(ORDER)
    h.expect_commands(ReserveStock(order_id="o-1", items=[StockLine(sku="sku-1", quantity=2)]))
    h.reply(RESERVED)
    h.expect_commands(
        AuthorizePayment(order_id="o-1", customer_id="c-1", amount_cents=4200, currency="EUR")
    )
    h.reply(AUTHORIZED)
    h.reply(SCHEDULED)
    h.reply(OrderApproved(order_id="o-1"))
    assert h.status == "COMPLETED"
    assert h.data["shipment_id"] == "sh-1"


def test_declined_payment_releases_the_stock() -> None:
    h = SagaHarness(order_fulfilment)
    h.start(ORDER)
    h.reply(RESERVED)
    h.reply(PaymentDeclined(order_id="o-1", reason="card expired"))
    h.expect_commands(
        ReserveStock(order_id="o-1", items=[StockLine(sku="sku-1", quantity=2)]),
        AuthorizePayment(order_id="o-1", customer_id="c-1", amount_cents=4200, currency="EUR"),
        ReleaseStock(order_id="o-1", reservation_id="r-1"),
    )
    h.reply(StockReleased(order_id="o-1"))
    assert h.status == "COMPENSATED"
    assert "authorize_payment" in (h.reason or "")


def test_silent_shipping_parks_the_saga_and_a_late_reply_resumes_it() -> None:
    h = SagaHarness(order_fulfilment)
    h.start(ORDER)
    h.reply(RESERVED)
    h.reply(AUTHORIZED)
    h.advance(seconds=60 * 3)  # two attempts of 60s each, plus backoff
    # The pivot's outcome is unknown: it may have been scheduled. Never compensated
    # blindly, never guessed: the saga waits for an operator or the reply.
    sends = [c for c in h.sent if c.step == "schedule_shipment"]
    assert [c.attempt for c in sends] == [1, 2]
    assert sends[0].command_id == sends[1].command_id  # the re-send is the same command
    assert h.status == "PARKED"
    assert h.compensations() == []
    assert "schedule_shipment" in (h.reason or "")
    h.reply_to(sends[0], SCHEDULED)
    assert h.status == "RUNNING"
    assert [c.event for c in h.awaiting()] == [ApproveOrder(order_id="o-1")]


def test_approval_is_retried_after_the_pivot() -> None:
    h = SagaHarness(order_fulfilment)
    h.start(ORDER)
    for reply in (RESERVED, AUTHORIZED, SCHEDULED):
        h.reply(reply)
    h.advance(seconds=30)  # ApproveOrder unanswered: retried, never compensated
    h.advance(seconds=2)
    assert [c.event for c in h.awaiting()] == [ApproveOrder(order_id="o-1")]
    assert h.awaiting()[0].attempt == 2
    h.reply(OrderApproved(order_id="o-1"))
    assert h.status == "COMPLETED"
    assert h.compensations() == []


def test_every_step_failure_compensates_the_right_steps() -> None:
    # Every step fails by silence: a timed-out compensatable step may have happened, so
    # it is compensated too (newest first); the silent pivot and the retriable step after
    # it park the saga, never compensated blindly.
    assert_compensates_every_step(
        order_fulfilment,
        ORDER,
        expected={
            "reserve_stock": Outcome("COMPENSATED", "reserve_stock"),
            "authorize_payment": Outcome("COMPENSATED", "authorize_payment", "reserve_stock"),
            "schedule_shipment": Outcome("PARKED"),
            "approve_order": Outcome("PARKED"),
        },
        success_replies={
            "reserve_stock": RESERVED,
            "authorize_payment": AUTHORIZED,
            "schedule_shipment": SCHEDULED,
            "approve_order": OrderApproved(order_id="o-1"),
        },
        compensation_replies={
            "reserve_stock": StockReleased(order_id="o-1"),
            "authorize_payment": PaymentVoided(order_id="o-1"),
        },
    )
