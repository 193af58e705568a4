"""The benchmark's saga: reserve -> pay -> approve on the shop contracts, and its replies."""

from __future__ import annotations

from dirigent.events import Event, SagaTransition, SchemaCatalog, SingleObjectCodec
from dirigent.saga import Compensation, SagaDefinition, Step, StepKind, define_saga
from sagas.contracts.shop import (
    ApproveOrder,
    AuthorizePayment,
    OrderApproved,
    OrderLine,
    OrderPlaced,
    PaymentAuthorized,
    PaymentDeclined,
    ReleaseStock,
    ReserveStock,
    StockLine,
    StockReleased,
    StockReserved,
)

__all__ = ["DOMAINS", "STEP_OF_COMMAND", "bench_codec", "bench_saga", "order", "reply_to"]

DOMAINS = ("inventory", "payments", "orders")
# Command type -> the step whose reply the coordinator applies (for latency pairing).
STEP_OF_COMMAND = {
    ReserveStock.event_type: "reserve",
    AuthorizePayment.event_type: "pay",
    ApproveOrder.event_type: "approve",
}


def bench_saga(prefix: str) -> SagaDefinition:
    """Three steps: compensatable reserve, pivot pay, retriable approve."""
    return define_saga(
        "bench_order",
        start=OrderPlaced,
        saga_id="order_id",
        steps=[
            Step(
                name="reserve",
                command=lambda d: ReserveStock(
                    order_id=d["order_id"], items=[StockLine(**i) for i in d["items"]]
                ),
                topic=f"{prefix}-inventory.commands",
                success=(StockReserved,),
                compensation=Compensation(
                    command=lambda d: ReleaseStock(order_id=d["order_id"]),
                    topic=f"{prefix}-inventory.commands",
                    compensated=(StockReleased,),
                ),
            ),
            Step(
                name="pay",
                command=lambda d: AuthorizePayment(
                    order_id=d["order_id"],
                    customer_id=d["customer_id"],
                    amount_cents=d["amount_cents"],
                    currency=d["currency"],
                ),
                topic=f"{prefix}-payments.commands",
                success=(PaymentAuthorized,),
                failure=(PaymentDeclined,),
                kind=StepKind.PIVOT,
            ),
            Step(
                name="approve",
                command=lambda d: ApproveOrder(order_id=d["order_id"]),
                topic=f"{prefix}-orders.commands",
                success=(OrderApproved,),
                kind=StepKind.RETRIABLE,
            ),
        ],
    )


def bench_codec() -> SingleObjectCodec:
    return SingleObjectCodec(SchemaCatalog(), models=[
        OrderPlaced, ReserveStock, StockReserved, ReleaseStock, StockReleased, AuthorizePayment,
        PaymentAuthorized, PaymentDeclined, ApproveOrder, OrderApproved, SagaTransition,
    ])  # fmt: skip


def order(order_id: str) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id, customer_id="c-bench", items=[OrderLine(sku="sku-1", quantity=1)],
        amount_cents=1999, currency="EUR",
    )  # fmt: skip


def reply_to(command_type: str, order_id: str) -> Event | None:
    """Every step succeeds: the benchmark measures the happy path."""
    if command_type == ReserveStock.event_type:
        return StockReserved(order_id=order_id, reservation_id=f"r-{order_id}")
    if command_type == AuthorizePayment.event_type:
        return PaymentAuthorized(order_id=order_id, authorization_id=f"a-{order_id}")
    if command_type == ApproveOrder.event_type:
        return OrderApproved(order_id=order_id)
    if command_type == ReleaseStock.event_type:
        return StockReleased(order_id=order_id)
    return None
