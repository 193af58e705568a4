"""A small shop for replay tests: a coordinator, an inventory service that can be broken
(its dead letters are what gets replayed) and an orders participant.

The saga reserves stock (undone by releasing it), then approves the order. The reserve
step's timeout is long, so a reserve command sitting in the dead-letter topic leaves its
saga waiting (RUNNING) until it is replayed, or until an operator compensates it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from redis.asyncio import Redis

from dirigent.config import Settings
from dirigent.coordinator import Coordinator, CoordinatorSettings
from dirigent.errors import NonRetryableError
from dirigent.events import Envelope, Event, SagaTransition, SchemaCatalog, SingleObjectCodec
from dirigent.ops import find_saga
from dirigent.ops.replay import load_dead_letters
from dirigent.saga import Compensation, SagaDefinition, SagaStatus, Step, StepKind, define_saga
from dirigent.service import HandlerContext, HandlerRetry, Service
from dirigent.transport import OutgoingRecord, RawProducer, TopicSpec, dlt_topic, ensure_topics
from sagas.contracts.shop import (
    ApproveOrder,
    OrderApproved,
    OrderLine,
    OrderPlaced,
    ReleaseStock,
    ReserveStock,
    StockLine,
    StockReleased,
    StockReserved,
)
from tests.support.infra import Infra
from tests.support.responder import Responder

PARTITIONS = 3
SAGA = "dlt_replay_order"


def saga(prefix: str) -> SagaDefinition:
    inventory = f"{prefix}-inventory.commands"
    return define_saga(
        SAGA,
        start=OrderPlaced,
        saga_id="order_id",
        start_topic=f"{prefix}-orders.events",
        steps=[
            Step(
                name="reserve",
                command=lambda d: ReserveStock(
                    order_id=d["order_id"],
                    items=[StockLine(sku=i["sku"], quantity=i["quantity"]) for i in d["items"]],
                ),
                topic=inventory,
                success=(StockReserved,),
                timeout_s=300.0,
                compensation=Compensation(
                    command=lambda d: ReleaseStock(order_id=d["order_id"]),
                    topic=inventory,
                    compensated=(StockReleased,),
                ),
            ),
            Step(
                name="approve",
                command=lambda d: ApproveOrder(order_id=d["order_id"]),
                topic=f"{prefix}-orders.commands",
                success=(OrderApproved,),
                kind=StepKind.PIVOT,
            ),
        ],
    )


CODEC_MODELS: list[type[Event]] = [
    OrderPlaced, ReserveStock, StockReserved, ReleaseStock, StockReleased, ApproveOrder,
    OrderApproved, SagaTransition,
]  # fmt: skip


@dataclass
class Shop:
    """One test's shop. ``broken``: the inventory service fails every ReserveStock."""

    infra: Infra
    uid: str
    redis: Redis
    prefix: str = field(init=False)
    group: str = field(init=False)
    codec: SingleObjectCodec = field(init=False)
    broken: bool = True
    reserved: Counter[str] = field(default_factory=Counter)  # handler runs per order id
    released: Counter[str] = field(default_factory=Counter)
    inventory: Service | None = None

    def __post_init__(self) -> None:
        self.prefix = f"rp{self.uid}"
        self.group = f"coord-{self.uid}"
        self.codec = SingleObjectCodec(SchemaCatalog(), models=CODEC_MODELS)

    @property
    def commands(self) -> str:
        return f"{self.prefix}-inventory.commands"

    @property
    def dlt(self) -> str:
        return dlt_topic(self.commands)

    def saga_args(self) -> tuple[str, ...]:
        return ("--group-id", self.group, "--partitions", str(PARTITIONS))

    async def create_topics(self) -> None:
        topics = [f"{self.prefix}-{d}.{k}" for d in ("inventory", "orders")
                  for k in ("commands", "events")]  # fmt: skip
        events_dlts = [dlt_topic(t) for t in topics if t.endswith(".events")]  # coordinator's
        specs = [TopicSpec(t, PARTITIONS) for t in [*topics, *events_dlts,
                                                    f"{self.prefix}.transitions",
                                                    f"{self.group}.admin"]]  # fmt: skip
        await ensure_topics(self.infra.kafka_bootstrap, specs)

    def _service(self) -> Service:
        service = Service(
            f"inventory-{self.uid}", codec=self.codec, topics=[self.commands],
            reply_topic=f"{self.prefix}-inventory.events", bootstrap=self.infra.kafka_bootstrap,
            redis=self.redis, retry=HandlerRetry(max_attempts=1),
        )  # fmt: skip

        @service.handles(ReserveStock)
        async def reserve(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved:
            if self.broken:
                raise NonRetryableError(f"warehouse offline for {cmd.order_id}")
            if any(i.quantity < 1 for i in cmd.items):
                raise NonRetryableError(f"quantity must be positive for {cmd.order_id}")
            self.reserved[cmd.order_id] += 1
            return StockReserved(order_id=cmd.order_id, reservation_id=f"r-{cmd.order_id}")

        @service.handles(ReleaseStock)
        async def release(cmd: ReleaseStock, ctx: HandlerContext) -> StockReleased:
            self.released[cmd.order_id] += 1
            return StockReleased(order_id=cmd.order_id)

        return service

    async def place(self, *order_ids: str, quantity: int = 1) -> None:
        records = []
        for oid in order_ids:
            o = OrderPlaced(order_id=oid, customer_id="c", amount_cents=100, currency="EUR",
                            items=[OrderLine(sku="sku-1", quantity=quantity)])  # fmt: skip
            env = Envelope.new(type=o.event_type, source="test", saga_id=oid,
                               schema_ref=self.codec.schema_ref(OrderPlaced))  # fmt: skip
            records.append(OutgoingRecord(f"{self.prefix}-orders.events", self.codec.encode(o),
                                          env.record_key, tuple(env.to_headers())))  # fmt: skip
        async with RawProducer(self.infra.kafka_bootstrap) as producer:
            await producer.send_batch(records)

    async def command_without_saga(self, order_id: str) -> None:
        """A ReserveStock that belongs to no saga (a tool or a script sent it)."""
        cmd = ReserveStock(order_id=order_id, items=[StockLine(sku="s", quantity=1)])
        env = Envelope.new(type=cmd.event_type, source="script",
                           schema_ref=self.codec.schema_ref(ReserveStock))  # fmt: skip
        record = OutgoingRecord(self.commands, self.codec.encode(cmd), order_id.encode(),
                                tuple(env.to_headers()))  # fmt: skip
        async with RawProducer(self.infra.kafka_bootstrap) as producer:
            await producer.send(record)

    async def status(self, saga_id: str) -> str | None:
        view = await find_saga(self.redis, self.group, saga_id, partitions=PARTITIONS)
        return view.status if view else None

    async def dead_letters(self) -> int:
        return len(await load_dead_letters(self.infra.kafka_bootstrap, self.dlt))


async def wait_until(cond: Callable[[], object], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        value = cond()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(0.2)


async def wait_status(shop: Shop, statuses: dict[str, SagaStatus], timeout_s: float = 60) -> None:
    async def reached() -> bool:
        return all([await shop.status(s) == st.value for s, st in statuses.items()])

    await wait_until(reached, f"sagas {statuses}", timeout_s)


@contextlib.asynccontextmanager
async def running_shop(infra: Infra, uid: str, redis: Redis) -> AsyncIterator[Shop]:
    """The shop with its coordinator, inventory service and orders participant running."""
    shop = Shop(infra, uid, redis)
    await shop.create_topics()
    settings = Settings(kafka_bootstrap=infra.kafka_bootstrap, redis_url=infra.redis_url)
    config = CoordinatorSettings(
        group_id=shop.group, transitions_topic=f"{shop.prefix}.transitions"
    )
    coordinator = Coordinator([saga(shop.prefix)], settings=settings, config=config)
    shop.inventory = shop._service()
    approve = Responder(infra.kafka_bootstrap, [f"{shop.prefix}-orders.commands"], shop.codec,
                        lambda c: OrderApproved(order_id=c.order_id),  # type: ignore[attr-defined]
                        group=f"orders-{uid}")  # fmt: skip
    tasks = [asyncio.create_task(coordinator.run()), asyncio.create_task(shop.inventory.run())]
    try:
        async with approve:
            await asyncio.wait_for(coordinator.started.wait(), 60)
            yield shop
    finally:
        coordinator.stop()
        shop.inventory.stop()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
