"""The spans of applied decisions: one per finished step attempt, one per saga.

A saga may run for days across coordinator restarts, so no span stays open: an
attempt's span is written when its reply (or timeout, or an operator's action) is
applied, starting when its command was sent (kept in the saga's trace context); the
saga's root span is written when the saga ends, starting when it started. Runs only
when tracing is on, after the decisions are durable.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.trace import SpanKind

from dirigent.coordinator.outcomes import saga_fields
from dirigent.coordinator.processor import Applied
from dirigent.coordinator.topology import Topology
from dirigent.coordinator.trace_context import attempt_span
from dirigent.observability import get_logger, w3c
from dirigent.observability.tracing import Attributes, Tracing
from dirigent.saga import Phase, SagaState, SagaStatus, SagaTrace, StepState, StepStatus

__all__ = ["emit_spans"]

log = get_logger(__name__)

_IN_FLIGHT = {StepStatus.RUNNING: Phase.FORWARD, StepStatus.COMPENSATING: Phase.COMPENSATION}
# An attempt that ended in one of these did what it was sent for.
_OK = frozenset({StepStatus.SUCCEEDED, StepStatus.COMPENSATED, StepStatus.TIMED_OUT})


def emit_spans(
    applied: Sequence[Applied], partition: int, topology: Topology, tracing: Tracing
) -> None:
    """The spans of ``applied`` (durable already); a span that cannot be built is skipped
    with a warning: tracing never stops the coordinator."""
    for a in applied:
        after = a.decision.state
        if after is None or after.trace is None or not w3c.sampled(after.trace.traceparent):
            continue
        try:
            _emit(a, partition, topology, tracing)
        except Exception as exc:  # noqa: BLE001 - the saga's outcome is durable; only a span is lost
            log.warning("span not emitted", error=repr(exc), **saga_fields(a.routed, partition))


def _emit(a: Applied, partition: int, topology: Topology, tracing: Tracing) -> None:
    after, t = a.decision.state, a.decision.transition
    if after is None or after.trace is None or t is None:
        return
    before = a.before
    if before is not None and before.trace is not None:
        for name, st in before.steps.items():
            phase = _IN_FLIGHT.get(st.status)
            if phase is not None and _ended(st, after.step(name)):
                _attempt(tracing, a, before.trace, name, st, phase, partition, topology)
    was = before.status if before is not None else None
    if after.status is SagaStatus.PARKED and was is not SagaStatus.PARKED:
        _parked(tracing, after.trace, after, t.at)
    if after.is_terminal and (before is None or not before.is_terminal):
        _root(tracing, after.trace, after, t.at, partition)


def _ended(st: StepState, now: StepState) -> bool:
    return (now.status, now.attempt, now.compensation_attempt) != (
        st.status, st.attempt, st.compensation_attempt,
    )  # fmt: skip


def _attempt(
    tracing: Tracing,
    a: Applied,
    trace: SagaTrace,
    name: str,
    st: StepState,
    phase: Phase,
    partition: int,
    topology: Topology,
) -> None:
    assert a.decision.state is not None
    assert a.decision.transition is not None
    after, t = a.decision.state.step(name), a.decision.transition
    attempt = st.attempt if phase is Phase.FORWARD else st.compensation_attempt
    definition = topology.by_name.get(t.saga_type)
    step = definition.step_named(name) if definition is not None else None
    wait = step is not None and step.awaits is not None
    verb = "compensate" if phase is Phase.COMPENSATION else "wait" if wait else "step"
    span_id = attempt_span(trace, name, phase, attempt)
    links: list[tuple[str, Attributes]] = []
    if attempt > 1:  # resumed after a timer (a retry's backoff or a timeout)
        links.append((w3c.child(trace.traceparent, attempt_span(trace, name, phase, attempt - 1)),
                      {"dirigent.link": "previous attempt"}))  # fmt: skip
    elif phase is Phase.COMPENSATION:
        forward = attempt_span(trace, name, Phase.FORWARD, max(1, st.attempt))
        links.append((w3c.child(trace.traceparent, forward), {"dirigent.link": "compensates"}))
    reply = a.routed.traceparent
    if reply is not None and w3c.parse(reply)[1] != span_id:
        links.append((reply, {"dirigent.link": "reply"}))
    tracing.emit(
        f"{verb} {name}",
        traceparent=w3c.child(trace.traceparent, span_id),
        parent=w3c.parse(trace.traceparent)[1],
        start_s=trace.sent.get(name, t.at),
        end_s=t.at,
        kind=SpanKind.INTERNAL if wait else SpanKind.PRODUCER,
        attributes={
            **_saga(a.decision.state), "dirigent.step": name, "dirigent.phase": phase.value,
            "dirigent.attempt": attempt, "dirigent.step.status": after.status.value,
            "dirigent.cause": t.cause, "dirigent.partition": partition,
            "messaging.message.id": st.command_id or "",
        },
        links=links,
        error=None if after.status in _OK else f"{after.status.value} after {t.cause}",
        ok=after.status in _OK,
    )  # fmt: skip


def _parked(tracing: Tracing, trace: SagaTrace, state: SagaState, at: float) -> None:
    tracing.emit(
        "saga parked",
        traceparent=w3c.child(trace.traceparent, w3c.derive(16, trace.traceparent, at)),
        parent=w3c.parse(trace.traceparent)[1],
        start_s=at,
        end_s=at,
        attributes={**_saga(state), "dirigent.saga.reason": state.reason or ""},
        error=state.reason or "parked",
    )


def _root(tracing: Tracing, trace: SagaTrace, state: SagaState, at: float, partition: int) -> None:
    failed = state.status is SagaStatus.FAILED
    tracing.emit(
        f"saga {state.saga_type}",
        traceparent=trace.traceparent,
        parent=trace.parent,
        start_s=state.started_at,
        end_s=at,
        attributes={
            **_saga(state), "dirigent.saga.status": state.status.value,
            "dirigent.saga.reason": state.reason or "", "dirigent.partition": partition,
            "dirigent.saga.definition_version": state.definition_version,
        },
        error=(state.reason or "failed") if failed else None,
        ok=state.status is SagaStatus.COMPLETED,
    )  # fmt: skip


def _saga(state: SagaState) -> dict[str, str | int | float | bool]:
    return {"dirigent.saga.id": state.saga_id, "dirigent.saga.type": state.saga_type}
