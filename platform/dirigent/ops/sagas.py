"""Looking at saga state: which partition holds a saga, its state, the status indexes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dirigent.errors import StoreError
from dirigent.saga.state import SagaState, SagaStatus
from dirigent.store.client import RedisClient
from dirigent.store.saga_queries import IndexedSaga, read_saga, sagas_with_status
from dirigent.transport.reader import partition_for

__all__ = ["SagaView", "find_saga", "list_sagas", "partition_for"]


@dataclass(frozen=True, slots=True)
class SagaView:
    """A saga as stored: where it lives, the store's version and status, its state."""

    group_id: str
    partition: int
    version: int
    status: str
    state: SagaState

    def to_dict(self) -> dict[str, Any]:
        s = self.state
        return {
            "saga_id": s.saga_id,
            "saga_type": s.saga_type,
            "group_id": self.group_id,
            "partition": self.partition,
            "status": self.status,
            "version": self.version,
            "definition_version": s.definition_version,
            "reason": s.reason,
            "started_at": s.started_at,
            "updated_at": s.updated_at,
            "deadline_at": s.deadline_at,
            "steps": {
                name: {
                    "status": st.status.value,
                    "attempt": st.attempt,
                    "compensation_attempt": st.compensation_attempt,
                    "command_id": st.command_id,
                }
                for name, st in s.steps.items()
            },
            "compensation_queue": list(s.compensation_queue or ()) or None,
            "early_events": {name: event_type for name, (event_type, _) in s.early.items()},
            "data": dict(s.data),
        }


async def find_saga(
    redis: RedisClient, group_id: str, saga_id: str, *, partitions: int
) -> SagaView | None:
    """The saga ``saga_id`` of coordinator group ``group_id``, or ``None`` if not stored."""
    partition = partition_for(saga_id, partitions)
    stored = await read_saga(redis, group_id, partition, saga_id)
    if stored is None:
        return None
    try:
        state = SagaState.from_json(stored.state_json)
    except ValueError as exc:
        raise StoreError(
            f"saga {saga_id} (group {group_id}, partition {partition}) has unreadable state: {exc}"
        ) from exc
    return SagaView(group_id, partition, stored.version, stored.status, state)


async def list_sagas(
    redis: RedisClient,
    group_id: str,
    *,
    partitions: int,
    statuses: Sequence[SagaStatus] = tuple(SagaStatus),
    limit: int | None = None,
) -> list[tuple[SagaStatus, IndexedSaga]]:
    """Sagas in ``statuses`` over all partitions, most recently updated first."""
    found: list[tuple[SagaStatus, IndexedSaga]] = []
    for status in statuses:
        rows = await sagas_with_status(redis, group_id, range(partitions), status, limit=limit)
        found += [(status, r) for r in rows]
    found.sort(key=lambda x: (-x[1].updated_at, x[1].saga_id))
    return found if limit is None else found[:limit]
