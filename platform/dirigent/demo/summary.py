"""The outcome of one demo run, as a table for people and one JSON object for scripts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dirigent.demo.census import Census, percentile

__all__ = ["DemoResult", "DemoSummary"]


@dataclass(frozen=True, kw_only=True)
class DemoSummary:
    sagas: int
    completed: int
    compensated: int
    failed: int
    parked: int  # waiting for an operator: a silent pivot, or a compensation owed
    running: int  # not settled at the deadline: a failure of the run
    dead_lettered: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    wall_s: float
    sagas_per_s: float
    declined: int  # refusals recorded by the services (payments, stock, shipping)
    silenced: int  # commands the services left unanswered
    nothing_to_undo: int  # compensations of steps that never took effect
    effects: int  # effects applied, per the ledger
    ledger_problems: int
    run_id: str
    log_file: str = ""

    @property
    def ok(self) -> bool:
        return self.running == 0 and self.ledger_problems == 0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    @classmethod
    def of(cls, census: Census, **extra: Any) -> DemoSummary:
        counts = census.counts
        lat = census.latencies_ms
        return cls(
            completed=counts["COMPLETED"], compensated=counts["COMPENSATED"],
            failed=counts["FAILED"], parked=counts["PARKED"],
            running=counts["RUNNING"] + counts["COMPENSATING"],
            p50_ms=round(percentile(lat, 50), 1), p99_ms=round(percentile(lat, 99), 1),
            max_ms=round(max(lat, default=0.0), 1), **extra,
        )  # fmt: skip


@dataclass(frozen=True)
class DemoResult:
    """The summary, plus the details tests look at."""

    summary: DemoSummary
    statuses: dict[str, str]
    ledger: list[Any] = field(default_factory=list)  # examples.shop.LedgerEntry
    problems: list[str] = field(default_factory=list)
