"""A participant's handler span: under the command's traceparent, carried on by the reply,
an error when the command is dead-lettered; and the lines of each outcome."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from redis.asyncio import Redis

from dirigent.config import Settings
from dirigent.errors import NonRetryableError
from dirigent.events.envelope import Envelope
from dirigent.observability import configure_logging, configure_tracing
from dirigent.observability import logging as dirigent_logging
from dirigent.service import HandlerContext
from dirigent.transport import Publisher, delete_topics
from tests.integration.service.svc_support import (
    ReserveStock,
    StockReserved,
    codec,
    make_service,
    read_topic,
    reserve,
    running,
)
from tests.support.infra import Infra

TRACE = "0af7651916cd43dd8448eb211c80319c"
STEP_SPAN = "b7ad6b7169203331"


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buf = io.StringIO()
    configure_logging(json=True, level="DEBUG", stream=buf)
    logging.getLogger("aiokafka").setLevel(logging.INFO)
    yield buf
    logging.getLogger("aiokafka").setLevel(logging.NOTSET)
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    dirigent_logging._level = logging.INFO


async def test_the_handler_span_hangs_under_the_command_and_the_reply_carries_it(
    infra: Infra, redis: Redis, uid: str, make_topic, log_buffer: io.StringIO
) -> None:
    topic = await make_topic("inv.cmd")
    replies_topic = await make_topic(f"{topic}.replies")
    exporter = InMemorySpanExporter()
    tracing = configure_tracing(Settings(service_name="inventory"), environ={}, exporter=exporter)
    service = make_service(infra.kafka_bootstrap, redis, uid, topic, replies_topic,
                           tracing=tracing)  # fmt: skip

    @service.handles(ReserveStock)
    async def handle(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved:
        if cmd.order_id == "fatal":
            raise NonRetryableError("no such warehouse")
        return StockReserved(order_id=cmd.order_id, reservation_id="r")

    tp = f"00-{TRACE}-{STEP_SPAN}-01"
    try:
        async with (
            Publisher(infra.kafka_bootstrap, codec(), source="coord") as pub,
            running(service),
        ):
            for oid in ("fine", "fatal"):
                env = pub.envelope_for(reserve(oid), saga_id=f"s-{oid}", traceparent=tp)
                await pub.publish(reserve(oid), topic=topic, envelope=env)
            [reply] = await read_topic(infra.kafka_bootstrap, replies_topic, 1)
            await read_topic(infra.kafka_bootstrap, f"{topic}.dlt", 1)
    finally:
        await delete_topics(infra.kafka_bootstrap, [f"{topic}.dlt"])
    assert tracing.flush()
    spans = {(s.attributes or {}).get("dirigent.saga.id"): s for s in exporter.get_finished_spans()}
    fine, fatal = spans["s-fine"], spans["s-fatal"]
    for span in (fine, fatal):
        assert span.kind is SpanKind.CONSUMER
        assert span.context is not None
        assert span.parent is not None
        assert f"{span.context.trace_id:032x}" == TRACE
        assert f"{span.parent.span_id:016x}" == STEP_SPAN
    assert fine.context is not None
    sent = Envelope.from_headers(reply.headers).traceparent
    assert sent == f"00-{TRACE}-{fine.context.span_id:016x}-01"  # the reply carries it on
    assert fatal.status.status_code is StatusCode.ERROR
    tracing.shutdown()

    lines = [json.loads(x) for x in log_buffer.getvalue().splitlines()]
    outcome = {x["saga_id"]: (x["level"], x["event"]) for x in lines
               if x.get("saga_id") and x["event"] in ("handled", "dead-lettered")}  # fmt: skip
    assert outcome == {"s-fine": ("debug", "handled"), "s-fatal": ("error", "dead-lettered")}
