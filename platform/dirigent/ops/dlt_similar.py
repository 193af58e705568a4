"""Dead letters grouped by failure pattern (``dirigent dlt groups --similar``), in one pass.

Beyond exact fingerprints: the error message's template and the stack's frames
(``dirigent.watch.patterns``), so that one incident whose messages differ slightly (ids,
amounts, hosts) is one group, and the fingerprints it spans are listed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dirigent.ops.dlt import DeadLetter, diagnostics
from dirigent.ops.dlt_ledger import Accounting
from dirigent.watch.patterns import Pattern, PatternMiner

__all__ = ["SimilarCounter", "SimilarGroup"]


@dataclass(frozen=True, slots=True)
class SimilarGroup:
    """Dead letters of one failure pattern."""

    template: str
    count: int
    open: int
    error_class: str | None
    sample_message: str
    fingerprints: tuple[str, ...]
    topics: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "template": self.template, "count": self.count, "open": self.open,
            "error_class": self.error_class, "sample_message": self.sample_message,
            "fingerprints": list(self.fingerprints), "topics": list(self.topics),
        }  # fmt: skip


class SimilarCounter:
    """Add dead letters one by one (like ``GroupCounter``); ``groups()``: largest first."""

    def __init__(self, miner: PatternMiner | None = None) -> None:
        self.miner = miner or PatternMiner()
        self.total = 0
        self._open: dict[int, int] = {}
        self._topics: dict[int, set[str]] = {}

    def add(self, d: DeadLetter, accounting: Accounting | None = None) -> None:
        """File ``d`` under its pattern; ``accounting`` as the ledger says (``None``: open)."""
        stack = diagnostics(d.record.headers).get("stacktrace")
        p = self.miner.add(d.error_class, d.message, stack, member=d.fingerprint or "-")
        self.total += 1
        self._open[p.pattern_id] = self._open.get(p.pattern_id, 0) + (accounting is None)
        self._topics.setdefault(p.pattern_id, set()).add(d.topic or "-")

    def groups(self) -> list[SimilarGroup]:
        """One group per pattern, largest first."""
        return [self._group(p) for p in self.miner.patterns()]

    def _group(self, p: Pattern) -> SimilarGroup:
        return SimilarGroup(
            template=p.text, count=p.count, open=self._open.get(p.pattern_id, 0),
            error_class=p.error_class, sample_message=p.sample,
            fingerprints=tuple(sorted(p.members)),
            topics=tuple(sorted(self._topics.get(p.pattern_id, ()))),
        )  # fmt: skip
