"""One pass over a dead-letter topic: filtered, joined to the ledger and the sagas.

Memory stays bounded whatever the topic's size: records come in fetch-sized batches
and a batch is dropped once the caller has used it. There is no overall timeout; the
``progress`` sink hears how far the pass is. The end of each partition is fixed when
the pass starts, so records dead-lettered meanwhile wait for the next pass.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from dirigent.ops.dlt import DeadLetter
from dirigent.ops.dlt_filter import DltFilter
from dirigent.ops.dlt_ledger import Accounting, Ledger
from dirigent.ops.progress import NO_PROGRESS, Progress
from dirigent.ops.saga_join import SagaJoin, SagaLookup
from dirigent.transport.consumer import InboundRecord
from dirigent.transport.scan import PartitionBounds, TopicReader
from dirigent.transport.security import Bootstrap

__all__ = ["DeadLetterScan", "Found"]


@dataclass(frozen=True, slots=True)
class Found:
    """A dead letter that matched, what the ledger says of it, and its saga (if read)."""

    letter: DeadLetter
    accounting: Accounting | None = None
    saga: SagaLookup | None = None


@dataclass
class DeadLetterScan:
    """Iterate ``batches()`` once; ``scanned``/``matched`` count as it goes.

    ``sagas`` joins every match to its saga (needed when ``filter`` names saga types).
    ``filter.offsets`` that all name a partition are fetched directly, not scanned.
    """

    bootstrap: Bootstrap
    dlt: str
    filter: DltFilter = field(default_factory=DltFilter)
    ledger: Ledger | None = None
    sagas: SagaJoin | None = None
    progress: Progress = NO_PROGRESS
    limit: int | None = None
    scanned: int = 0
    matched: int = 0
    bounds: list[PartitionBounds] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.filter.needs_sagas and self.sagas is None:
            raise ValueError("filtering by saga type needs the saga store (a SagaJoin)")
        if self.filter.accounting is not None and self.ledger is None:
            raise ValueError("filtering by replayed / judged dead needs the ledger")

    async def batches(self) -> AsyncIterator[list[Found]]:
        """The matching dead letters, partition by partition, in offset order."""
        async with TopicReader(self.bootstrap, self.dlt) as reader:
            self.bounds = await reader.bounds()
            direct = _direct_offsets(self.filter, self.bounds)
            total = sum(len(v) for v in direct.values()) if direct is not None else None
            self.progress.start(f"scanning {self.dlt}", total or sum(b.count for b in self.bounds))
            try:
                async for records in self._records(reader, direct):
                    self.scanned += len(records)
                    self.progress.advance(len(records))
                    found = await self._matching(records)
                    if self.limit is not None:
                        found = found[: self.limit - self.matched]
                    self.matched += len(found)
                    if found:
                        yield found
                    if self.limit is not None and self.matched >= self.limit:
                        return
            finally:
                self.progress.finish()

    async def _records(
        self, reader: TopicReader, direct: dict[int, list[int]] | None
    ) -> AsyncIterator[list[InboundRecord]]:
        if direct is not None:
            for p, offsets in sorted(direct.items()):
                async for pairs in reader.fetch(p, offsets):
                    yield [r for _, r in pairs if r is not None]
            return
        for b in self.bounds:
            async for batch in reader.scan(b.partition, b.start, b.end):
                yield batch

    async def _matching(self, records: list[InboundRecord]) -> list[Found]:
        f, ledger = self.filter, self.ledger
        letters = [d for d in map(DeadLetter.of, records) if f.matches(d)]
        states = [ledger.state(*d.position) if ledger else None for d in letters]
        kept = [(d, s) for d, s in zip(letters, states, strict=True) if f.matches_accounting(s)]
        if self.sagas is None:
            return [Found(d, s) for d, s in kept]
        lookups = await self.sagas.lookup([d for d, _ in kept])
        return [
            Found(d, s, saga)
            for (d, s), saga in zip(kept, lookups, strict=True)
            if f.matches_saga(saga.state.saga_type if saga.state else None)
        ]


def _direct_offsets(f: DltFilter, bounds: list[PartitionBounds]) -> dict[int, list[int]] | None:
    """``partition -> offsets`` when the filter names exact records, else ``None``."""
    if not f.offsets or any(o.partition is None for o in f.offsets):
        return None
    known = {b.partition for b in bounds}
    direct: dict[int, set[int]] = {}
    for o in f.offsets:
        if o.partition is not None and o.partition in known:
            direct.setdefault(o.partition, set()).add(o.offset)
    return {p: sorted(v) for p, v in direct.items()}
