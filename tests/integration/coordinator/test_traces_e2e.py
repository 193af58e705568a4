"""One saga across three services is one trace, and its log lines carry its id.

The coordinator and three real ``Service`` participants (inventory, payments, orders)
run over the real broker and Redis, each with its own tracer and in-memory exporter, as
separate processes would: the trace context crosses only in Kafka headers and the
stored saga state.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
import structlog
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from redis.asyncio import Redis

from dirigent.config import Settings
from dirigent.coordinator import Coordinator, CoordinatorSettings
from dirigent.events import Envelope, Event, SagaTransition, SchemaCatalog, SingleObjectCodec
from dirigent.observability import Tracing, configure_logging, configure_tracing
from dirigent.observability import logging as dirigent_logging
from dirigent.service import HandlerContext, Service
from dirigent.transport import OutgoingRecord, RawProducer, TopicSpec, delete_topics, ensure_topics
from sagas.contracts.shop import (
    ApproveOrder,
    AuthorizePayment,
    OrderApproved,
    OrderPlaced,
    PaymentAuthorized,
    PaymentDeclined,
    ReleaseStock,
    ReserveStock,
    StockReleased,
    StockReserved,
)
from tests.integration.coordinator.test_coordinator_e2e import (
    PARTITIONS,
    order,
    reply_to,
    shop_saga,
    wait_terminal,
)
from tests.support.infra import Infra

CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
DOMAINS = ("inventory", "payments", "orders")
HANDLES = {
    "inventory": (ReserveStock, ReleaseStock),
    "payments": (AuthorizePayment,),
    "orders": (ApproveOrder,),
}
MODELS: list[type[Event]] = [
    OrderPlaced, ReserveStock, StockReserved, ReleaseStock, StockReleased, AuthorizePayment,
    PaymentAuthorized, PaymentDeclined, ApproveOrder, OrderApproved, SagaTransition,
]  # fmt: skip


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    """JSON lines at DEBUG (aiokafka's own chatter at INFO) into a buffer, for one test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    aiokafka = logging.getLogger("aiokafka")
    buf = io.StringIO()
    configure_logging(json=True, level="DEBUG", stream=buf)
    aiokafka.setLevel(logging.INFO)
    yield buf
    aiokafka.setLevel(logging.NOTSET)
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    dirigent_logging._level = logging.INFO


@pytest.fixture
async def topics(infra: Infra, uid: str) -> AsyncIterator[str]:
    prefix = f"tr{uid}"
    names = [f"{prefix}-{d}.{k}" for d in DOMAINS for k in ("commands", "events")]
    await ensure_topics(infra.kafka_bootstrap, [TopicSpec(t, PARTITIONS) for t in names])
    await ensure_topics(infra.kafka_bootstrap, [TopicSpec(f"{prefix}.transitions", PARTITIONS)])
    yield prefix
    dlts = [f"{prefix}-{d}.commands.dlt" for d in DOMAINS]
    await delete_topics(infra.kafka_bootstrap, [*names, *dlts, f"{prefix}.transitions"])


def tracer(name: str) -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    return configure_tracing(Settings(service_name=name), environ={}, exporter=exporter), exporter


def participant(domain: str, prefix: str, uid: str, infra: Infra, redis: Redis,
                tracing: Tracing, codec: SingleObjectCodec) -> Service:  # fmt: skip
    service = Service(
        f"{domain}-{uid}", codec=codec, topics=[f"{prefix}-{domain}.commands"],
        reply_topic=f"{prefix}-{domain}.events", bootstrap=infra.kafka_bootstrap, redis=redis,
        tracing=tracing,
    )  # fmt: skip

    async def handle(command: Event, ctx: HandlerContext) -> Event | None:
        return reply_to(command)

    for model in HANDLES[domain]:
        service.add_handler(model, handle)
    return service


async def publish(bootstrap: str, prefix: str, codec: SingleObjectCodec,
                  starts: list[tuple[OrderPlaced, str | None]]) -> None:  # fmt: skip
    records = []
    for o, traceparent in starts:
        env = Envelope.new(type=o.event_type, source="checkout", saga_id=o.order_id,
                           schema_ref=codec.schema_ref(OrderPlaced),
                           traceparent=traceparent)  # fmt: skip
        records.append(OutgoingRecord(f"{prefix}-orders.events", codec.encode(o), env.record_key,
                                      tuple(env.to_headers())))  # fmt: skip
    async with RawProducer(bootstrap) as producer:
        await producer.send_batch(records)


def saga_of(span: ReadableSpan) -> object:
    return (span.attributes or {}).get("dirigent.saga.id")


def hex_ids(span: ReadableSpan) -> tuple[str, str, str | None]:
    assert span.context is not None
    parent = f"{span.parent.span_id:016x}" if span.parent is not None else None
    return f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}", parent


