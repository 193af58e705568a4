"""Tracing is off unless asked for, and an exporter that fails never reaches the caller."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dirigent.config import Settings
from dirigent.errors import ConfigurationError
from dirigent.observability import w3c
from dirigent.observability.tracing import Tracing, configure_tracing, tracing_wanted

TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize(
    ("setting", "environ", "wanted"),
    [
        (None, {}, False),
        (None, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        (None, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, True),
        (None, {"OTEL_TRACES_EXPORTER": "otlp"}, True),
        (None, {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c"}, False),
        (True, {}, True),
        (False, {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
        (True, {"OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_tracing_is_off_unless_a_setting_or_an_otel_variable_asks(
    setting: bool | None, environ: dict[str, str], wanted: bool
) -> None:
    assert tracing_wanted(Settings(tracing=setting), environ) is wanted


def test_off_builds_no_provider() -> None:
    tracing = configure_tracing(Settings(), environ={})
    assert not tracing.enabled
    tracing.emit("x", traceparent=TP, parent=None, start_s=1.0, end_s=2.0)  # a no-op
    assert tracing.flush()


def test_an_exporter_other_than_otlp_over_http_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match="zipkin"):
        configure_tracing(Settings(), environ={"OTEL_TRACES_EXPORTER": "zipkin"})


def test_a_span_is_emitted_with_the_ids_and_times_it_is_given() -> None:
    exporter = InMemorySpanExporter()
    tracing = configure_tracing(Settings(service_name="coord"), environ={}, exporter=exporter)
    child = w3c.child(TP, "1111111111111111")
    tracing.emit("step pay", traceparent=child, parent="b7ad6b7169203331", start_s=100.0,
                 end_s=86_500.0, links=[(TP, {"dirigent.link": "previous attempt"})])  # fmt: skip
    assert tracing.flush()
    [span] = exporter.get_finished_spans()
    assert span.context is not None
    assert span.parent is not None
    assert f"{span.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert f"{span.context.span_id:016x}" == "1111111111111111"
    assert f"{span.parent.span_id:016x}" == "b7ad6b7169203331"
    assert (span.start_time, span.end_time) == (100 * 10**9, 86_500 * 10**9)  # a day apart
    assert span.resource.attributes["service.name"] == "coord"
    assert [f"{link.context.span_id:016x}" for link in span.links] == ["b7ad6b7169203331"]
    tracing.shutdown()


class Broken(SpanExporter):
    def __init__(self) -> None:
        self.calls = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.calls += 1
        raise ConnectionError("collector is down")

    def shutdown(self) -> None:
        pass


def test_an_exporter_that_fails_is_swallowed_and_the_caller_carries_on() -> None:
    broken = Broken()
    tracing = configure_tracing(Settings(), environ={}, exporter=broken)
    for i in range(3):
        tracing.emit("s", traceparent=w3c.child(TP, f"{i + 1:016x}"), parent=None,
                     start_s=1.0, end_s=2.0)  # fmt: skip
    tracing.flush()
    assert broken.calls >= 1
    tracing.shutdown()
    tracing.shutdown()  # safe twice


def test_new_traces_are_sampled_and_derived_from_the_saga() -> None:
    tracing = Tracing.off()
    assert tracing.new_trace("o1", "m1") == tracing.new_trace("o1", "m1")
    on = configure_tracing(Settings(), environ={}, exporter=InMemorySpanExporter())
    tp = on.new_trace("o1", "m1")
    assert w3c.sampled(tp)
    assert w3c.parse(tp)[0] != w3c.parse(on.new_trace("o2", "m1"))[0]
    on.shutdown()


def test_otel_service_name_wins_over_the_dirigent_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "payments-eu")
    exporter = InMemorySpanExporter()
    tracing = configure_tracing(Settings(service_name="dirigent"), exporter=exporter)
    tracing.emit("s", traceparent=TP, parent=None, start_s=1.0, end_s=2.0)
    tracing.flush()
    [span] = exporter.get_finished_spans()
    assert span.resource.attributes["service.name"] == "payments-eu"
    tracing.shutdown()
