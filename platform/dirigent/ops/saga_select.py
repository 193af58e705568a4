"""Selecting sagas for a bulk operator action: by type, status, age and reason."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from dirigent.ops.sagas import SagaView, find_saga, list_sagas
from dirigent.saga import SagaStatus
from dirigent.store.client import RedisClient

__all__ = ["Selection", "select_sagas"]

_LIVE = (SagaStatus.RUNNING, SagaStatus.COMPENSATING, SagaStatus.PARKED, SagaStatus.FAILED)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which sagas a bulk action applies to; every given criterion must hold.

    ``statuses`` default to the ones an operator acts on (running, compensating, parked,
    failed); ``older_than_s`` is the time since the saga last changed; ``reason_like`` a
    regular expression searched in its reason.
    """

    saga_type: str | None = None
    statuses: Sequence[SagaStatus] = ()
    older_than_s: float | None = None
    reason_like: str | None = None

    def matches(self, view: SagaView, now: float) -> bool:
        s = view.state
        if self.saga_type is not None and s.saga_type != self.saga_type:
            return False
        if self.older_than_s is not None and now - s.updated_at < self.older_than_s:
            return False
        return self.reason_like is None or re.search(self.reason_like, s.reason or "") is not None


async def select_sagas(
    redis: RedisClient,
    group_id: str,
    partitions: int,
    selection: Selection,
    *,
    now: float | None = None,
) -> list[SagaView]:
    """The sagas of ``group_id`` the selection matches, most recently changed first."""
    at = time.time() if now is None else now
    statuses = list(selection.statuses) or list(_LIVE)
    found = []
    for _, indexed in await list_sagas(redis, group_id, partitions=partitions, statuses=statuses):
        view = await find_saga(redis, group_id, indexed.saga_id, partitions=partitions)
        if view is not None and view.state.status in statuses and selection.matches(view, at):
            found.append(view)
    return found
