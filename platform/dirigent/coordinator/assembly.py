"""The coordinator's object graph, built in one place; the runtime loop only runs it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from dirigent.config import Settings
from dirigent.coordinator.backpressure import Backpressure
from dirigent.coordinator.inputs import Router
from dirigent.coordinator.metrics import CoordinatorMetrics
from dirigent.coordinator.outbound import OutboundEncoder, TransitionBatcher
from dirigent.coordinator.ownership import Ownership
from dirigent.coordinator.participants import ParticipantHealth
from dirigent.coordinator.processor import BatchProcessor
from dirigent.coordinator.relay import OutboxRelay
from dirigent.coordinator.settings import CoordinatorSettings
from dirigent.coordinator.timers import TimerScanner
from dirigent.coordinator.topology import Topology
from dirigent.errors import ConfigurationError, TransportError
from dirigent.events import AvroCodec, EnvelopeLimits
from dirigent.observability.tracing import Tracing
from dirigent.saga.steps import participant_of
from dirigent.store import RedisClient, SagaStore, SagaStorePort
from dirigent.store._packing import with_c_packing
from dirigent.store.client import redis_client as _store_redis_client
from dirigent.store.security import RedisSecurity
from dirigent.transport import ConsumerSettings, RawProducer, TopicSpec, ensure_topics
from dirigent.transport.group import GroupConsumer
from dirigent.transport.reader import partition_count
from dirigent.transport.security import Bootstrap

__all__ = ["Parts", "assemble", "input_partitions", "redis_client"]


@dataclass
class Parts:
    """Everything one coordinator process runs, wired together."""

    store: SagaStorePort
    producer: RawProducer
    consumer: GroupConsumer
    router: Router
    processor: BatchProcessor
    relay: OutboxRelay
    timers: TimerScanner
    ownership: Ownership
    backpressure: Backpressure


def redis_client(url: str, security: RedisSecurity | None = None) -> RedisClient:
    """A Redis client that never waits for ever: a hung server is a retryable fault.

    ``redis+cluster://`` URLs give a Redis Cluster client (``dirigent.store.client``).
    """
    # the store's calls carry many arguments: pack them in C
    return with_c_packing(_store_redis_client(url, security))


async def input_partitions(bootstrap: Bootstrap, topology: Topology) -> dict[str, int]:
    """Each input topic's partition count; they must agree (one saga, one partition).

    A topic created just before (``dirigent topics create``, a demo) may take a moment
    to show in the broker's metadata: a missing one is looked for again for a while.
    """
    counts = {t: await _created(bootstrap, t) for t in topology.input_topics}
    if len(set(counts.values())) > 1:
        listing = ", ".join(f"{t}={n}" for t, n in sorted(counts.items()))
        raise ConfigurationError(
            f"the coordinator's input topics must have one partition count "
            f"(co-partitioned by saga id), but they have {listing}"
        )
    return counts


async def admin_topics(
    bootstrap: Bootstrap, config: CoordinatorSettings, partitions: dict[str, int]
) -> dict[str, int]:
    """Create the admin topic (co-partitioned with the inputs) and the audit topic if
    missing; ``partitions`` with the admin topic added."""
    count = max(partitions.values(), default=1)
    admin = config.admin_topic_name
    await ensure_topics(bootstrap, [TopicSpec(admin, count), TopicSpec(config.audit_topic)])
    found = await _created(bootstrap, admin)
    if found != count:
        raise ConfigurationError(
            f"admin topic {admin} has {found} partitions but the saga topics have {count}: "
            "it must be co-partitioned with them (delete it and let the coordinator create it)"
        )
    return {**partitions, admin: count}


async def _created(bootstrap: Bootstrap, topic: str, wait_s: float = 15.0) -> int:
    """The partition count of a topic maybe just created: its metadata may lag the
    creation, so a topic not found is looked for again until ``wait_s`` has passed."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        try:
            return await partition_count(bootstrap, topic)
        except TransportError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


async def transitions_batchable(
    bootstrap: Bootstrap, config: CoordinatorSettings, partitions: dict[str, int]
) -> bool:
    """Whether the relay may join transitions (``events/transitions.py``): the topic
    exists with the saga topics' partition count, so a batch's partition is the one
    each of its sagas' ids hashes to."""
    if not (config.publish_transitions and config.batch_transitions):
        return False
    try:
        count = await partition_count(bootstrap, config.transitions_topic)
    except TransportError:
        return False  # not there yet (created on first write): one record each
    return count == max(partitions.values(), default=0)


def assemble(
    *,
    ident: str,
    settings: Settings,
    config: CoordinatorSettings,
    topology: Topology,
    codec: AvroCodec,
    limits: EnvelopeLimits,
    partitions: dict[str, int],
    redis: RedisClient,
    producer: RawProducer,
    health: ParticipantHealth,
    metrics: CoordinatorMetrics,
    clock: Callable[[], float],
    batch_transitions: bool = False,
    tracing: Tracing | None = None,
) -> Parts:
    c = config
    store = SagaStore(redis, c.group_id, c.seen_ttl_s, c.terminal_ttl_s)
    encoder = OutboundEncoder(
        codec, source=ident,
        transitions_topic=c.transitions_topic if c.publish_transitions else None,
        audit_topic=c.audit_topic,
    )  # fmt: skip
    new_trace = tracing.new_trace if tracing is not None and tracing.enabled else None
    spans = new_trace is not None
    router = Router(topology, codec, limits, partitions, frozenset(c.ignored_types),
                    admin_topic=c.admin_topic_name, new_trace=new_trace)  # fmt: skip
    processor = BatchProcessor(topology, store, encoder, clock, c.conflict_retries, spans)
    participants = command_participants(topology)
    relay = OutboxRelay(
        store,
        producer,
        health,
        participants,
        clock=clock,
        interval_s=c.relay_interval_s,
        hold_s=c.unsent_hold_s,
    )
    ownership = Ownership(
        store, relay, metrics, clock=clock, fenced_hold_s=c.session_timeout_ms / 1000
    )
    relay.owners = ownership  # the relay sends only for partitions we own
    if batch_transitions:
        relay.combine = TransitionBatcher(encoder)
    consumer = GroupConsumer(
        settings.kafka(), (*topology.input_topics, c.admin_topic_name), group_id=c.group_id,
        on_assigned=ownership.assigned, on_revoked=ownership.revoked,
        settings=ConsumerSettings(
            client_id=ident, max_poll_records=c.max_batch_records,
            session_timeout_ms=c.session_timeout_ms,
            heartbeat_interval_ms=c.heartbeat_interval_ms,
        ),
    )  # fmt: skip
    ownership.consumer = consumer
    return Parts(
        store=store,
        producer=producer,
        consumer=consumer,
        router=router,
        processor=processor,
        relay=relay,
        timers=TimerScanner(store, topology, health, clock, unsent=relay),
        ownership=ownership,
        backpressure=Backpressure(c.max_in_flight_sagas, c.max_outbox),
    )


def command_participants(topology: Topology) -> dict[str, str]:
    """Command topic -> the participant (circuit breaker) behind it, over every version."""
    out: dict[str, str] = {}
    for versions in topology.catalog.versions.values():
        for d in versions.values():
            for s in d.steps.values():
                if s.sends:
                    out[s.topic] = s.participant
            for s in d.steps.values():
                if s.compensation is not None:
                    out.setdefault(s.compensation.topic, participant_of(s.compensation.topic))
    return out
