"""What a dead-letter command reads besides the topic: its ledger and the saga store."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from dirigent.ops.dlt_filter import DltFilter
from dirigent.ops.dlt_ledger import Ledger, load_ledger
from dirigent.ops.dlt_scan import DeadLetterScan
from dirigent.ops.progress import NO_PROGRESS, Progress
from dirigent.ops.saga_join import SagaJoin
from dirigent.store.client import redis_client
from dirigent.store.security import RedisSecurity
from dirigent.transport.reader import partition_count
from dirigent.transport.security import Bootstrap

__all__ = ["DltSession", "SagaStoreRef", "open_session"]


@dataclass(frozen=True, slots=True)
class SagaStoreRef:
    """Where the coordinator keeps saga state: Redis, group id, partition count."""

    redis_url: str
    group_id: str = "dirigent-coordinator"
    partitions: int | None = None
    saga_topic: str | None = None  # read ``partitions`` from this topic
    security: RedisSecurity | None = None  # credentials and TLS beside the URL


@dataclass
class DltSession:
    """A dead-letter topic with its ledger and, when asked for, the saga store."""

    bootstrap: Bootstrap
    dlt: str
    ledger: Ledger
    sagas: SagaJoin | None
    progress: Progress

    def scan(self, f: DltFilter, *, limit: int | None = None) -> DeadLetterScan:
        """A pass over the topic with this session's ledger and sagas."""
        return DeadLetterScan(self.bootstrap, self.dlt, f, self.ledger, self.sagas,
                              self.progress, limit)  # fmt: skip


@contextlib.asynccontextmanager
async def open_session(
    bootstrap: Bootstrap,
    dlt: str,
    *,
    store: SagaStoreRef | None = None,
    progress: Progress = NO_PROGRESS,
    keep: Iterable[tuple[int, int]] = (),
) -> AsyncIterator[DltSession]:
    """Load the ledger, connect to Redis if ``store`` is given; close on exit."""
    ledger = await load_ledger(bootstrap, dlt, progress, keep=keep)
    if store is None:
        yield DltSession(bootstrap, dlt, ledger, None, progress)
        return
    partitions = store.partitions
    if partitions is None and store.saga_topic is not None:
        partitions = await partition_count(bootstrap, store.saga_topic)
    redis = redis_client(store.redis_url, store.security)
    try:
        join = SagaJoin(redis, bootstrap, store.group_id, partitions=partitions)
        yield DltSession(bootstrap, dlt, ledger, join, progress)
    finally:
        await redis.aclose()