async def test_one_saga_across_three_services_is_one_trace_and_its_lines_carry_its_id(
    infra: Infra, uid: str, redis: Redis, topics: str, log_buffer: io.StringIO
) -> None:
    prefix = topics
    codec = SingleObjectCodec(SchemaCatalog(), models=MODELS)
    settings = Settings(kafka_bootstrap=infra.kafka_bootstrap, redis_url=infra.redis_url)
    coord_tracing, coord_spans = tracer("coordinator")
    coordinator = Coordinator(
        [shop_saga(prefix)], settings=settings, codec=codec, tracing=coord_tracing,
        config=CoordinatorSettings(group_id=f"coord-{uid}",
                                   transitions_topic=f"{prefix}.transitions"),
    )  # fmt: skip
    tracers = {d: tracer(d) for d in DOMAINS}
    services = [participant(d, prefix, uid, infra, redis, tracers[d][0], codec) for d in DOMAINS]
    traced, untraced = order(1), order(2)
    tasks = [asyncio.create_task(s.run()) for s in services]
    try:
        run = asyncio.create_task(coordinator.run())
        await publish(infra.kafka_bootstrap, prefix, codec, [
            (traced, f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"), (untraced, None),
        ])  # fmt: skip
        counts = await wait_terminal(coordinator, 2, timeout_s=90)
        coordinator.stop()
        await run
    finally:
        for service in services:
            service.stop()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
    assert counts["COMPLETED"] == 2

    for t in [coord_tracing, *(t for t, _ in tracers.values())]:
        assert t.flush()
        t.shutdown()
    ours = [s for s in coord_spans.get_finished_spans() if saga_of(s) == traced.order_id]
    by_name = {s.name: s for s in ours}
    assert sorted(by_name) == ["saga shop_order", "step approve", "step pay", "step reserve"]
    root_trace, root_id, root_parent = hex_ids(by_name["saga shop_order"])
    assert (root_trace, root_parent) == (CLIENT_TRACE, CLIENT_SPAN)  # under the checkout span
    steps = {}
    for name in ("step reserve", "step pay", "step approve"):
        trace_id, span_id, parent = hex_ids(by_name[name])
        assert (trace_id, parent) == (CLIENT_TRACE, root_id)
        steps[name.removeprefix("step ")] = span_id

    handled = {d: [s for s in exp.get_finished_spans() if hex_ids(s)[0] == CLIENT_TRACE]
               for d, (_, exp) in tracers.items()}  # fmt: skip
    for domain, step in (("inventory", "reserve"), ("payments", "pay"), ("orders", "approve")):
        [span] = handled[domain]  # each service took part once, under that step's span
        assert hex_ids(span)[2] == steps[step]
        assert span.resource.attributes["service.name"] == domain
        reply_links = [link for link in by_name[f"step {step}"].links
                       if (link.attributes or {}).get("dirigent.link") == "reply"]  # fmt: skip
        assert [f"{link.context.span_id:016x}" for link in reply_links] == [hex_ids(span)[1]]

    other = {hex_ids(s)[0] for s in coord_spans.get_finished_spans()
             if saga_of(s) == untraced.order_id}  # fmt: skip
    assert len(other) == 1  # a start with no traceparent begins a trace of its own
    assert other != {CLIENT_TRACE}

    lines = [json.loads(line) for line in log_buffer.getvalue().splitlines()]
    about = [x for x in lines if x.get("saga_id") == traced.order_id]
    handled_types = sorted(x["type"] for x in about if x["event"] == "handled")
    assert handled_types == sorted(m.event_type for m in (ReserveStock, AuthorizePayment,
                                                          ApproveOrder))  # fmt: skip
    assert {x["logger"] for x in about} >= {
        "dirigent.coordinator.outcomes", "dirigent.service.processor",
    }  # fmt: skip
    [done] = [x for x in about if x["event"] == "saga completed"]
    assert (done["saga_type"], done["level"]) == ("shop_order", "debug")
