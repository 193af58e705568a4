"""The four participant services of the order-fulfilment saga, as ``dirigent.service.Service``.

Each reads ``<prefix><domain>.commands`` and replies on ``<prefix><domain>.events``
(the topics ``sagas.order_fulfilment.build_order_fulfilment(prefix=...)`` uses).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dirigent.events import AvroCodec, Event, SchemaCatalog, SingleObjectCodec
from dirigent.service import HandlerContext, Service
from dirigent.store import RedisClient
from dirigent.store.idempotency import IdempotencySettings
from dirigent.transport import Bootstrap, ConsumerSettings
from examples.shop.faults import FaultPlan
from examples.shop.ledger import EffectLedger
from examples.shop.participant import Participant, Verdict
from sagas.contracts import shop as c

__all__ = ["SERVICES", "ShopEnv", "build_service", "shop_codec"]


def shop_codec() -> AvroCodec:
    """A codec knowing every shop contract."""
    models: list[type[Event]] = [
        c.OrderPlaced, c.ApproveOrder, c.OrderApproved, c.ReserveStock, c.StockReserved,
        c.StockReservationFailed, c.ReleaseStock, c.StockReleased, c.AuthorizePayment,
        c.PaymentAuthorized, c.PaymentDeclined, c.VoidPayment, c.PaymentVoided,
        c.ScheduleShipment, c.ShipmentScheduled, c.ShipmentFailed,
    ]  # fmt: skip
    return SingleObjectCodec(SchemaCatalog(), models=models)


@dataclass(frozen=True, kw_only=True)
class ShopEnv:
    """Where the services of one run live: topics prefix, brokers, ledger."""

    prefix: str
    bootstrap: Bootstrap
    redis: RedisClient
    ledger: EffectLedger
    codec: AvroCodec
    idempotency_ttl_s: int = 24 * 3600
    consumer: ConsumerSettings | None = None

    def participant(self, name: str, faults: FaultPlan) -> Participant:
        return Participant(name, self.ledger, faults)

    def service(self, domain: str) -> Service:
        return Service(
            domain, codec=self.codec, topics=[f"{self.prefix}{domain}.commands"],
            reply_topic=f"{self.prefix}{domain}.events", bootstrap=self.bootstrap,
            redis=self.redis, group_id=f"{self.prefix}{domain}",
            idempotency=IdempotencySettings(ttl_s=self.idempotency_ttl_s),
            consumer_settings=self.consumer,
        )  # fmt: skip


def inventory(env: ShopEnv, faults: FaultPlan) -> Service:
    service, p = env.service("inventory"), env.participant("inventory", faults)

    @service.handles(c.ReserveStock)
    async def reserve(cmd: c.ReserveStock, ctx: HandlerContext) -> Event | None:
        rid = f"res-{ctx.idempotency_key}"
        match await p.act(ctx, "reserve_stock", cmd.order_id, ref=rid, refusable=True):
            case Verdict.APPLIED:
                return c.StockReserved(order_id=cmd.order_id, reservation_id=rid)
            case Verdict.REFUSED:
                return c.StockReservationFailed(order_id=cmd.order_id, reason="out of stock")
        return None

    @service.handles(c.ReleaseStock)
    async def release(cmd: c.ReleaseStock, ctx: HandlerContext) -> Event | None:
        if await p.undo(ctx, "release_stock", "reserve_stock", cmd.order_id) is Verdict.APPLIED:
            return c.StockReleased(order_id=cmd.order_id)
        return None

    return service


def payments(env: ShopEnv, faults: FaultPlan) -> Service:
    service, p = env.service("payments"), env.participant("payments", faults)

    @service.handles(c.AuthorizePayment)
    async def authorize(cmd: c.AuthorizePayment, ctx: HandlerContext) -> Event | None:
        aid = f"auth-{ctx.idempotency_key}"
        match await p.act(ctx, "authorize_payment", cmd.order_id, ref=aid, refusable=True):
            case Verdict.APPLIED:
                return c.PaymentAuthorized(order_id=cmd.order_id, authorization_id=aid)
            case Verdict.REFUSED:
                return c.PaymentDeclined(order_id=cmd.order_id, reason="card declined")
        return None

    @service.handles(c.VoidPayment)
    async def void(cmd: c.VoidPayment, ctx: HandlerContext) -> Event | None:
        undone = await p.undo(ctx, "void_payment", "authorize_payment", cmd.order_id)
        if undone is Verdict.APPLIED:
            return c.PaymentVoided(order_id=cmd.order_id)
        return None

    return service


def shipping(env: ShopEnv, faults: FaultPlan) -> Service:
    service, p = env.service("shipping"), env.participant("shipping", faults)

    @service.handles(c.ScheduleShipment)
    async def schedule(cmd: c.ScheduleShipment, ctx: HandlerContext) -> Event | None:
        sid = f"ship-{ctx.idempotency_key}"
        match await p.act(ctx, "schedule_shipment", cmd.order_id, ref=sid, refusable=True):
            case Verdict.APPLIED:
                return c.ShipmentScheduled(order_id=cmd.order_id, shipment_id=sid)
            case Verdict.REFUSED:
                return c.ShipmentFailed(order_id=cmd.order_id, reason="no carrier")
        return None

    return service


def orders(env: ShopEnv, faults: FaultPlan) -> Service:
    service, p = env.service("orders"), env.participant("orders", faults)

    @service.handles(c.ApproveOrder)
    async def approve(cmd: c.ApproveOrder, ctx: HandlerContext) -> Event | None:
        # Retriable after the pivot: approving never refuses, it may only be slow or silent.
        if await p.act(ctx, "approve_order", cmd.order_id) is Verdict.APPLIED:
            return c.OrderApproved(order_id=cmd.order_id)
        return None

    return service


SERVICES: Mapping[str, Callable[[ShopEnv, FaultPlan], Service]] = {
    "inventory": inventory,
    "payments": payments,
    "shipping": shipping,
    "orders": orders,
}


def build_service(name: str, env: ShopEnv, faults: FaultPlan) -> Service:
    """One of ``SERVICES`` by name."""
    return SERVICES[name](env, faults)
