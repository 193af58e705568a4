"""What the pages and the API show, read through the same ops functions as the CLI."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from dirigent.dashboard.context import Dashboard
from dirigent.ops import find_saga, list_sagas
from dirigent.ops.dlt_filter import DltFilter
from dirigent.ops.dlt_groups import FingerprintGroup, GroupCounter
from dirigent.ops.dlt_scan import Found
from dirigent.ops.dlt_session import open_session
from dirigent.ops.dlt_similar import SimilarCounter, SimilarGroup
from dirigent.ops.saga_history import HistoryEntry, saga_history
from dirigent.ops.saga_select import Selection
from dirigent.ops.sagas import SagaView
from dirigent.saga.state import SagaStatus
from dirigent.transport import missing_topics

__all__ = [
    "DltGroups",
    "SagaPage",
    "SagaRow",
    "Timeline",
    "dlt_groups",
    "dlt_records",
    "dlt_topic_exists",
    "saga_page",
    "timeline",
]


@dataclass(frozen=True, slots=True)
class SagaRow:
    """One listed saga; ``view`` is ``None`` once a terminal saga's state expired."""

    saga_id: str
    status: str
    partition: int
    updated_at: float
    view: SagaView | None

    @property
    def saga_type(self) -> str | None:
        return self.view.state.saga_type if self.view else None

    @property
    def reason(self) -> str | None:
        return self.view.state.reason if self.view else None


@dataclass(frozen=True, slots=True)
class SagaPage:
    """Sagas matching the filters, newest first, and counts by (type, status) of them."""

    rows: list[SagaRow]
    scanned: int
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def types(self) -> list[str]:
        return sorted({t for t, _ in self.counts if t != "-"})


async def saga_page(
    d: Dashboard,
    *,
    statuses: tuple[SagaStatus, ...] = (),
    saga_type: str | None = None,
    limit: int | None = None,
) -> SagaPage:
    """The status indexes (``list_sagas``) joined to each saga's state (``find_saga``);
    a type filter is the one ``dirigent saga <action> --type`` uses (``Selection``)."""
    limit = limit or d.config.page_limit
    wanted = list(statuses) or list(SagaStatus)
    window = d.config.scan_limit if saga_type else limit
    indexed = await list_sagas(
        d.redis, d.group_id, partitions=d.partitions, statuses=wanted, limit=window
    )
    selection, now = Selection(saga_type=saga_type), time.time()
    rows: list[SagaRow] = []
    for status, entry in indexed:
        view = await find_saga(d.redis, d.group_id, entry.saga_id, partitions=d.partitions)
        if saga_type and (view is None or not selection.matches(view, now)):
            continue
        rows.append(SagaRow(entry.saga_id, status.value, entry.partition, entry.updated_at, view))
        if len(rows) >= limit:
            break
    counts = Counter((r.saga_type or "-", r.status) for r in rows)
    return SagaPage(rows, len(indexed), counts)


@dataclass(frozen=True, slots=True)
class Timeline:
    """One saga: its stored state (if still stored) and its history, oldest first."""

    saga_id: str
    view: SagaView | None
    entries: list[HistoryEntry]


async def timeline(d: Dashboard, saga_id: str) -> Timeline:
    """``dirigent saga history`` with the state as ``dirigent saga show`` reads it."""
    view = await find_saga(d.redis, d.group_id, saga_id, partitions=d.partitions)
    entries = await saga_history(
        d.bootstrap,
        saga_id,
        transitions_topic=d.config.transitions_topic,
        audit_topic=d.config.audit_topic,
    )
    return Timeline(saga_id, view, entries)


async def dlt_topic_exists(d: Dashboard, topic: str) -> bool:
    return not await missing_topics(d.bootstrap, [topic])


@dataclass(frozen=True, slots=True)
class DltGroups:
    """A dead-letter topic grouped by fingerprint, as ``dirigent dlt groups`` counts it."""

    topic: str
    total: int
    scanned: int
    groups: list[FingerprintGroup]
    patterns: list[SimilarGroup] = field(default_factory=list)  # by template and stack


async def dlt_groups(d: Dashboard, topic: str) -> DltGroups:
    counter, similar = GroupCounter(), SimilarCounter()
    async with open_session(d.bootstrap, topic) as session:
        scan = session.scan(DltFilter())
        async for batch in scan.batches():
            for x in batch:
                counter.add(x.letter, x.accounting)
                similar.add(x.letter, x.accounting)
    return DltGroups(topic, counter.total, scan.scanned, counter.groups(), similar.groups())


async def dlt_records(d: Dashboard, topic: str, fingerprint: str, *, limit: int) -> list[Found]:
    """The dead letters of one fingerprint with their ledger state and saga, oldest first."""
    f = DltFilter(fingerprints=frozenset({fingerprint}))
    found: list[Found] = []
    async with open_session(d.bootstrap, topic, store=d.store()) as session:
        async for batch in session.scan(f, limit=limit).batches():
            found += batch
    return found
