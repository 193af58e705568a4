"""Dead letters counted by fingerprint (one kind of failure), in one pass (pure).

``GroupCounter`` keeps one small summary per fingerprint, never the records, so a
topic of any size is grouped in memory proportional to its kinds of failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dirigent.ops.dlt import DeadLetter
from dirigent.ops.dlt_ledger import Accounting

__all__ = ["FingerprintGroup", "GroupCounter", "group_by_fingerprint"]


@dataclass(frozen=True, slots=True)
class FingerprintGroup:
    """Dead letters of one kind of failure.

    ``open`` counts those not accounted for (neither replayed nor judged dead);
    ``returned`` those that are replayed records which failed again.
    """

    fingerprint: str
    count: int
    error_class: str | None
    sample_message: str | None
    topics: tuple[str, ...]
    handler: str | None = None
    open: int = 0
    replayed: int = 0
    judged_dead: int = 0
    returned: int = 0
    first_failure_ms: int | None = None
    last_failure_ms: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "fingerprint": self.fingerprint,
            "count": self.count,
            "open": self.open,
            "replayed": self.replayed,
            "judged_dead": self.judged_dead,
            "returned": self.returned,
            "error_class": self.error_class,
            "handler": self.handler,
            "sample_message": self.sample_message,
            "topics": list(self.topics),
            "first_failure_ms": self.first_failure_ms,
            "last_failure_ms": self.last_failure_ms,
        }


@dataclass(slots=True)
class _Tally:
    error_class: str | None
    message: str | None
    handler: str | None
    count: int = 0
    open: int = 0
    replayed: int = 0
    judged_dead: int = 0
    returned: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    topics: set[str] = field(default_factory=set)


class GroupCounter:
    """Add dead letters one by one; ``groups()`` gives the largest group first."""

    def __init__(self) -> None:
        self._tallies: dict[str, _Tally] = {}
        self.total = 0

    def add(self, d: DeadLetter, accounting: Accounting | None = None) -> None:
        """Count ``d``; ``accounting`` is what the ledger says of it (``None``: open)."""
        fp = d.fingerprint or "-"
        t = self._tallies.get(fp)
        if t is None:
            t = self._tallies[fp] = _Tally(d.error_class, d.message, d.handler)
        self.total += 1
        t.count += 1
        t.open += accounting is None
        t.replayed += accounting is Accounting.REPLAYED
        t.judged_dead += accounting is Accounting.JUDGED_DEAD
        t.returned += d.replays > 0
        at = d.failed_at_ms
        t.first_ms = at if t.first_ms is None else min(t.first_ms, at)
        t.last_ms = at if t.last_ms is None else max(t.last_ms, at)
        t.topics.add(d.topic or "-")

    def groups(self) -> list[FingerprintGroup]:
        """One group per fingerprint, largest first; the sample is the first occurrence."""
        found = [_group(fp, t) for fp, t in self._tallies.items()]
        return sorted(found, key=lambda g: (-g.count, g.fingerprint))


def _group(fp: str, t: _Tally) -> FingerprintGroup:
    return FingerprintGroup(
        fingerprint=fp,
        count=t.count,
        error_class=t.error_class,
        sample_message=t.message,
        topics=tuple(sorted(t.topics)),
        handler=t.handler,
        open=t.open,
        replayed=t.replayed,
        judged_dead=t.judged_dead,
        returned=t.returned,
        first_failure_ms=t.first_ms,
        last_failure_ms=t.last_ms,
    )


def group_by_fingerprint(letters: Iterable[DeadLetter]) -> list[FingerprintGroup]:
    """One group per fingerprint, largest first; the sample is the first occurrence."""
    counter = GroupCounter()
    for d in letters:
        counter.add(d)
    return counter.groups()
