"""The shop's participants for the heavy suite, on ``dirigent.service.Service``.

Every effect a participant applies is appended to an **effect ledger** in Redis, keyed by
the command's message id (``ctx.idempotency_key``), before the reply is returned. The
ledger is what the suite audits: an effect applied twice, or a compensation without the
effect it undoes, is visible there no matter what the coordinator believed.

Faults are scripted by the order id's suffix (see ``order_id``):

- ``decline``: payments answers ``PaymentDeclined`` (non-retryable, so compensation);
- ``mute-inv`` / ``mute-pay``: inventory / payments stay silent on the forward command
  (no effect, no reply), so the step times out, is retried, and finally compensated;
- ``late-inv`` / ``late-pay``: inventory / payments apply the forward command, then reply
  only after ``late_s`` (longer than the step's timeout), on the first delivery of a
  command id; a re-delivery of that id is answered at once.

Effects are idempotent by command id, as the ``Service`` docs ask of a real handler: a
handler that runs again for a command id already applied (a redelivery after a store
failure) counts an application but adds no effect. Compensations accept "nothing to
undo": a release or void whose effect never happened (or was already undone) succeeds
and is recorded as a ``release-nothing`` / ``void-nothing`` entry, never as an effect.
A compensation without a reference (the step's outcome was unknown) undoes whatever
the order holds of that kind.
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
LATE_INVENTORY, LATE_PAYMENTS = "late-inv", "late-pay"
FORWARD = ("reserve", "authorize", "ship", "approve")
UNDO = {"release": "reserve", "void": "authorize"}  # compensation -> the effect it undoes
NOTHING = "-nothing"  # suffix of a compensation that found nothing to undo

# Applies a forward effect once per command id.
# KEYS = applications hash, ledger list, the saga's effects list; ARGV = command id, entry.
_APPLY_ONCE = """
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
if n == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  redis.call('RPUSH', KEYS[3], ARGV[2])
end
return n
"""
# Undoes the saga's effects of one kind, each once. KEYS = applications, ledger, the
# saga's effects, undone set; ARGV = command id, kind undone, undo kind, saga id, ref
# ('' = every effect of that kind).
_UNDO = """
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
if n > 1 then return 0 end
local done = 0
for _, raw in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
  local e = cjson.decode(raw)
  if e.k == ARGV[2] and (ARGV[5] == '' or e.r == ARGV[5]) then
    if redis.call('SADD', KEYS[4], e.r) == 1 then
      redis.call('RPUSH', KEYS[2], cjson.encode({k=ARGV[3], s=ARGV[4], c=ARGV[1], r=e.r}))
      done = done + 1
    end
  end
end
if done == 0 then
  redis.call('RPUSH', KEYS[2],
    cjson.encode({k=ARGV[3] .. '-nothing', s=ARGV[4], c=ARGV[1], r=ARGV[5]}))
end
return done
"""


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
        self.undone_key = f"heavy:{namespace}:undone"
        self.silenced = 0
        self._apply = redis.register_script(_APPLY_ONCE)
        self._undo = redis.register_script(_UNDO)

    async def apply(self, kind: str, saga_id: str, command_id: str, ref: str) -> None:
        """Record a forward effect; a second run for the same command id adds none."""
        entry = json.dumps({"k": kind, "s": saga_id, "c": command_id, "r": ref})
        keys = [self.count_key, self.log_key, self._saga_key(saga_id)]
        await self._apply(keys=keys, args=[command_id, entry])

    async def undo(self, kind: str, saga_id: str, command_id: str, ref: str | None) -> None:
        """Undo the saga's ``UNDO[kind]`` effect ``ref`` (every one if None), or nothing."""
        keys = [self.count_key, self.log_key, self._saga_key(saga_id), self.undone_key]
        await self._undo(keys=keys, args=[command_id, UNDO[kind], kind, saga_id, ref or ""])

    def _saga_key(self, saga_id: str) -> str:
        return f"{self.log_key}:{saga_id}"

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


class Lateness:
    """Delays the first reply to each command id of ``late-*`` orders by ``late_s``."""

    def __init__(self, late_s: float) -> None:
        self.late_s = late_s
        self.seen: set[str] = set()
        self.delayed = 0

    async def wait(self, tag: str, order: str, command_id: str) -> None:
        if self.late_s <= 0 or fault(order) != tag or command_id in self.seen:
            return
        self.seen.add(command_id)
        self.delayed += 1
        await asyncio.sleep(self.late_s)  # the behaviour under test: a slow participant


def _services(
    bootstrap: str, redis: Redis, uid: str, prefix: str, ledger: EffectLedger, late: Lateness
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
        await late.wait(LATE_INVENTORY, cmd.order_id, ctx.idempotency_key)
        return StockReserved(order_id=cmd.order_id, reservation_id=ref)

    @inventory.handles(ReleaseStock)
    async def release(cmd: ReleaseStock, ctx: HandlerContext) -> StockReleased:
        await ledger.undo("release", cmd.order_id, ctx.idempotency_key, cmd.reservation_id)
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
        await late.wait(LATE_PAYMENTS, cmd.order_id, ctx.idempotency_key)
        return PaymentAuthorized(order_id=cmd.order_id, authorization_id=ref)

    @payments.handles(VoidPayment)
    async def void(cmd: VoidPayment, ctx: HandlerContext) -> PaymentVoided:
        await ledger.undo("void", cmd.order_id, ctx.idempotency_key, cmd.authorization_id)
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
    bootstrap: str,
    redis: Redis,
    uid: str,
    prefix: str,
    *,
    ledger_redis: Redis | None = None,
    late_s: float = 0.0,
    tasks_out: list[asyncio.Task[None]] | None = None,
) -> AsyncIterator[tuple[EffectLedger, Sequence[Service]]]:
    """The four shop services, running until the block ends (drained and committed).

    ``ledger_redis``: where the effect ledger lives (default: ``redis``); ``late_s``: the
    reply delay of ``late-*`` orders; ``tasks_out`` receives the services' tasks, so a
    caller can tell that one died.
    """
    ledger = EffectLedger(ledger_redis or redis, uid)
    services = _services(bootstrap, redis, uid, prefix, ledger, Lateness(late_s))
    tasks = [asyncio.create_task(s.run(), name=s.name) for s in services]
    if tasks_out is not None:
        tasks_out.extend(tasks)
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
