"""OpenTelemetry traces: off by default, on through the standard ``OTEL_*`` variables.

``configure_tracing(settings)`` returns ``Tracing.off()`` unless ``settings.tracing``,
``OTEL_TRACES_EXPORTER`` or an OTLP endpoint asks for traces; then an SDK
``TracerProvider`` exports through a ``BatchSpanProcessor`` (a background thread: an
exporter that fails or hangs drops spans and logs, it never blocks the caller) to OTLP
over HTTP, configured by the SDK's own ``OTEL_EXPORTER_OTLP_*``, ``OTEL_BSP_*``,
``OTEL_TRACES_SAMPLER`` and ``OTEL_SERVICE_NAME``/``OTEL_RESOURCE_ATTRIBUTES``.

A saga runs for days across processes, so its spans cannot stay open: ``emit`` writes a
finished span with given ids, parent and times (the coordinator keeps them in the saga
state). The SDK needs the ``otel`` extra: ``pip install 'dirigent[otel]'``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from dirigent.config import Settings
from dirigent.errors import ConfigurationError
from dirigent.observability import w3c

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = ["Tracing", "configure_tracing", "tracing_wanted"]

Attributes = Mapping[str, str | int | float | bool]


class Tracing:
    """dirigent's tracer: ``Tracing.off()`` builds nothing; ``enabled`` is the one check.

    Example::

        tracing = configure_tracing(Settings())   # off unless OTEL_* or DIRIGENT_TRACING
        coordinator = Coordinator(sagas, tracing=tracing)
        ...
        tracing.shutdown()                        # flushes what is queued
    """

    def __init__(self, provider: TracerProvider | None = None, ids: Any = None) -> None:
        if provider is not None and ids is None:
            raise ConfigurationError("build an enabled Tracing with configure_tracing(...)")
        self.enabled = provider is not None
        self._provider = provider
        self._ids = ids
        self.tracer: trace.Tracer = (
            provider.get_tracer("dirigent") if provider is not None else trace.NoOpTracer()
        )

    @classmethod
    def off(cls) -> Tracing:
        """No provider, no spans, no cost."""
        return cls()

    def new_trace(self, saga_id: str, message_id: str) -> str:
        """A root traceparent for a saga whose start carried none (the sampler decides)."""
        trace_id = w3c.derive(32, "trace", saga_id, message_id)
        flags = "00"
        if self._provider is not None:
            verdict = self._provider.sampler.should_sample(None, int(trace_id, 16), "saga")
            flags = "01" if verdict.decision.is_sampled() else "00"  # type: ignore[no-untyped-call]
        return w3c.format(trace_id, w3c.derive(16, "saga", trace_id, saga_id), flags)

    def emit(
        self,
        name: str,
        *,
        traceparent: str,
        parent: str | None,
        start_s: float,
        end_s: float,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes | None = None,
        links: Sequence[tuple[str, Attributes]] = (),
        error: str | None = None,
        ok: bool = False,
    ) -> None:
        """A finished span with the ids of ``traceparent``, child of span id ``parent``."""
        if self._provider is None:
            return
        trace_id, span_id, flags = w3c.parse(traceparent)
        context = Context()
        if parent is not None:
            remote = SpanContext(int(trace_id, 16), int(parent, 16), is_remote=True,
                                 trace_flags=TraceFlags(int(flags, 16)))  # fmt: skip
            context = trace.set_span_in_context(trace.NonRecordingSpan(remote), context)
        self._ids.preset(int(trace_id, 16), int(span_id, 16))
        span = self.tracer.start_span(
            name, context=context, kind=kind, attributes=attributes,
            links=[Link(_context_of(tp), attrs) for tp, attrs in links],
            start_time=int(start_s * 1e9),
        )  # fmt: skip
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, error))
        elif ok:
            span.set_status(Status(StatusCode.OK))
        span.end(end_time=int(max(start_s, end_s) * 1e9))

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Export what is queued now; False if the exporter did not finish in time."""
        if self._provider is None:
            return True
        return self._provider.force_flush(int(timeout_s * 1000))

    def shutdown(self) -> None:
        """Flush and stop the exporter thread (safe twice; after it, spans are dropped)."""
        if self._provider is not None:
            self._provider.shutdown()


def tracing_wanted(settings: Settings, environ: Mapping[str, str]) -> bool:
    """Whether traces are on: the setting if set, else the ``OTEL_*`` variables."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if settings.tracing is not None:
        return settings.tracing
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def configure_tracing(
    settings: Settings | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    exporter: SpanExporter | None = None,
    install_global: bool = False,
) -> Tracing:
    """``Tracing`` as the settings and environment ask; ``exporter`` forces it on (tests).

    ``environ`` decides whether tracing is on and names the service; the SDK reads its
    own ``OTEL_*`` variables from ``os.environ``.

    ``install_global`` also makes it OpenTelemetry's global provider, so that spans of
    user code inside handlers (httpx, database instrumentation) join the same traces.
    """
    settings = settings or Settings()
    env = os.environ if environ is None else environ
    if exporter is None and not tracing_wanted(settings, env):
        return Tracing.off()
    try:
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:  # the api is a dependency, the sdk an extra
        raise ConfigurationError(
            "tracing is on but the OpenTelemetry SDK is missing: pip install 'dirigent[otel]'"
        ) from exc
    ids = _preset_ids()
    named = env.get("OTEL_SERVICE_NAME") or "service.name=" in env.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    resource = Resource.create({} if named else {SERVICE_NAME: settings.service_name})
    provider = TracerProvider(resource=resource, id_generator=ids)
    provider.add_span_processor(BatchSpanProcessor(exporter or _exporter(env)))
    if install_global:
        trace.set_tracer_provider(provider)
    return Tracing(provider, ids)


def _exporter(env: Mapping[str, str]) -> SpanExporter:
    kind = env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    if kind == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    if kind != "otlp" or protocol != "http/protobuf":
        raise ConfigurationError(
            f"OTEL_TRACES_EXPORTER={kind!r} with protocol {protocol!r}: dirigent exports "
            "traces as otlp over http/protobuf (or console)"
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def _preset_ids() -> Any:
    """Random ids, except for a span whose ids the caller chose just before starting it."""
    from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator

    class PresetIds(IdGenerator):
        def __init__(self) -> None:
            self._random = RandomIdGenerator()
            self._next = threading.local()  # user threads start spans too

        def preset(self, trace_id: int, span_id: int) -> None:
            self._next.ids = (trace_id, span_id)

        def generate_trace_id(self) -> int:
            ids = getattr(self._next, "ids", None)
            return ids[0] if ids is not None else self._random.generate_trace_id()

        def generate_span_id(self) -> int:
            ids = getattr(self._next, "ids", None)
            if ids is None:
                return self._random.generate_span_id()
            self._next.ids = None
            return int(ids[1])

        def is_trace_id_random(self) -> bool:
            return False

    return PresetIds()


def _context_of(traceparent: str) -> SpanContext:
    trace_id, span_id, flags = w3c.parse(traceparent)
    return SpanContext(int(trace_id, 16), int(span_id, 16), is_remote=True,
                       trace_flags=TraceFlags(int(flags, 16)))  # fmt: skip
