"""One shop for the whole package: a coordinator and a scripted participant running real
sagas to every end (completed, compensated, parked), a dead-letter topic with two
causes, and two dashboards over them: one with a token, one without."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from dirigent.config import Settings
from dirigent.coordinator import Coordinator, CoordinatorSettings
from dirigent.dashboard import DashboardSettings
from dirigent.events import Envelope, Event, SagaTransition, SchemaCatalog, SingleObjectCodec
from dirigent.saga import SagaStatus
from dirigent.transport import OutgoingRecord, RawProducer, TopicSpec, delete_topics, ensure_topics
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
    StockReleased,
    StockReserved,
)
from tests.integration.coordinator.test_coordinator_e2e import (
    DECLINED_AMOUNT,
    PARTITIONS,
    reply_to,
    shop_saga,
)
from tests.integration.dashboard.server import DashboardServer
from tests.integration.ops.dlt_support import command, dead_letter, failure, shop_codec
from tests.support.infra import Infra
from tests.support.responder import Responder

TOKEN = "dashboard-test-token"
SILENT = 7_001  # the payment service never answers: the pivot times out, the saga parks
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "dashboard"


@dataclass(frozen=True)
class World:
    uid: str
    prefix: str
    group_id: str
    audit_topic: str
    dlt: str
    completed: tuple[str, ...]
    compensated: str
    parked: tuple[str, ...]
    fingerprints: tuple[str, str, str]  # declined, timeout (saga-bound), orphan
    armed: str  # the dashboard with a token
    bare: str  # the dashboard without one
    bootstrap: str
    replays_dir: Path


def _rule(command: Event) -> Event | None:
    if isinstance(command, AuthorizePayment) and command.amount_cents == SILENT:
        return None
    return reply_to(command)


def _order(order_id: str, amount: int) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        customer_id="c1",
        currency="EUR",
        amount_cents=amount,
        items=[OrderLine(sku="sku-1", quantity=1)],
    )


async def _place(
    bootstrap: str, topic: str, codec: SingleObjectCodec, orders: list[OrderPlaced]
) -> None:
    records = []
    for o in orders:
        env = Envelope.new(
            type=o.event_type,
            source="test",
            saga_id=o.order_id,
            schema_ref=codec.schema_ref(OrderPlaced),
        )
        records.append(
            OutgoingRecord(topic, codec.encode(o), env.record_key, tuple(env.to_headers()))
        )
    async with RawProducer(bootstrap) as producer:
        await producer.send_batch(records)


async def _settled(coordinator: Coordinator, expected: int, timeout_s: float = 60) -> None:
    async with asyncio.timeout(timeout_s):
        await coordinator.started.wait()
        assert coordinator.parts is not None
        while True:
            n = 0
            for p in range(PARTITIONS):
                for status in SagaStatus:
                    if status.settled:
                        n += await coordinator.parts.store.count_status(p, status)
            if n >= expected:
                return
            await asyncio.sleep(0.2)


async def _dead_letters(
    bootstrap: str, dlt: str, prefix: str, sagas: list[str]
) -> tuple[str, str, str]:
    """Five ReserveStock commands of the sagas, in two causes; two ApproveOrder commands
    of no saga (a replay sends them: the participant answers them)."""
    codec = shop_codec(ReserveStock, ApproveOrder)
    fps = ("fp-declined", "fp-timeout", "fp-orphan")
    now_ms = int(time.time() * 1000)
    inventory, orders = f"{prefix}-inventory.commands", f"{prefix}-orders.commands"
    letters = [
        (
            command(
                codec, ReserveStock(order_id=s, items=[]), topic=inventory, saga_id=s, offset=i
            ),
            failure(
                fps[i % 2],
                cls="app.errors.Declined" if i % 2 == 0 else "app.errors.Timeout",
                message=f"failure {i}",
                at_ms=now_ms - 1000 * i,
            ),
        )
        for i, s in enumerate(sagas)
    ]
    letters += [
        (
            command(
                codec, ApproveOrder(order_id=f"lost-{i}"), topic=orders, saga_id=None, offset=i
            ),
            failure(fps[2], cls="app.errors.Unavailable", message="orders down", at_ms=now_ms),
        )
        for i in range(2)
    ]
    await dead_letter(bootstrap, dlt, letters)
    return fps


@pytest.fixture(scope="package")
async def world(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    uid = uuid.uuid4().hex[:10]
    prefix = f"dash{uid}"
    bootstrap = infra.kafka_bootstrap
    topics = [
        f"{prefix}-{d}.{k}"
        for d in ("inventory", "payments", "orders")
        for k in ("commands", "events")
    ]
    transitions, audit = f"{prefix}.transitions", f"{prefix}.audit"
    dlt = f"{prefix}-inventory.commands.dlt"
    input_dlts = [f"{prefix}-{d}.events.dlt" for d in ("inventory", "payments", "orders")]
    everything = [*topics, transitions, audit, dlt, *input_dlts, f"coord-{uid}.admin"]
    await ensure_topics(
        bootstrap, [TopicSpec(t, PARTITIONS) for t in [*topics, transitions, audit]]
    )
    await ensure_topics(bootstrap, [TopicSpec(t, 1) for t in [dlt, *input_dlts]])
    codec = SingleObjectCodec(
        SchemaCatalog(),
        models=[
            OrderPlaced,
            ReserveStock,
            StockReserved,
            ReleaseStock,
            StockReleased,
            AuthorizePayment,
            PaymentAuthorized,
            PaymentDeclined,
            ApproveOrder,
            OrderApproved,
            SagaTransition,
        ],
    )
    settings = Settings(kafka_bootstrap=bootstrap, redis_url=infra.redis_url)
    cfg = CoordinatorSettings(
        group_id=f"coord-{uid}", transitions_topic=transitions, audit_topic=audit
    )
    coordinator = Coordinator([shop_saga(prefix, timeout_s=1.0)], settings=settings, config=cfg)
    completed = (f"done-a-{uid}", f"done-b-{uid}")
    compensated, parked = f"undone-{uid}", (f"parked-a-{uid}", f"parked-b-{uid}")
    orders = [
        _order(completed[0], 100),
        _order(completed[1], 200),
        _order(compensated, DECLINED_AMOUNT),
        *(_order(p, SILENT) for p in parked),
    ]
    replays = tmp_path_factory.mktemp("replays")
    base = {
        "group_id": cfg.group_id,
        "partitions": PARTITIONS,
        "transitions_topic": transitions,
        "audit_topic": audit,
        "dlt_topics": (dlt,),
        "replays_dir": replays,
        "action_wait_s": 30.0,
    }
    async with Responder(
        bootstrap, sorted(coordinator_topics(prefix)), codec, _rule, group=f"resp-{uid}"
    ):
        task = asyncio.create_task(coordinator.run())
        try:
            await _place(bootstrap, f"{prefix}-orders.events", codec, orders)
            await _settled(coordinator, len(orders))
            fps = await _dead_letters(bootstrap, dlt, prefix, [*completed, compensated, *parked])
            armed = DashboardServer(settings, DashboardSettings(token=SecretStr(TOKEN), **base))
            bare = DashboardServer(settings, DashboardSettings(**base))
            with armed as armed_url, bare as bare_url:
                yield World(
                    uid,
                    prefix,
                    cfg.group_id,
                    audit,
                    dlt,
                    completed,
                    compensated,
                    parked,
                    fps,
                    armed_url,
                    bare_url,
                    bootstrap,
                    replays,
                )
        finally:
            coordinator.stop()
            await task
    await delete_topics(bootstrap, everything)
    redis = Redis.from_url(infra.redis_url)
    keys = [k async for k in redis.scan_iter(match=f"*{uid}*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def coordinator_topics(prefix: str) -> list[str]:
    return [f"{prefix}-{d}.commands" for d in ("inventory", "payments", "orders")]
