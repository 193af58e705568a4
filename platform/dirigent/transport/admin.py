"""Creating and deleting topics. dirigent never relies on auto topic creation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from dirigent.errors import TransportError

__all__ = ["TopicSpec", "delete_topics", "ensure_topics"]


@dataclass(frozen=True)
class TopicSpec:
    """A topic to create: name, partitions, replication, extra configs."""

    name: str
    partitions: int = 1
    replication_factor: int = 1
    configs: dict[str, str] = field(default_factory=dict)


async def ensure_topics(bootstrap: str, specs: Iterable[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet; return the names created."""
    specs = list(specs)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
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
            raise TransportError(f"could not create topics: {errors}")
        return [t.name for t in new]
    except KafkaError as exc:
        raise TransportError(f"topic administration failed on {bootstrap}: {exc}") from exc
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: Iterable[str]) -> None:
    """Delete topics (missing ones are ignored)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            await admin.delete_topics(doomed)
    except KafkaError as exc:
        raise TransportError(f"deleting topics failed on {bootstrap}: {exc}") from exc
    finally:
        await admin.close()
