"""Creating, checking and deleting topics. dirigent never relies on auto topic creation."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from dirigent.errors import TransportError
from dirigent.transport._errors import map_kafka_errors
from dirigent.transport._login import start_client
from dirigent.transport.security import Bootstrap, kafka_options

__all__ = ["TopicSpec", "delete_topics", "ensure_topics", "missing_topics"]


@dataclass(frozen=True)
class TopicSpec:
    """A topic to create: name, partitions, replication, extra configs."""

    name: str
    partitions: int = 1
    replication_factor: int = 1
    configs: dict[str, str] = field(default_factory=dict)


async def ensure_topics(bootstrap: Bootstrap, specs: Iterable[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet; return the names created."""
    specs = list(specs)
    async with _admin(bootstrap, "topic administration") as admin:
        with map_kafka_errors(f"topic administration on {bootstrap}"):
            existing = set(await admin.list_topics())
            new = [
                NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=s.configs)
                for s in specs
                if s.name not in existing
            ]
            if not new:
                return []
            response = await admin.create_topics(new)
    errors = [
        (t[0], t[1], t[2] if len(t) > 2 else None)  # (topic, error code, message)
        for t in response.topic_errors
        if t[1] not in (0, TopicAlreadyExistsError.errno)
    ]
    if errors:
        raise TransportError(f"could not create topics: {errors}", retryable=False)
    return [t.name for t in new]


async def missing_topics(bootstrap: Bootstrap, names: Iterable[str]) -> list[str]:
    """The ``names`` that do not exist on the cluster (fresh metadata from the broker)."""
    async with _admin(bootstrap, "listing topics") as admin:
        with map_kafka_errors(f"listing topics on {bootstrap}"):
            existing = set(await admin.list_topics())
    return [n for n in names if n not in existing]


async def delete_topics(bootstrap: Bootstrap, names: Iterable[str]) -> None:
    """Delete topics (missing ones are ignored)."""
    async with _admin(bootstrap, "deleting topics") as admin:
        with map_kafka_errors(f"deleting topics on {bootstrap}"):
            existing = set(await admin.list_topics())
            doomed = [n for n in names if n in existing]
            if doomed:
                await admin.delete_topics(doomed)


@contextlib.asynccontextmanager
async def _admin(bootstrap: Bootstrap, what: str):  # type: ignore[no-untyped-def]
    admin = AIOKafkaAdminClient(**kafka_options(bootstrap))
    await start_client(admin, bootstrap, f"{what}: connecting an admin client to {bootstrap}")
    try:
        yield admin
    finally:
        with contextlib.suppress(TransportError), map_kafka_errors("closing an admin client"):
            await admin.close()
