"""Saga instance state: immutable, versioned, and compact as JSON.

The coordinator stores ``state.to_json()`` in Redis and reads ``saga_id``, ``saga_type``,
``status`` and ``version`` for its compare-and-set and status indexes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dirigent.saga import _json

__all__ = ["SagaState", "SagaStatus", "SagaTrace", "StepState", "StepStatus", "is_terminal"]

_FORMAT = 1


class SagaStatus(StrEnum):
    RUNNING = "RUNNING"
    COMPENSATING = "COMPENSATING"
    COMPLETED = "COMPLETED"
    COMPENSATED = "COMPENSATED"
    FAILED = "FAILED"
    # Waiting for an operator (or a late reply): a pivot or retriable step whose outcome
    # stayed unknown, or compensations still owed. ``reason`` says which. Not terminal:
    # a late reply to the step it waits on is still applied.
    PARKED = "PARKED"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def settled(self) -> bool:
        """Nothing more happens without an outside input: terminal, or parked."""
        return self in _TERMINAL or self is SagaStatus.PARKED


_TERMINAL = frozenset({SagaStatus.COMPLETED, SagaStatus.COMPENSATED, SagaStatus.FAILED})


class StepStatus(StrEnum):
    PENDING = "PENDING"  # not sent yet
    RUNNING = "RUNNING"  # command sent, awaiting its reply or timeout
    RETRY_WAIT = "RETRY_WAIT"  # failed attempt, next one after a backoff timer
    SUCCEEDED = "SUCCEEDED"
    UNKNOWN = "UNKNOWN"  # no reply after the last attempt: it may have been applied
    FAILED = "FAILED"  # a definitive failure reply: it did not happen
    CANCELLED = "CANCELLED"  # waiting for a retry when the saga turned to compensation
    COMPENSATING = "COMPENSATING"  # compensation sent, awaiting its reply or timeout
    COMPENSATION_RETRY_WAIT = "COMPENSATION_RETRY_WAIT"
    COMPENSATED = "COMPENSATED"
    COMPENSATION_FAILED = "COMPENSATION_FAILED"  # still owed: retries ran out
    SKIPPED = "SKIPPED"  # its ``when`` condition was false: never sent, never compensated
    TIMED_OUT = "TIMED_OUT"  # a wait whose event did not come, declared to continue

    @property
    def done(self) -> bool:
        """Finished forward: the saga may move past a step in this status."""
        return self in _DONE


_DONE = frozenset({StepStatus.SUCCEEDED, StepStatus.SKIPPED, StepStatus.TIMED_OUT})


@dataclass(frozen=True, slots=True)
class StepState:
    """One step's progress.

    ``command_id`` is the last command of the current phase (forward, then compensation);
    it stays while a retry waits, so that a late reply to it is recognised. ``forward_id``
    is the last forward command ever sent, kept for late forward replies. ``unknown``:
    the last attempt of the current phase timed out, so it may have been applied; its
    re-send carries the same command id.
    """

    status: StepStatus = StepStatus.PENDING
    attempt: int = 0
    command_id: str | None = None
    compensation_attempt: int = 0
    forward_id: str | None = None
    unknown: bool = False


PENDING_STEP = StepState()


@dataclass(frozen=True, slots=True)
class SagaTrace:
    """Where a saga sits in a distributed trace (W3C trace context); absent when its
    start carried no ``traceparent`` and tracing is off.

    ``traceparent`` names the saga's root span (emitted when the saga ends), ``parent``
    the span of whoever sent the start event, and ``sent`` maps a step to when its
    current command (or wait) began: the start of that attempt's span.
    """

    traceparent: str
    parent: str | None = None
    sent: Mapping[str, float] = field(default_factory=dict)

    def sent_at(self, step: str, at: float) -> SagaTrace:
        return SagaTrace(self.traceparent, self.parent, {**self.sent, step: at})


@dataclass(frozen=True, slots=True, kw_only=True)
class SagaState:
    """One saga instance; never mutated (the engine returns a new one).

    ``cursor`` is the index of the unit running now. ``compensation_queue`` is ``None``
    until compensation starts (while in-flight siblings drain), then the steps to undo
    in order, ``compensation_index`` pointing at the current one. ``definition_version``
    is the version of the definition the instance runs on. ``early`` keeps events that
    arrived for a wait the saga has not reached yet: step -> ``[type, fields]``.
    ``trace`` is its trace context, kept only when there is one.
    """

    saga_id: str
    saga_type: str
    status: SagaStatus
    version: int
    data: Mapping[str, Any]
    steps: Mapping[str, StepState]
    cursor: int = 0
    reason: str | None = None
    started_at: float = 0.0
    updated_at: float = 0.0
    deadline_at: float | None = None
    compensation_queue: tuple[str, ...] | None = None
    compensation_index: int = 0
    definition_version: int = 1
    early: Mapping[str, tuple[str, Mapping[str, Any]]] = field(default_factory=dict)
    trace: SagaTrace | None = None

    @property
    def is_terminal(self) -> bool:
        """COMPLETED, COMPENSATED or FAILED: no input changes this saga any more."""
        return self.status in _TERMINAL

    def step(self, name: str) -> StepState:
        return self.steps.get(name, PENDING_STEP)

    def to_json(self) -> bytes:
        """Compact JSON; round-trips through :meth:`from_json`."""
        doc = {
            "f": _FORMAT,
            "id": self.saga_id,
            "t": self.saga_type,
            "s": self.status.value,
            "v": self.version,
            "r": self.reason,
            "c": self.cursor,
            "t0": self.started_at,
            "tu": self.updated_at,
            "dl": self.deadline_at,
            "cq": self.compensation_queue,
            "ci": self.compensation_index,
            "dv": self.definition_version,
            "d": self.data,
            "st": {
                n: [
                    s.status.value,
                    s.attempt,
                    s.command_id,
                    s.compensation_attempt,
                    s.forward_id,
                    s.unknown,
                ]
                for n, s in self.steps.items()
            },
        }
        if self.early:
            doc["e"] = {n: [t, body] for n, (t, body) in self.early.items()}
        if self.trace is not None:
            doc["tp"] = [self.trace.traceparent, self.trace.parent, self.trace.sent]
        return _json.dumps(doc, self.data, doc.get("e"))

    @classmethod
    def from_json(cls, raw: bytes | str) -> SagaState:
        """Parse :meth:`to_json` output; raises ``ValueError`` on anything else."""
        try:
            doc = _json.loads(raw)
            if doc["f"] != _FORMAT:
                raise ValueError(f"unknown saga state format {doc['f']!r}")
            cq = doc["cq"]
            return cls(
                saga_id=doc["id"],
                saga_type=doc["t"],
                status=SagaStatus(doc["s"]),
                version=doc["v"],
                reason=doc["r"],
                cursor=doc["c"],
                started_at=doc["t0"],
                updated_at=doc["tu"],
                deadline_at=doc["dl"],
                compensation_queue=None if cq is None else tuple(cq),
                compensation_index=doc["ci"],
                definition_version=doc.get("dv", 1),
                early={n: (t, body) for n, (t, body) in doc.get("e", {}).items()},
                trace=_trace(doc.get("tp")),
                data=doc["d"],
                steps={n: _step(row) for n, row in doc["st"].items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a saga state document: {exc}") from exc


def _step(row: list[Any]) -> StepState:
    # Rows written before forward_id/unknown existed have four fields.
    status, attempt, cid, comp_attempt, *rest = row
    forward_id, unknown = [*rest, None, False][:2]
    return StepState(StepStatus(status), attempt, cid, comp_attempt, forward_id, bool(unknown))


def _trace(row: list[Any] | None) -> SagaTrace | None:
    # States written before traces existed, or without one, have no "tp".
    if row is None:
        return None
    traceparent, parent, sent = row
    return SagaTrace(traceparent, parent, sent)


def is_terminal(state: SagaState | None) -> bool:
    """Whether ``state`` is a finished saga (``None``, no saga yet, is not terminal)."""
    return state is not None and state.is_terminal
