"""A real Prometheus scrapes a running coordinator and a participant service; its HTTP
API answers with dirigent's metrics, with the values the sagas that ran must give.

Ten orders: seven complete, two are declined (their stock reservation is compensated),
one waits for a payment reply that never comes (in flight, its deadline near).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from dirigent.config import Settings
from dirigent.coordinator import Coordinator, CoordinatorSettings
from dirigent.events import Envelope, Event, SagaTransition, SchemaCatalog, SingleObjectCodec
from dirigent.saga import Compensation, SagaDefinition, SagaStatus, Step, StepKind, define_saga
from dirigent.service import HandlerContext, Service, ServiceSettings
from dirigent.transport import OutgoingRecord, RawProducer, TopicSpec, delete_topics, ensure_topics
from sagas.contracts.shop import (
    AuthorizePayment,
    OrderLine,
    OrderPlaced,
    PaymentAuthorized,
    PaymentDeclined,
    ReleaseStock,
    ReserveStock,
    StockReleased,
    StockReserved,
)
from tests.integration.observability.prometheus_server import (
    PROMETHEUS,
    PrometheusApi,
    free_port,
    prometheus,
)
from tests.support.infra import Infra
from tests.support.promql import grafana_to_promql, panel_queries

pytestmark = pytest.mark.skipif(
    PROMETHEUS is None,
    reason="prometheus not installed (apt-get install prometheus; make deps does)",
)

PARTITIONS = 2
DECLINED, SILENT = 13, 7
AMOUNTS = [100, 100, 100, DECLINED, 100, 100, DECLINED, 100, 100, SILENT]
SAGA = "obs_order"


def saga(prefix: str) -> SagaDefinition:
    inventory = f"{prefix}-inventory.commands"
    return define_saga(
        SAGA, start=OrderPlaced, start_topic=f"{prefix}-orders.events", saga_id="order_id",
        deadline_s=600,
        steps=[
            Step(name="reserve", topic=inventory, success=(StockReserved,), timeout_s=60,
                 command=lambda d: ReserveStock(order_id=d["order_id"], items=[]),
                 compensation=Compensation(
                     command=lambda d: ReleaseStock(order_id=d["order_id"]), topic=inventory,
                     compensated=(StockReleased,))),
            Step(name="pay", topic=f"{prefix}-payments.commands", kind=StepKind.PIVOT,
                 success=(PaymentAuthorized,), failure=(PaymentDeclined,), timeout_s=60,
                 command=lambda d: AuthorizePayment(
                     order_id=d["order_id"], customer_id="c", amount_cents=d["amount_cents"],
                     currency="EUR")),
        ],
    )  # fmt: skip


def shop_service(prefix: str, codec: SingleObjectCodec, infra: Infra, redis: Redis) -> Service:
    service = Service(
        f"obs-shop-{prefix}", codec=codec, bootstrap=infra.kafka_bootstrap, redis=redis,
        topics=[f"{prefix}-inventory.commands", f"{prefix}-payments.commands"],
        reply_topic=f"{prefix}-inventory.events",
        settings=ServiceSettings(metrics_port=free_port()),
    )  # fmt: skip

    @service.handles(ReserveStock)
    async def reserve(cmd: ReserveStock, ctx: HandlerContext) -> Event:
        return StockReserved(order_id=cmd.order_id, reservation_id=f"r-{cmd.order_id}")

    @service.handles(ReleaseStock)
    async def release(cmd: ReleaseStock, ctx: HandlerContext) -> Event:
        return StockReleased(order_id=cmd.order_id)

    @service.handles(AuthorizePayment, reply_topic=f"{prefix}-payments.events")
    async def authorize(cmd: AuthorizePayment, ctx: HandlerContext) -> Event | None:
        if cmd.amount_cents == SILENT:
            return None
        if cmd.amount_cents == DECLINED:
            return PaymentDeclined(order_id=cmd.order_id, reason="card declined")
        return PaymentAuthorized(order_id=cmd.order_id, authorization_id=f"a-{cmd.order_id}")

    return service


@pytest.fixture
async def prefix(infra: Infra, uid: str) -> AsyncIterator[str]:
    prefix = f"obs{uid}"
    topics = [
        f"{prefix}-{d}.{k}" for d in ("inventory", "payments") for k in ("commands", "events")
    ]
    topics += [f"{prefix}-orders.events", f"{prefix}.transitions"]
    await ensure_topics(infra.kafka_bootstrap, [TopicSpec(t, PARTITIONS) for t in topics])
    yield prefix
    dlts = [f"{t}.dlt" for t in topics if t.endswith(".commands")]
    await delete_topics(infra.kafka_bootstrap, [*topics, *dlts, f"coord-{uid}.admin"])


async def place(bootstrap: str, prefix: str, codec: SingleObjectCodec) -> None:
    records = []
    for i, amount in enumerate(AMOUNTS):
        o = OrderPlaced(order_id=f"o{i}", customer_id="c", amount_cents=amount, currency="EUR",
                        items=[OrderLine(sku="s", quantity=1)])  # fmt: skip
        env = Envelope.new(type=o.event_type, source="test", saga_id=o.order_id,
                           schema_ref=codec.schema_ref(OrderPlaced))  # fmt: skip
        records.append(OutgoingRecord(f"{prefix}-orders.events", codec.encode(o),
                                      env.record_key, tuple(env.to_headers())))  # fmt: skip
    async with RawProducer(bootstrap) as producer:
        await producer.send_batch(records)


async def wait_settled(coordinator: Coordinator, expected: int) -> None:
    async with asyncio.timeout(60):
        await coordinator.started.wait()
        assert coordinator.parts is not None
        while True:
            settled = 0
            for p in range(PARTITIONS):
                for status in (s for s in SagaStatus if s.settled):
                    settled += await coordinator.parts.store.count_status(p, status)
            if settled >= expected:
                return
            await asyncio.sleep(0.1)


async def panels_with_data(prom: PrometheusApi) -> set[str]:
    """The titles of the panels one of whose queries gives a series now."""
    titles = set()
    for title, expr in panel_queries():
        if (await prom.get("query", query=grafana_to_promql(expr)))["result"]:
            titles.add(title)
    return titles


async def test_prometheus_scrapes_a_coordinator_and_a_service(
    infra: Infra, uid: str, prefix: str, redis: Redis, tmp_path: Path
) -> None:
    codec = SingleObjectCodec(SchemaCatalog(), models=[
        OrderPlaced, ReserveStock, StockReserved, ReleaseStock, StockReleased, AuthorizePayment,
        PaymentAuthorized, PaymentDeclined, SagaTransition,
    ])  # fmt: skip
    settings = Settings(kafka_bootstrap=infra.kafka_bootstrap, redis_url=infra.redis_url)
    config = CoordinatorSettings(group_id=f"coord-{uid}", transitions_topic=f"{prefix}.transitions",
                                 metrics_port=free_port(), gauge_interval_s=0.5,
                                 deadline_risk_s=3600)  # fmt: skip
    coordinator = Coordinator([saga(prefix)], settings=settings, config=config, codec=codec)
    service = shop_service(prefix, codec, infra, redis)
    assert config.metrics_port is not None
    assert service.settings.metrics_port is not None
    jobs = {"coordinator": config.metrics_port, "service": service.settings.metrics_port}
    tasks = [asyncio.create_task(coordinator.run()), asyncio.create_task(service.run())]
    try:
        async with prometheus(jobs, tmp_path) as prom:
            await place(infra.kafka_bootstrap, prefix, codec)
            await wait_settled(coordinator, len(AMOUNTS) - 1)

            async def scraped(promql: str, expected: float) -> None:
                """Wait (scrapes every second) until the query gives ``expected``."""
                got = None
                try:
                    async with asyncio.timeout(30):
                        while (got := await prom.value(promql)) != expected:
                            await asyncio.sleep(0.5)
                except TimeoutError:
                    raise AssertionError(f"{promql} = {got}, expected {expected}") from None

            await scraped('up{job="coordinator"}', 1)
            await scraped('up{job="service"}', 1)
            sagas = f'dirigent_sagas_total{{job="coordinator",saga_type="{SAGA}"'
            await scraped(f'{sagas},outcome="started"}}', 10)
            await scraped(f'{sagas},outcome="completed"}}', 7)
            await scraped(f'{sagas},outcome="compensated"}}', 2)
            await scraped('dirigent_compensations_total{step="reserve"}', 2)
            await scraped('dirigent_step_attempts_total{step="pay",phase="forward"}', 10)
            latency = 'dirigent_step_latency_seconds_count{step="%s",phase="%s"}'
            await scraped(latency % ("reserve", "forward"), 10)
            await scraped(latency % ("reserve", "compensation"), 2)
            await scraped(latency % ("pay", "forward"), 9)
            await scraped("dirigent_sagas_in_flight", 1)
            await scraped("dirigent_sagas_deadline_at_risk", 1)  # the silent one
            await scraped("dirigent_partitions_owned", PARTITIONS)
            await scraped("dirigent_outbox_depth", 0)
            handled = 'dirigent_service_handled_total{job="service",handler=~".*<locals>.%s"}'
            await scraped(handled % "reserve", 10)
            await scraped(handled % "release", 2)
            await scraped('dirigent_service_handler_seconds_count{handler=~".*authorize"}', 10)

            probe = f"http://127.0.0.1:{service.settings.metrics_port}/readyz"
            async with prom.session.get(probe) as response:
                assert response.status == 200  # the service consumes

            rules = (await prom.get("rules"))["groups"]
            health = {r["name"]: r["health"] for g in rules for r in g["rules"]}
            assert len(health) == 11
            assert set(health.values()) == {"ok"}, health

            # Every dashboard query is valid PromQL here; those that must show data do
            # (a rate needs two scrapes of a series: wait for them).
            shown = {"Saga throughput by outcome", "Compensations by step", "Step latency",
                     "Step attempts", "Outbox", "Handled", "Handler latency p95"}  # fmt: skip
            with_data: set[str] = set()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    while not shown <= with_data:
                        with_data = await panels_with_data(prom)
                        await asyncio.sleep(0.5)
            assert shown <= with_data, f"no data in {sorted(shown - with_data)}"
    finally:
        coordinator.stop()
        service.stop()
        await asyncio.gather(*tasks)
