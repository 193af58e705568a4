"""A saga's trace context: begun from its start event, handed on in every command.

Span ids are derived, never stored: the saga's root span from its trace id and saga id,
an attempt's span from the root span, step, phase and attempt. The state keeps only the
root traceparent, the start event's span and when each step's attempt began.
"""

from __future__ import annotations

from collections.abc import Callable

from dirigent.observability import w3c
from dirigent.saga import Phase, SagaTrace

__all__ = ["attempt_span", "begin_trace", "command_traceparent"]


def begin_trace(
    incoming: str | None,
    saga_id: str,
    message_id: str,
    new_trace: Callable[[str, str], str] | None,
) -> SagaTrace | None:
    """The trace of a saga started by a message with traceparent ``incoming``: the same
    trace, with the saga's root span as a child of the sender's span (or a new trace)."""
    if incoming is not None:
        trace_id, span_id, flags = w3c.parse(incoming)
        root = w3c.derive(16, "saga", trace_id, saga_id)
        return SagaTrace(w3c.format(trace_id, root, flags), span_id)
    if new_trace is not None:
        return SagaTrace(new_trace(saga_id, message_id))
    return None


def attempt_span(trace: SagaTrace, step: str, phase: Phase | str, attempt: int) -> str:
    """The span id of one attempt of one step (forward or compensation)."""
    return w3c.derive(16, w3c.parse(trace.traceparent)[1], step, phase, attempt)


def command_traceparent(
    trace: SagaTrace, step: str, phase: Phase, attempt: int, *, spans: bool
) -> str:
    """What a command carries: its attempt's span while spans are emitted; otherwise the
    start event's span, so that participants that trace hang under their caller."""
    if spans:
        return w3c.child(trace.traceparent, attempt_span(trace, step, phase, attempt))
    if trace.parent is not None:
        return w3c.child(trace.traceparent, trace.parent)
    return trace.traceparent
