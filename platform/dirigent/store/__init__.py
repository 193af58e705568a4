"""Redis adapters: the only package that builds Redis keys or holds Lua."""

from dirigent.store.idempotency import IdempotencySettings, IdempotencyStore
from dirigent.store.keys import PartitionKeys
from dirigent.store.outbox import OutboxRecord
from dirigent.store.saga_store import Outcome, SagaStore, StoredSaga, Write

__all__ = [
    "IdempotencySettings",
    "IdempotencyStore",
    "OutboxRecord",
    "Outcome",
    "PartitionKeys",
    "SagaStore",
    "StoredSaga",
    "Write",
]
