"""Creating the topics a set of sagas needs: co-partitioned inputs and commands, their
dead-letter topics, and the transitions topic."""

from __future__ import annotations

from dirigent.coordinator.topology import Topology
from dirigent.transport import TopicSpec, dlt_topic, ensure_topics
from dirigent.transport.security import Bootstrap

__all__ = ["provision_topics", "topic_specs"]


def topic_specs(
    topology: Topology, *, partitions: int, transitions_topic: str | None
) -> list[TopicSpec]:
    """Every topic the sagas read or write, with one partition count (co-partitioning)."""
    names = {*topology.input_topics, *topology.command_topics}
    names |= {dlt_topic(t) for t in names}
    if transitions_topic:
        names.add(transitions_topic)
    return [TopicSpec(name, partitions) for name in sorted(names)]


async def provision_topics(
    bootstrap: Bootstrap, topology: Topology, *, partitions: int, transitions_topic: str | None
) -> list[str]:
    """Create the missing topics; returns the names created."""
    specs = topic_specs(topology, partitions=partitions, transitions_topic=transitions_topic)
    return await ensure_topics(bootstrap, specs)
