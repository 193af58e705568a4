"""Which dead letters a command looks at: one filter shared by every ``dirigent dlt`` verb.

Three stages, cheapest first, so that a scan asks the ledger and Redis only about
records that can still match: the record's own headers (``matches``), the ledger
(``matches_accounting``), the saga (``matches_saga``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dirigent.ops.dlt import DeadLetter, OffsetRef
from dirigent.ops.dlt_ledger import Accounting

__all__ = ["DltFilter", "parse_moment"]

_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d|w)")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True, slots=True, kw_only=True)
class DltFilter:
    """Conditions that all must hold; an empty set or ``None`` does not filter.

    Names match exactly or by their last dotted part (``Declined`` matches
    ``app.errors.Declined``). Times are the last failure (epoch ms), ``since`` included,
    ``until`` excluded. ``accounting``: ``"replayed"``, ``"judged-dead"``,
    ``"accounted"`` (either), ``"open"`` (neither) or ``None``.
    """

    topics: frozenset[str] = frozenset()
    since_ms: int | None = None
    until_ms: int | None = None
    error_classes: frozenset[str] = frozenset()
    fingerprints: frozenset[str] = frozenset()
    handlers: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    saga_ids: frozenset[str] = frozenset()
    saga_types: frozenset[str] = frozenset()
    offsets: tuple[OffsetRef, ...] = field(default=())
    accounting: str | None = None

    def matches(self, d: DeadLetter) -> bool:
        """What the record's headers decide."""
        at = d.failed_at_ms
        return (
            _in(self.topics, d.topic)
            and (self.since_ms is None or at >= self.since_ms)
            and (self.until_ms is None or at < self.until_ms)
            and _named(self.error_classes, d.error_class)
            and _in(self.fingerprints, d.fingerprint)
            and _named(self.handlers, d.handler)
            and _in(self.groups, d.group)
            and _in(self.saga_ids, d.saga_id)
            and (not self.offsets or any(o.matches(d.record) for o in self.offsets))
        )

    def matches_accounting(self, state: Accounting | None) -> bool:
        """What the ledger decides."""
        match self.accounting:
            case None:
                return True
            case "open":
                return state is None
            case "accounted":
                return state is not None
            case wanted:
                return state is not None and state.value == wanted

    @property
    def needs_sagas(self) -> bool:
        """Whether ``matches_saga`` must be asked (saga state has to be read)."""
        return bool(self.saga_types)

    def matches_saga(self, saga_type: str | None) -> bool:
        """What the saga's stored type decides."""
        return _named(self.saga_types, saga_type)

    def to_dict(self) -> dict[str, Any]:
        """The conditions set, JSON-ready (for selection files and audit records)."""
        doc: dict[str, Any] = {
            "topics": sorted(self.topics),
            "since_ms": self.since_ms,
            "until_ms": self.until_ms,
            "error_classes": sorted(self.error_classes),
            "fingerprints": sorted(self.fingerprints),
            "handlers": sorted(self.handlers),
            "groups": sorted(self.groups),
            "saga_ids": sorted(self.saga_ids),
            "saga_types": sorted(self.saga_types),
            "offsets": [_offset_text(o) for o in self.offsets],
            "accounting": self.accounting,
        }
        return {k: v for k, v in doc.items() if v not in (None, [])}


def parse_moment(text: str, *, now: datetime | None = None) -> int:
    """Epoch ms of ``text``: ISO 8601 (UTC if no zone given) or an age (``90s``, ``15m``,
    ``2h``, ``3d``, ``1w`` ago); ``ValueError`` naming the input otherwise."""
    now = now or datetime.now(UTC)
    age = _RELATIVE.fullmatch(text.strip())
    if age:
        return int((now.timestamp() - float(age[1]) * _UNIT_S[age[2]]) * 1000)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"time {text!r} is neither ISO 8601 (2024-05-01T12:00) nor an age (15m, 2h, 3d)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _in(wanted: frozenset[str], value: str | None) -> bool:
    return not wanted or value in wanted


def _named(wanted: frozenset[str], value: str | None) -> bool:
    if not wanted:
        return True
    if value is None:
        return False
    return value in wanted or value.rsplit(".", 1)[-1] in wanted


def _offset_text(o: OffsetRef) -> str:
    return str(o.offset) if o.partition is None else f"{o.partition}:{o.offset}"
