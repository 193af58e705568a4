"""The shop's participants for the heavy suite, on ``dirigent.service.Service``.

Every effect a participant applies is appended to an **effect ledger** in Redis, keyed by
the command's message id (``ctx.idempotency_key``), before the reply is returned. The
ledger is what the suite audits: an effect applied twice, or a compensation without the
effect it undoes, is visible there no matter what the coordinator believed.

Faults are scripted by the order id's suffix (see ``order_id``):

- ``decline``: payments answers ``PaymentDeclined`` (non-retryable, so compensation);
- ``mute-inv`` / ``mute-pay``: inventory / payments stay silent on the forward command
  (no effect, no reply), so the step times out, is retried, and finally compensated.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis

from dirigent.events import SagaTransition, SchemaCatalog, SingleObjectCodec
from dirigent.service import HandlerContext, Service
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
    ShipmentScheduled,
    StockReleased,
    StockReservationFailed,
    StockReserved,
    VoidPayment,
)

SHOP_MODELS = (
    OrderPlaced, ReserveStock, StockReserved, StockReservationFailed, ReleaseStock,
    StockReleased, AuthorizePayment, PaymentAuthorized, PaymentDeclined, VoidPayment,
    PaymentVoided, ScheduleShipment, ShipmentScheduled, ShipmentFailed, ApproveOrder,
    OrderApproved, SagaTransition,
)  # fmt: skip

DECLINE, MUTE_INVENTORY, MUTE_PAYMENTS, OK = "decline", "mute-inv", "mute-pay", "ok"
FORWARD = ("reserve", "authorize", "ship", "approve")
UNDO = {"release": "reserve", "void": "authorize"}  # compensation -> the effect it undoes


def shop_codec() -> SingleObjectCodec:
    return SingleObjectCodec(SchemaCatalog(), models=list(SHOP_MODELS))


def fault_of(i: int) -> str:
    """10% declines (i % 10 == 3), 1% silent inventory, 1% silent payments (disjoint)."""
    if i % 10 == 3:
        return DECLINE
    if i % 100 == 7:
        return MUTE_INVENTORY
    if i % 100 == 57:
        return MUTE_PAYMENTS
    return OK


def order_id(i: int) -> str:
    return f"o{i:04d}-{fault_of(i)}"


def fault(order: str) -> str:
    return order.split("-", 1)[1]


@dataclass(frozen=True, slots=True)
class Effect:
    """One applied effect: ``ref`` is what it created (forward) or what it undoes."""

    seq: int
    kind: str  # reserve | authorize | ship | approve | release | void
    saga_id: str
    command_id: str
    ref: str


class EffectLedger:
    """Applied effects in order (a Redis list) and applications per command id (a hash)."""

    def __init__(self, redis: Redis, namespace: str) -> None:
        self.redis = redis
        self.log_key = f"heavy:{namespace}:ledger"
        self.count_key = f"heavy:{namespace}:applied"
        self.silenced = 0

    async def apply(self, kind: str, saga_id: str, command_id: str, ref: str) -> None:
        entry = json.dumps({"k": kind, "s": saga_id, "c": command_id, "r": ref})
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(self.count_key, command_id, 1)
            pipe.rpush(self.log_key, entry)
            await pipe.execute()

    async def effects(self) -> list[Effect]:
        rows = await self.redis.lrange(self.log_key, 0, -1)  # type: ignore[misc]
        out = []
        for seq, raw in enumerate(rows):
            d = json.loads(raw)
            out.append(Effect(seq, d["k"], d["s"], d["c"], d["r"]))
        return out

    async def applications(self) -> dict[str, int]:
        raw = await self.redis.hgetall(self.count_key)  # type: ignore[misc]
        return {k.decode(): int(v) for k, v in raw.items()}


def _services(
    bootstrap: str, redis: Redis, uid: str, prefix: str, ledger: EffectLedger
) -> list[Service]:
    codec = shop_codec()

    def service(domain: str) -> Service:
        return Service(
            f"{domain}-{uid}", codec=codec, topics=[f"{prefix}{domain}.commands"],
            reply_topic=f"{prefix}{domain}.events", bootstrap=bootstrap, redis=redis,
            group_id=f"heavy-{domain}-{uid}",
        )  # fmt: skip

    inventory, payments, shipping, orders = (
        service(d) for d in ("inventory", "payments", "shipping", "orders")
    )

    @inventory.handles(ReserveStock)
    async def reserve(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved | None:
        if fault(cmd.order_id) == MUTE_INVENTORY:
            ledger.silenced += 1
            return None
        ref = f"r-{ctx.idempotency_key}"
        await ledger.apply("reserve", cmd.order_id, ctx.idempotency_key, ref)
        return StockReserved(order_id=cmd.order_id, reservation_id=ref)

    @inventory.handles(ReleaseStock)
    async def release(cmd: ReleaseStock, ctx: HandlerContext) -> StockReleased:
        await ledger.apply("release", cmd.order_id, ctx.idempotency_key, cmd.reservation_id or "")
        return StockReleased(order_id=cmd.order_id)

    @payments.handles(AuthorizePayment)
    async def authorize(
        cmd: AuthorizePayment, ctx: HandlerContext
    ) -> PaymentAuthorized | PaymentDeclined | None:
        if fault(cmd.order_id) == MUTE_PAYMENTS:
            ledger.silenced += 1
            return None
        if fault(cmd.order_id) == DECLINE:
            return PaymentDeclined(order_id=cmd.order_id, reason="card declined")
        ref = f"a-{ctx.idempotency_key}"
        await ledger.apply("authorize", cmd.order_id, ctx.idempotency_key, ref)
        return PaymentAuthorized(order_id=cmd.order_id, authorization_id=ref)

    @payments.handles(VoidPayment)
    async def void(cmd: VoidPayment, ctx: HandlerContext) -> PaymentVoided:
        ref = cmd.authorization_id or ""
        await ledger.apply("void", cmd.order_id, ctx.idempotency_key, ref)
        return PaymentVoided(order_id=cmd.order_id)

    @shipping.handles(ScheduleShipment)
    async def ship(cmd: ScheduleShipment, ctx: HandlerContext) -> ShipmentScheduled:
        ref = f"s-{ctx.idempotency_key}"
        await ledger.apply("ship", cmd.order_id, ctx.idempotency_key, ref)
        return ShipmentScheduled(order_id=cmd.order_id, shipment_id=ref)

    @orders.handles(ApproveOrder)
    async def approve(cmd: ApproveOrder, ctx: HandlerContext) -> OrderApproved:
        await ledger.apply("approve", cmd.order_id, ctx.idempotency_key, ctx.idempotency_key)
        return OrderApproved(order_id=cmd.order_id)

    return [inventory, payments, shipping, orders]


@asynccontextmanager
async def running_participants(
    bootstrap: str, redis: Redis, uid: str, prefix: str
) -> AsyncIterator[tuple[EffectLedger, Sequence[Service]]]:
    """The four shop services, running until the block ends (drained and committed)."""
    ledger = EffectLedger(redis, uid)
    services = _services(bootstrap, redis, uid, prefix, ledger)
    tasks = [asyncio.create_task(s.run(), name=s.name) for s in services]
    try:
        yield ledger, services
    finally:
        for s in services:
            s.stop()
        async with asyncio.timeout(30):
            results = await asyncio.gather(*tasks, return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]


def duplicates_answered(services: Sequence[Service]) -> int:
    """Deliveries the services recognised as duplicates (answered from the store)."""
    total = 0.0
    for s in services:
        for metric in s.metrics.registry.collect():
            if metric.name == "dirigent_service_duplicates":
                total += sum(x.value for x in metric.samples if x.name.endswith("_total"))
    return int(total)
