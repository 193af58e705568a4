"""The coordinator against the real broker and Redis, with a scripted participant."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

import pytest

from dirigent.config import Settings
from dirigent.coordinator import Coordinator, CoordinatorSettings
from dirigent.events import (
    Envelope,
    Event,
    SagaTransition,
    SchemaCatalog,
    SingleObjectCodec,
    read_transitions,
)
from dirigent.saga import Compensation, SagaDefinition, SagaStatus, Step, StepKind, define_saga
from dirigent.transport import BatchConsumer, OutgoingRecord, RawProducer, TopicSpec, ensure_topics
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
    StockLine,
    StockReleased,
    StockReserved,
    VoidPayment,
)
from tests.support.infra import Infra
from tests.support.responder import Responder

PARTITIONS = 3
DECLINED_AMOUNT = 13


def reserve_command(d: dict) -> ReserveStock:  # type: ignore[type-arg]
    if d["customer_id"] == "boom":
        raise ValueError("saga code cannot build a command for customer boom")
    if d["customer_id"] == "none":
        return None  # type: ignore[return-value]  # an authoring mistake, on purpose
    return ReserveStock(order_id=d["order_id"], items=[StockLine(**i) for i in d["items"]])


def shop_saga(prefix: str, timeout_s: float = 30.0) -> SagaDefinition:
    return define_saga(
        "shop_order",
        start=OrderPlaced,
        saga_id="order_id",
        steps=[
            Step(
                name="reserve",
                command=reserve_command,
                timeout_s=timeout_s,
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
                timeout_s=timeout_s,
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


SILENT_AMOUNT = 7  # the payment service never answers these


def reply_to(command: Event) -> Event | None:
    match command:
        case ReserveStock(order_id=oid):
            return StockReserved(order_id=oid, reservation_id=f"r-{oid}")
        case ReleaseStock(order_id=oid):
            return StockReleased(order_id=oid)
        case AuthorizePayment(order_id=oid, amount_cents=amount):
            if amount == SILENT_AMOUNT:
                return None
            if amount == DECLINED_AMOUNT:
                return PaymentDeclined(order_id=oid, reason="card declined")
            return PaymentAuthorized(order_id=oid, authorization_id=f"a-{oid}")
        case VoidPayment(order_id=oid):
            return PaymentVoided(order_id=oid)  # also when there is nothing to void
        case ApproveOrder(order_id=oid):
            return OrderApproved(order_id=oid)
    return None


@dataclass
class Shop:
    prefix: str
    saga: SagaDefinition
    codec: SingleObjectCodec
    settings: Settings


@pytest.fixture
async def shop(infra: Infra, uid: str) -> Shop:
    prefix = f"e2e{uid}"
    topics = [f"{prefix}-{d}.{k}" for d in ("inventory", "payments", "orders")
              for k in ("commands", "events")]  # fmt: skip
    await ensure_topics(infra.kafka_bootstrap, [TopicSpec(t, PARTITIONS) for t in topics])
    await ensure_topics(infra.kafka_bootstrap, [TopicSpec(f"{prefix}.transitions", PARTITIONS)])
    codec = SingleObjectCodec(SchemaCatalog(), models=[
        OrderPlaced, ReserveStock, StockReserved, ReleaseStock, StockReleased, AuthorizePayment,
        PaymentAuthorized, PaymentDeclined, ApproveOrder, OrderApproved, SagaTransition,
    ])  # fmt: skip
    settings = Settings(kafka_bootstrap=infra.kafka_bootstrap, redis_url=infra.redis_url)
    return Shop(prefix, shop_saga(prefix, timeout_s=1.0), codec, settings)


def order(i: int, amount: int = 100, customer: str = "c1") -> OrderPlaced:
    return OrderPlaced(
        order_id=f"o{i}", customer_id=customer, items=[OrderLine(sku="sku-1", quantity=1)],
        amount_cents=amount, currency="EUR",
    )  # fmt: skip


async def place(shop: Shop, orders: list[OrderPlaced], extra: list[OutgoingRecord] = ()) -> None:
    records = []
    for o in orders:
        env = Envelope.new(type=o.event_type, source="test", saga_id=o.order_id,
                           schema_ref=shop.codec.schema_ref(OrderPlaced))  # fmt: skip
        records.append(OutgoingRecord(f"{shop.prefix}-orders.events", shop.codec.encode(o),
                                      env.record_key, tuple(env.to_headers())))  # fmt: skip
    async with RawProducer(shop.settings.kafka_bootstrap) as producer:
        await producer.send_batch([*records, *extra])


async def wait_terminal(
    coordinator: Coordinator, expected: int, timeout_s: float = 60
) -> Counter[str]:
    async with asyncio.timeout(timeout_s):
        await coordinator.started.wait()
        assert coordinator.parts is not None
        while True:
            counts: Counter[str] = Counter()
            for p in range(PARTITIONS):
                for status in SagaStatus:
                    counts[status] += await coordinator.parts.store.count_status(p, status)
            if sum(counts[s] for s in SagaStatus if s.settled) >= expected:
                return counts
            await asyncio.sleep(0.1)


def config(shop: Shop, uid: str) -> CoordinatorSettings:
    return CoordinatorSettings(
        group_id=f"coord-{uid}", transitions_topic=f"{shop.prefix}.transitions"
    )


async def test_sagas_complete_or_compensate_and_every_transition_is_published(
    shop: Shop, uid: str
) -> None:
    orders = [order(i, DECLINED_AMOUNT if i % 5 == 0 else 100) for i in range(40)]
    coordinator = Coordinator([shop.saga], settings=shop.settings, config=config(shop, uid))
    command_topics = sorted(shop.saga.command_topics)
    async with Responder(shop.settings.kafka_bootstrap, command_topics, shop.codec, reply_to,
                         group=f"resp-{uid}") as responder:  # fmt: skip
        task = asyncio.create_task(coordinator.run())
        await place(shop, orders)
        counts = await wait_terminal(coordinator, len(orders))
        coordinator.stop()
        await task

    assert counts["COMPLETED"] == 32
    assert counts["COMPENSATED"] == 8
    commands = Counter(type(c).__name__ for _, c in responder.ledger)
    assert commands["ReleaseStock"] == 8  # exactly the declined orders were undone
    assert commands["ApproveOrder"] == 32
    released = {c.order_id for _, c in responder.ledger if isinstance(c, ReleaseStock)}
    assert released == {o.order_id for o in orders if o.amount_cents == DECLINED_AMOUNT}

    transitions = await read_all(shop, f"{shop.prefix}.transitions", uid)
    final = {
        t.saga_id: t.to_status for t in transitions if t.to_status in ("COMPLETED", "COMPENSATED")
    }
    assert len(final) == 40


async def read_all(shop: Shop, topic: str, uid: str) -> list[SagaTransition]:
    out: list[SagaTransition] = []
    async with BatchConsumer(shop.settings.kafka_bootstrap, [topic], group_id=f"read-{uid}") as c:
        async with asyncio.timeout(20):
            while True:
                batch = await c.getmany(timeout_ms=500)
                if not batch and out:
                    return out
                out += [t for rs in batch.values() for r in rs
                        for t in read_transitions(shop.codec, r.value or b"")]  # fmt: skip


async def test_poison_input_is_dead_lettered_and_the_partition_moves_on(
    shop: Shop, uid: str, infra: Infra
) -> None:
    await ensure_topics(infra.kafka_bootstrap, [TopicSpec(f"{shop.prefix}-orders.events.dlt")])
    good = order(1)
    env = Envelope.new(type=OrderPlaced.event_type, source="test", saga_id="o-bad",
                       schema_ref=shop.codec.schema_ref(OrderPlaced))  # fmt: skip
    poison = OutgoingRecord(f"{shop.prefix}-orders.events", b"\xc3\x01garbage!", b"o-bad",
                            (*env.to_headers(), ("x-extra", b"\x00\x01")), partition=0)  # fmt: skip
    coordinator = Coordinator([shop.saga], settings=shop.settings, config=config(shop, uid))
    async with Responder(shop.settings.kafka_bootstrap, sorted(shop.saga.command_topics),
                         shop.codec, reply_to, group=f"resp-{uid}"):  # fmt: skip
        task = asyncio.create_task(coordinator.run())
        await place(shop, [], [poison])
        await place(shop, [good])
        counts = await wait_terminal(coordinator, 1)
        coordinator.stop()
        await task
    assert counts["COMPLETED"] == 1

    async with BatchConsumer(shop.settings.kafka_bootstrap, [f"{shop.prefix}-orders.events.dlt"],
                             group_id=f"dlt-{uid}") as c:  # fmt: skip
        async with asyncio.timeout(20):
            batch: dict = {}
            while not batch:
                batch = await c.getmany(timeout_ms=500)
    [dead] = [r for rs in batch.values() for r in rs]
    assert dead.value == poison.value
    assert dead.key == poison.key
    assert dead.headers[: len(poison.headers)] == poison.headers
    diag = dict(dead.headers[len(poison.headers) :])
    assert diag["dirigent-dlt-offset"] == b"0"
    assert diag["dirigent-dlt-error-class"] == b"dirigent.errors.UnknownSchema"
