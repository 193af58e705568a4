"""Step outcomes derived from saga transitions (pure).

A transition names the step it touched and its cause. A forward command is listed in
``commands`` as ``step/forward#attempt Type (id)``: its time is remembered per (saga,
step) so that the reply or the step timeout that follows gives the step's latency.

* ``timer:step_timeout`` on a step: a **timeout**.
* ``reply:*`` on a step while the saga ran forward: a **success** unless the saga
  turned to compensation, failed or parked, or the engine's note says the attempt
  failed (then a **failure**).
* ``RUNNING -> COMPENSATING``: a **compensation** of the saga, charged to the step.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum

from dirigent.events.builtin import SagaTransition

__all__ = ["OutcomeKind", "OutcomeReader", "StepOutcome"]

_FORWARD = re.compile(r"^(?P<step>[^/]+)/forward#\d+ ")
_FAILED_NOTE = re.compile(r"\bfailed\b|\bno reply after\b")
_BAD_END = {"COMPENSATING", "FAILED", "PARKED"}


class OutcomeKind(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    TIMEOUT = "timeout"
    COMPENSATION = "compensation"


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What happened to one step attempt, at event time ``at`` (epoch seconds)."""

    saga_type: str
    step: str
    kind: OutcomeKind
    at: float
    latency_s: float | None = None
    reason: str | None = None


class OutcomeReader:
    """Turn transitions into step outcomes; remembers at most ``max_pending`` sends."""

    def __init__(self, *, max_pending: int = 100_000) -> None:
        self._sent: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._max = max_pending

    def read(self, t: SagaTransition) -> list[StepOutcome]:
        """The outcomes ``t`` reveals (often none), then note the commands it sent."""
        at = t.timestamp.timestamp()
        out = self._outcomes(t, at)
        for c in t.commands:
            m = _FORWARD.match(c)
            if m is not None:
                self._remember((t.saga_id, m["step"]), at)
        return out

    def _outcomes(self, t: SagaTransition, at: float) -> list[StepOutcome]:
        if t.step is None:
            return []
        out: list[StepOutcome] = []
        kind = _kind(t)
        if kind is not None:
            sent = self._sent.pop((t.saga_id, t.step), None)
            latency = None if sent is None else max(0.0, at - sent)
            out.append(StepOutcome(t.saga_type, t.step, kind, at, latency, t.reason))
        if t.from_status == "RUNNING" and t.to_status == "COMPENSATING":
            out.append(StepOutcome(t.saga_type, t.step, OutcomeKind.COMPENSATION, at,
                                   reason=t.reason))  # fmt: skip
        return out

    def _remember(self, key: tuple[str, str], at: float) -> None:
        self._sent[key] = at
        self._sent.move_to_end(key)
        while len(self._sent) > self._max:
            self._sent.popitem(last=False)


def _kind(t: SagaTransition) -> OutcomeKind | None:
    if t.cause == "timer:step_timeout":
        return OutcomeKind.TIMEOUT
    if not t.cause.startswith("reply:") or t.from_status != "RUNNING":
        return None  # compensation replies and events are not forward outcomes
    if t.to_status in _BAD_END or _FAILED_NOTE.search(t.reason or ""):
        return OutcomeKind.FAILURE
    return OutcomeKind.SUCCESS
