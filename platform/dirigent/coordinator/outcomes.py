"""Log lines about sagas: every one carries the saga's ids, built only when written.

Nothing is bound per input: ``saga_fields`` builds the context of one line when that
line is written (a terminal outcome, a saga whose code failed, an orphan), so the hot
path pays for a line only when it exists.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from dirigent.coordinator.inputs import Routed
from dirigent.coordinator.processor import Applied
from dirigent.observability import enabled_for, get_logger
from dirigent.saga import SagaState, SagaStatus

__all__ = ["report_outcomes", "saga_fields"]

log = get_logger("dirigent.coordinator.outcomes")

# What each outcome is worth to an operator: a completed saga is routine.
_LEVEL = {
    SagaStatus.COMPLETED: logging.DEBUG,
    SagaStatus.COMPENSATED: logging.INFO,
    SagaStatus.FAILED: logging.WARNING,
    SagaStatus.PARKED: logging.WARNING,
}
_METHOD = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warning"}


def saga_fields(
    routed: Routed, partition: int, state: SagaState | None = None, step: str | None = None
) -> dict[str, Any]:
    """``saga_id``, ``saga_type``, ``message_id``, ``partition`` and ``step`` of one line."""
    saga_type = state.saga_type if state is not None else None
    if saga_type is None and routed.definition is not None:
        saga_type = routed.definition.name
    return {
        "saga_id": routed.saga_id,
        "saga_type": saga_type,
        "message_id": routed.message_id,
        "partition": partition,
        "step": step,
    }


def report_outcomes(applied: Sequence[Applied], partition: int) -> None:
    """One line per saga that reached an outcome in this batch, at the outcome's level."""
    for a in applied:
        t = a.decision.transition
        if t is None or t.from_status is t.to_status:
            continue
        level = _LEVEL.get(t.to_status)
        if level is None or not enabled_for(level):
            continue
        state = a.decision.state
        fields = saga_fields(a.routed, partition, state, t.step)
        if state is not None:
            fields["duration_s"] = round(max(0.0, t.at - state.started_at), 3)
        getattr(log, _METHOD[level])(
            f"saga {t.to_status.value.lower()}",
            status=t.to_status.value,
            reason=t.reason,
            cause=t.cause,
            version=t.version,
            **fields,
        )
