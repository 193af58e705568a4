"""Redis adapters: the only package that builds Redis keys or holds Lua."""

from dirigent.store._errors import map_redis_errors
from dirigent.store.client import RedisClient, is_cluster_url, redis_client
from dirigent.store.idempotency import IdempotencySettings, IdempotencyStore
from dirigent.store.keys import PartitionKeys
from dirigent.store.memory import MemorySagaStore
from dirigent.store.model import PartitionLoad, StoredSaga, Write, WriteOutcome, WriteResult
from dirigent.store.outbox import OutboxRecord
from dirigent.store.port import SagaStorePort
from dirigent.store.saga_store import SagaStore
from dirigent.store.security import RedisSecurity

__all__ = [
    "IdempotencySettings",
    "IdempotencyStore",
    "MemorySagaStore",
    "OutboxRecord",
    "PartitionKeys",
    "PartitionLoad",
    "RedisClient",
    "RedisSecurity",
    "SagaStore",
    "SagaStorePort",
    "StoredSaga",
    "Write",
    "WriteOutcome",
    "WriteResult",
    "is_cluster_url",
    "map_redis_errors",
    "redis_client",
]
