"""The coordinator's line per saga outcome: its level, and the saga's ids on it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from dirigent.coordinator.inputs import Routed
from dirigent.coordinator.outcomes import report_outcomes
from dirigent.coordinator.processor import Applied
from dirigent.observability import configure_logging
from dirigent.observability import logging as dirigent_logging
from dirigent.saga import Decision, SagaState, SagaStatus, Timer, TimerFired, TimerKind, Transition


@pytest.fixture
def buf() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield io.StringIO()
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    dirigent_logging._level = logging.INFO


def applied(saga_id: str, before: SagaStatus, after: SagaStatus, reason: str | None) -> Applied:
    timer = Timer(f"{saga_id}:pay:forward:step_timeout:1", saga_id, "order", TimerKind.STEP_TIMEOUT,
                  10.0, "pay")  # fmt: skip
    state = SagaState(saga_id=saga_id, saga_type="order", status=after, version=4, data={},
                      steps={}, reason=reason, started_at=1.0, updated_at=11.0)  # fmt: skip
    old = SagaState(saga_id=saga_id, saga_type="order", status=before, version=3, data={},
                    steps={}, started_at=1.0)  # fmt: skip
    t = Transition(saga_id, "order", 4, before, after, "pay", "timer:step_timeout", reason, 11.0)
    return Applied(Routed(saga_id, TimerFired(timer), None), old, Decision(state, transition=t))


def test_each_outcome_is_one_line_at_its_level_with_the_saga_ids(buf: io.StringIO) -> None:
    configure_logging(json=True, level="DEBUG", stream=buf)
    report_outcomes([
        applied("o-1", SagaStatus.RUNNING, SagaStatus.COMPLETED, None),
        applied("o-2", SagaStatus.COMPENSATING, SagaStatus.COMPENSATED, "card declined"),
        applied("o-3", SagaStatus.COMPENSATING, SagaStatus.FAILED, "release failed"),
        applied("o-4", SagaStatus.RUNNING, SagaStatus.PARKED, "pay: outcome unknown"),
        applied("o-5", SagaStatus.RUNNING, SagaStatus.RUNNING, None),  # no outcome
    ], partition=2)  # fmt: skip
    lines = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert [(x["saga_id"], x["level"], x["status"]) for x in lines] == [
        ("o-1", "debug", "COMPLETED"),
        ("o-2", "info", "COMPENSATED"),
        ("o-3", "warning", "FAILED"),
        ("o-4", "warning", "PARKED"),
    ]
    failed = lines[2]
    assert failed["reason"] == "release failed"
    assert failed["saga_type"] == "order"
    assert failed["message_id"] == "o-3:pay:forward:step_timeout:1"
    assert failed["partition"] == 2
    assert failed["step"] == "pay"
    assert failed["duration_s"] == 10.0


def test_completed_sagas_are_not_logged_at_info(buf: io.StringIO) -> None:
    configure_logging(json=True, level="INFO", stream=buf)
    report_outcomes([applied("o-1", SagaStatus.RUNNING, SagaStatus.COMPLETED, None)], 0)
    assert buf.getvalue() == ""
