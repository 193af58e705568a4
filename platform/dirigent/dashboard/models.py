"""The JSON shapes of the HTTP API (they make its OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from dirigent.dashboard.reads import DltGroups, SagaRow, Timeline
from dirigent.ops.dlt_scan import Found
from dirigent.ops.replay_plan import PlanSummary
from dirigent.ops.replay_run import RunReport
from dirigent.ops.saga_admin import AdminOutcome

__all__ = [
    "ActionRequest",
    "DeadLetterDoc",
    "DltGroupsDoc",
    "ErrorDoc",
    "OutcomeDoc",
    "PlanDoc",
    "ReplayDoc",
    "ReplayRequest",
    "SagaDoc",
    "SagaRowDoc",
    "errors",
]


class ErrorDoc(BaseModel):
    detail: str


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that may answer ``codes`` (and 502, the backend
    failed) with an ``ErrorDoc``."""
    return {code: {"model": ErrorDoc} for code in (*codes, 502)}


class SagaRowDoc(BaseModel):
    saga_id: str
    status: str
    partition: int
    updated_at: float
    saga_type: str | None
    reason: str | None

    @classmethod
    def of(cls, r: SagaRow) -> SagaRowDoc:
        return cls(
            saga_id=r.saga_id,
            status=r.status,
            partition=r.partition,
            updated_at=r.updated_at,
            saga_type=r.saga_type,
            reason=r.reason,
        )


class SagaDoc(BaseModel):
    """``state`` is ``dirigent saga show --json``; ``history`` is ``saga history --json``."""

    saga_id: str
    state: dict[str, Any] | None
    history: list[dict[str, Any]]

    @classmethod
    def of(cls, t: Timeline) -> SagaDoc:
        return cls(
            saga_id=t.saga_id,
            state=t.view.to_dict() if t.view else None,
            history=[e.to_dict() for e in t.entries],
        )


class DltGroupsDoc(BaseModel):
    """``dirigent dlt groups --json`` with the totals."""

    topic: str
    total: int
    scanned: int
    groups: list[dict[str, Any]]

    @classmethod
    def of(cls, g: DltGroups) -> DltGroupsDoc:
        return cls(
            topic=g.topic, total=g.total, scanned=g.scanned, groups=[x.to_dict() for x in g.groups]
        )


class DeadLetterDoc(BaseModel):
    """``dirigent dlt list --with-saga --json``: one record."""

    letter: dict[str, Any]
    accounting: str | None
    saga: dict[str, Any] | None

    @classmethod
    def of(cls, f: Found) -> DeadLetterDoc:
        return cls(
            letter=f.letter.to_dict(),
            saga=f.saga.to_dict() if f.saga else None,
            accounting=f.accounting.value if f.accounting else None,
        )


class ActionRequest(BaseModel):
    """A saga action; ``confirm`` must be true (the API's confirmation step)."""

    why: str = Field(min_length=1, max_length=1000)
    who: str = Field(default="api", min_length=1, max_length=100)
    step: str | None = Field(default=None, max_length=200)
    confirm: bool = False


class OutcomeDoc(BaseModel):
    """What the coordinator did (``answered`` false: no answer within the wait)."""

    saga_id: str
    request_id: str
    action: str
    answered: bool
    applied: bool
    detail: str

    @classmethod
    def of(cls, o: AdminOutcome) -> OutcomeDoc:
        return cls(
            saga_id=o.saga_id,
            request_id=o.request_id,
            action=o.action.value,
            answered=o.answered,
            applied=o.applied,
            detail=o.detail,
        )


class ReplayRequest(BaseModel):
    """A dry run of one fingerprint, or a (canary) replay of a selection it wrote."""

    why: str = Field(min_length=1, max_length=1000)
    who: str = Field(default="api", min_length=1, max_length=100)
    canary: int = Field(default=0, ge=0, le=10_000)
    reply_topics: list[str] = Field(default_factory=list, max_length=20)
    confirm: bool = False


class PlanDoc(BaseModel):
    selection: str
    selection_id: str
    dlt: str
    replay_count: int
    counts: dict[str, int]
    skipped: dict[str, int]

    @classmethod
    def of(cls, s: PlanSummary) -> PlanDoc:
        sel = s.selection
        return cls(
            selection=sel.path.name,
            selection_id=sel.id,
            dlt=sel.dlt,
            replay_count=sel.replay_count,
            counts=s.counts,
            skipped=s.skipped,
        )


class ReplayDoc(BaseModel):
    replay_id: str
    outcome: str
    ok: bool
    canary: str
    resumed: bool
    counts: dict[str, int]
    sent: list[str]

    @classmethod
    def of(cls, r: RunReport) -> ReplayDoc:
        sent = [f"{where} -> {s.topic}[{s.partition}]@{s.offset}" for where, s in r.sent]
        return cls(
            replay_id=r.replay_id,
            outcome=r.outcome,
            ok=r.ok,
            canary=r.canary,
            resumed=r.resumed,
            counts=dict(r.counts),
            sent=sent,
        )
