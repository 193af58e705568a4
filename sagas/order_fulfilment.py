"""Order fulfilment: reserve stock -> authorize payment -> schedule shipment -> approve.

Shipment is the pivot: once a parcel is scheduled the order is not undone, and approving
it is retried until it succeeds. Before that, a failure releases the stock and voids the
payment (newest first).
"""

from __future__ import annotations

from typing import Any

from dirigent.events import Event
from dirigent.saga import (
    Compensation,
    RetryPolicy,
    SagaDefinition,
    Step,
    StepKind,
    define_saga,
)
from sagas.contracts.shop import (
    ApproveOrder,
    AuthorizePayment,
    OrderApproved,
    OrderPlaced,
    PaymentAuthorized,
    PaymentDeclined,
    PaymentVoided,
    ReleaseStock,
    ReserveStock,
    ScheduleShipment,
    ShipmentFailed,
    ShipmentLine,
    ShipmentScheduled,
    StockLine,
    StockReleased,
    StockReservationFailed,
    StockReserved,
    VoidPayment,
)

__all__ = ["build_order_fulfilment", "order_fulfilment"]


def _remember(key: str, attr: str) -> Any:
    """A data updater storing ``reply.<attr>`` under ``key``."""

    def update(data: dict[str, Any], reply: Event) -> dict[str, Any]:
        return {**data, key: getattr(reply, attr)}

    return update


def build_order_fulfilment(
    *, prefix: str = "", step_timeout_s: float = 30.0, deadline_s: float = 15 * 60
) -> SagaDefinition:
    """The order-fulfilment saga; ``prefix`` namespaces its topics (tests, demos, benchmarks).

    Replies arrive on ``<prefix><domain>.events``, the start event on ``<prefix>orders.events``.
    ``step_timeout_s`` applies to every step and compensation. Compensations find what to
    undo by order id (``ReleaseStock`` may carry no reservation id: the step's command
    timed out, so its reply never came, yet it may have been applied).
    """
    reserve_stock = Step(
        name="reserve_stock",
        command=lambda d: ReserveStock(
            order_id=d["order_id"], items=[StockLine(**i) for i in d["items"]]
        ),
        topic=f"{prefix}inventory.commands",
        success=(StockReserved,),
        failure=(StockReservationFailed,),
        on_success=_remember("reservation_id", "reservation_id"),
        compensation=Compensation(
            command=lambda d: ReleaseStock(
                order_id=d["order_id"], reservation_id=d.get("reservation_id")
            ),
            topic=f"{prefix}inventory.commands",
            compensated=(StockReleased,),
            timeout_s=step_timeout_s,
        ),
        timeout_s=step_timeout_s,
        retry=RetryPolicy(
            max_attempts=3,
            backoff_base_s=1,
            backoff_cap_s=10,
            non_retryable=(StockReservationFailed,),
        ),
    )

    authorize_payment = Step(
        name="authorize_payment",
        command=lambda d: AuthorizePayment(
            order_id=d["order_id"],
            customer_id=d["customer_id"],
            amount_cents=d["amount_cents"],
            currency=d["currency"],
        ),
        topic=f"{prefix}payments.commands",
        success=(PaymentAuthorized,),
        failure=(PaymentDeclined,),
        on_success=_remember("authorization_id", "authorization_id"),
        compensation=Compensation(
            command=lambda d: VoidPayment(
                order_id=d["order_id"], authorization_id=d.get("authorization_id")
            ),
            topic=f"{prefix}payments.commands",
            compensated=(PaymentVoided,),
            timeout_s=step_timeout_s,
        ),
        timeout_s=step_timeout_s,
        retry=RetryPolicy(max_attempts=3, non_retryable=(PaymentDeclined,)),
    )

    schedule_shipment = Step(
        name="schedule_shipment",
        command=lambda d: ScheduleShipment(
            order_id=d["order_id"],
            customer_id=d["customer_id"],
            items=[ShipmentLine(**i) for i in d["items"]],
        ),
        topic=f"{prefix}shipping.commands",
        success=(ShipmentScheduled,),
        failure=(ShipmentFailed,),
        on_success=_remember("shipment_id", "shipment_id"),
        kind=StepKind.PIVOT,
        timeout_s=2 * step_timeout_s,
        retry=RetryPolicy(max_attempts=2, non_retryable=(ShipmentFailed,)),
    )

    approve_order = Step(
        name="approve_order",
        command=lambda d: ApproveOrder(order_id=d["order_id"]),
        topic=f"{prefix}orders.commands",
        success=(OrderApproved,),
        kind=StepKind.RETRIABLE,
        timeout_s=step_timeout_s,
        retry=RetryPolicy(max_attempts=10, backoff_base_s=2, backoff_cap_s=300),
    )

    return define_saga(
        "order_fulfilment",
        start=OrderPlaced,
        start_topic=f"{prefix}orders.events",
        saga_id="order_id",
        steps=[reserve_stock, authorize_payment, schedule_shipment, approve_order],
        deadline_s=deadline_s,
    )


order_fulfilment = build_order_fulfilment()
