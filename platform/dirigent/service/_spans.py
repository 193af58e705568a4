"""The handler's span: a child of the command's ``traceparent``; replies carry it on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanContext, SpanKind, TraceFlags

from dirigent.events.envelope import Envelope
from dirigent.observability import w3c
from dirigent.observability.tracing import Tracing
from dirigent.transport.consumer import InboundRecord

__all__ = ["handler_span", "traceparent_of"]


@contextlib.contextmanager
def handler_span(
    tracing: Tracing, env: Envelope, handler: str, record: InboundRecord
) -> Iterator[Span]:
    """The current span while the handler runs (user code's own spans nest in it)."""
    context = Context()
    if env.traceparent is not None:
        trace_id, span_id, flags = w3c.parse(env.traceparent)
        remote = SpanContext(int(trace_id, 16), int(span_id, 16), is_remote=True,
                             trace_flags=TraceFlags(int(flags, 16)))  # fmt: skip
        context = trace.set_span_in_context(trace.NonRecordingSpan(remote), context)
    attributes: dict[str, str | int] = {
        "dirigent.handler": handler, "dirigent.saga.id": env.saga_id or "",
        "messaging.system": "kafka", "messaging.operation.type": "process",
        "messaging.destination.name": record.topic, "messaging.message.id": env.message_id,
        "messaging.kafka.offset": record.offset,
        "messaging.destination.partition.id": str(record.partition),
    }  # fmt: skip
    with tracing.tracer.start_as_current_span(
        f"handle {env.type}", context=context, kind=SpanKind.CONSUMER, attributes=attributes,
        record_exception=False, set_status_on_exception=False,
    ) as span:  # fmt: skip
        yield span


def traceparent_of(span: Span) -> str | None:
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return None
    return w3c.format(f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}", f"{ctx.trace_flags:02x}")
