"""The Temporal peer's saga: a workflow of three activities, written as the SDK teaches.

``reserve_stock`` (undone by ``release_stock`` if the pivot fails), ``authorize_payment``
(the pivot) and ``approve_order``. As Temporal teaches: every activity is retried on
transient failures (the SDK's default policy; a timed-out attempt is tried again), and
only a business failure, a non-retryable ``ApplicationError`` such as a declined payment,
compensates. Every activity succeeds in the benchmark.

Step latency is measured like ``bench/`` does (command sent -> reply applied): each
activity returns the server's time of its ``ActivityTaskScheduled`` event, and the
workflow notes ``workflow.now()`` (the start of the workflow task that received the
result) when it resumes. Both times are the Temporal server's clock.

This module is loaded into the workflow sandbox: it imports only what a workflow may.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.exceptions import ActivityError

__all__ = [
    "ACTIVITIES",
    "Done",
    "Order",
    "OrderSaga",
    "SagaResult",
    "StepTime",
    "approve_order",
    "authorize_payment",
    "release_stock",
    "reserve_stock",
]

_TIMEOUT = timedelta(seconds=30)


@dataclass(frozen=True)
class Order:
    order_id: str
    customer_id: str
    sku: str
    quantity: int
    amount_cents: int
    currency: str


@dataclass(frozen=True)
class Done:
    """What an activity reports: when its first attempt was scheduled, and its attempt."""

    scheduled_ms: float
    attempt: int


@dataclass(frozen=True)
class StepTime:
    step: str
    applied_ms: float
    latency_ms: float
    attempts: int


@dataclass(frozen=True)
class SagaResult:
    status: str  # COMPLETED or COMPENSATED
    finished_ms: float
    steps: list[StepTime] = field(default_factory=list)


def _done() -> Done:
    info = activity.info()  # scheduled_time: the first attempt's (ActivityTaskScheduled)
    return Done(info.scheduled_time.timestamp() * 1000, info.attempt)


@activity.defn(name="reserve_stock")
async def reserve_stock(order: Order) -> Done:
    return _done()


@activity.defn(name="authorize_payment")
async def authorize_payment(order: Order) -> Done:
    return _done()


@activity.defn(name="approve_order")
async def approve_order(order: Order) -> Done:
    return _done()


@activity.defn(name="release_stock")
async def release_stock(order: Order) -> Done:
    return _done()


ACTIVITIES = (reserve_stock, authorize_payment, approve_order, release_stock)


@workflow.defn(name="OrderSaga")
class OrderSaga:
    """Reserve -> pay (pivot) -> approve; a declined payment releases the stock."""

    @workflow.run
    async def run(self, order: Order) -> SagaResult:
        steps: list[StepTime] = []
        done = await workflow.execute_activity(
            reserve_stock, order, start_to_close_timeout=_TIMEOUT
        )
        steps.append(_step("reserve", done))
        try:
            done = await workflow.execute_activity(
                authorize_payment, order, start_to_close_timeout=_TIMEOUT
            )
        except ActivityError:  # retries exhausted or non-retryable: the payment is refused
            await workflow.execute_activity(release_stock, order, start_to_close_timeout=_TIMEOUT)
            return SagaResult("COMPENSATED", _now_ms(), steps)
        steps.append(_step("pay", done))
        done = await workflow.execute_activity(
            approve_order, order, start_to_close_timeout=_TIMEOUT
        )
        steps.append(_step("approve", done))
        return SagaResult("COMPLETED", _now_ms(), steps)


def _now_ms() -> float:
    return workflow.now().timestamp() * 1000


def _step(name: str, done: Done) -> StepTime:
    at = _now_ms()
    return StepTime(name, at, at - done.scheduled_ms, done.attempt)
