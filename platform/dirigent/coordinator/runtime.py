"""The coordinator process: consume, decide, store, relay, fire timers, repeat.

One loop owns consumption, decisions and timers (so a partition is never processed by
two tasks at once); the outbox relay runs beside it. Offsets are committed only after
each record's outcome (saga change, duplicate, ignored, or dead letter) is durable.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable, Sequence

from redis.asyncio import Redis

from dirigent.config import Settings
from dirigent.coordinator.backpressure import Backpressure
from dirigent.coordinator.breaker import Breakers, BreakerState
from dirigent.coordinator.health import HealthServer
from dirigent.coordinator.inputs import Poison, Routed, route_record
from dirigent.coordinator.metrics import CoordinatorMetrics
from dirigent.coordinator.observe import observe
from dirigent.coordinator.outbound import OutboundEncoder
from dirigent.coordinator.ownership import Ownership
from dirigent.coordinator.processor import BatchProcessor, Rejected
from dirigent.coordinator.relay import OutboxRelay
from dirigent.coordinator.settings import CoordinatorSettings
from dirigent.coordinator.timers import TimerScanner
from dirigent.coordinator.topology import Topology
from dirigent.errors import FencedOut, StoreError, TransportError
from dirigent.events import (
    DEFAULT_LIMITS,
    AvroCodec,
    SagaTransition,
    SchemaCatalog,
    SingleObjectCodec,
)
from dirigent.observability import get_logger
from dirigent.saga import SagaDefinition
from dirigent.store.saga_store import SagaStore
from dirigent.transport import (
    ConsumerSettings,
    Failure,
    InboundRecord,
    RawProducer,
    dead_letter_record,
)
from dirigent.transport.consumer import TopicPartition
from dirigent.transport.group import GroupConsumer

__all__ = ["Coordinator"]

log = get_logger("dirigent.coordinator")


class Coordinator:
    """Runs sagas: ``await Coordinator(sagas).run()`` until ``stop()`` (or SIGTERM).

    Example::

        coordinator = Coordinator([order_fulfilment], settings=Settings(),
                                  config=CoordinatorSettings(group_id="shop"))
        task = asyncio.create_task(coordinator.run())
        ...
        coordinator.stop(); await task
    """

    def __init__(
        self,
        sagas: Sequence[SagaDefinition],
        *,
        settings: Settings | None = None,
        config: CoordinatorSettings | None = None,
        codec: AvroCodec | None = None,
        metrics: CoordinatorMetrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings or Settings()
        self.config = config or CoordinatorSettings()
        self.topology = Topology.of(sagas, self.config.extra_topics)
        self.codec = codec or SingleObjectCodec(
            SchemaCatalog(), models=[*self.topology.models, SagaTransition]
        )
        self.metrics = metrics or CoordinatorMetrics()
        self.clock = clock
        self.id = self.config.coordinator_id or f"{socket.gethostname()}-{os.getpid()}"
        self.breakers = Breakers(self.config.breaker_failure_threshold, self.config.breaker_reset_s)
        self.limits = DEFAULT_LIMITS
        self._stopping = asyncio.Event()
        self._lock = asyncio.Lock()
        self._last_timer_scan = 0.0
        self._last_gauges = 0.0
        self.backpressure = Backpressure(self.config.max_in_flight_sagas, self.config.max_outbox)
        self.started = asyncio.Event()

    def stop(self) -> None:
        """Ask the loop to finish its batch, flush the outbox and leave the group."""
        self._stopping.set()

    async def run(self) -> None:
        redis = Redis.from_url(self.settings.redis_url)
        producer = RawProducer(self.settings.kafka_bootstrap)
        try:
            await self._run(redis, producer)
        finally:
            await producer.close()
            await redis.aclose()

    async def _run(self, redis: Redis, producer: RawProducer) -> None:
        c = self.config
        store = SagaStore(redis, c.group_id, c.seen_ttl_s, c.terminal_ttl_s)
        encoder = OutboundEncoder(
            self.codec, source=self.id,
            transitions_topic=c.transitions_topic if c.publish_transitions else None,
        )  # fmt: skip
        self.store, self.producer = store, producer
        self.processor = BatchProcessor(
            self.topology, store, encoder, self.clock, c.conflict_retries
        )
        participants = {
            t: s.participant for d in self.topology.by_name.values() for s in d.steps.values()
            for t in (s.topic, *([s.compensation.topic] if s.compensation else []))
        }  # fmt: skip
        self.relay = OutboxRelay(
            store, producer, self.breakers, participants, self.clock, c.relay_interval_s
        )
        self.timers = TimerScanner(store, self.topology, self.breakers, self.clock)
        self.ownership = Ownership(store, self.relay, self.metrics)
        consumer = GroupConsumer(
            self.settings.kafka_bootstrap, self.topology.input_topics, group_id=c.group_id,
            on_assigned=self.ownership.assigned, on_revoked=self.ownership.revoked,
            settings=ConsumerSettings(
                client_id=self.id, max_poll_records=c.max_batch_records,
                session_timeout_ms=c.session_timeout_ms,
                heartbeat_interval_ms=c.heartbeat_interval_ms,
            ),
        )  # fmt: skip
        health = None
        if c.metrics_port is not None:
            health = HealthServer(self.metrics.registry, port=c.metrics_port,
                                  live=lambda: not self._stopping.is_set(),
                                  ready=lambda: bool(self.ownership.owned))  # fmt: skip
            await health.start()
        await producer.start()
        await consumer.start()
        self.consumer = consumer
        log.info("coordinator started", id=self.id, topics=self.topology.input_topics)
        try:
            async with asyncio.TaskGroup() as tasks:
                relay = tasks.create_task(self.relay.run(self.ownership.numbers))
                self.started.set()
                await self._loop(consumer)
                relay.cancel()
            for number in sorted(self.ownership.numbers()):
                await self.relay.flush(number)
        finally:
            await consumer.close()
            if health is not None:
                await health.close()
        log.info("coordinator stopped", id=self.id)

    async def _loop(self, consumer: GroupConsumer) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            batch = await consumer.getmany(self.config.poll_timeout_ms)
            try:
                async with self._lock:
                    await self._handle(consumer, batch)
                    await self._fire_timers()
                self._pressure(consumer)
                await self._gauges(consumer)
                backoff = 0.1
            except (StoreError, TransportError) as exc:
                # Nothing of this batch is committed: rewind and try again.
                log.warning("batch failed; retrying", error=repr(exc), backoff_s=backoff)
                for tp, records in batch.items():
                    if tp.partition in self.ownership.owned:
                        consumer.seek(tp, records[0].offset)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _handle(
        self, consumer: GroupConsumer, batch: dict[TopicPartition, list[InboundRecord]]
    ) -> None:
        items: dict[int, list[Routed]] = {}
        poison: list[Poison] = []
        offsets: dict[TopicPartition, int] = {}
        for tp, records in batch.items():
            if tp.partition not in self.ownership.owned:
                continue  # revoked meanwhile: the new owner reads these again
            for record in records:
                routed = route_record(record, self.topology, self.codec, self.limits)
                if isinstance(routed, Poison):
                    poison.append(routed)
                elif routed is not None:
                    items.setdefault(tp.partition, []).append(routed)
                    if routed.definition is not None:
                        self.backpressure.start_topics.add(tp.topic)
            offsets[tp] = records[-1].offset + 1
        await self._dead_letter(poison)
        for number, routed_items in items.items():
            if not await self._process(number, routed_items):
                offsets = {tp: o for tp, o in offsets.items() if tp.partition != number}
                for tp, records in batch.items():
                    if tp.partition == number and number in self.ownership.owned:
                        consumer.seek(tp, records[0].offset)  # re-owned: read them again
        self.relay.notify(set(items))
        try:
            await consumer.commit(offsets)
        except TransportError as exc:  # outcomes are durable; a re-read is a duplicate
            log.warning("commit failed; records will be seen again", error=repr(exc))

    async def _process(self, number: int, items: list[Routed]) -> bool:
        owner = self.ownership.owned.get(number)
        if owner is None:
            return False
        try:
            result = await self.processor.process(owner, items)
        except FencedOut:
            log.warning("fenced out: another coordinator owns the partition", partition=number)
            self.ownership.drop(number, owner)
            return False
        await self._reject(number, result.rejected)
        if result.duplicates:
            self.metrics.inputs.labels("duplicate").inc(result.duplicates)
        observe(result.applied, owner, self.topology, self.metrics, self.breakers, self.clock())
        return True

    async def _reject(self, number: int, rejected: list[Rejected]) -> None:
        """Saga code failed: dead-letter records; retry timers after the breaker reset."""
        timers = [r.routed.message_id for r in rejected if r.routed.record is None]
        for r in rejected:
            log.error("saga code failed", partition=number, saga_id=r.routed.saga_id,
                      message_id=r.routed.message_id, error=repr(r.error))  # fmt: skip
        await self._dead_letter([
            Poison(r.routed.record, r.error) for r in rejected if r.routed.record is not None
        ])  # fmt: skip
        if timers:
            await self.store.postpone_timers(
                number, timers, self.clock() + self.config.breaker_reset_s
            )

    async def _dead_letter(self, poison: list[Poison]) -> None:
        if not poison:
            return
        now_ms = int(self.clock() * 1000)
        records = []
        for p in poison:
            failure = Failure.of(p.error, handler="coordinator", attempts=1,
                                 first_ms=now_ms, last_ms=now_ms)  # fmt: skip
            records.append(dead_letter_record(p.record, failure, group=self.config.group_id))
            self.metrics.dead_letters.labels(p.record.topic).inc()
            log.warning("dead-lettered", topic=p.record.topic, partition=p.record.partition,
                        offset=p.record.offset, error=str(p.error))  # fmt: skip
        await self.producer.send_batch(records)  # acknowledged before the offset commit

    def _pressure(self, consumer: GroupConsumer) -> None:
        in_flight, outbox = self.ownership.in_flight(), sum(self.relay.pending.values())
        changed = self.backpressure.apply(consumer, in_flight, outbox)
        if changed is not None:
            self.metrics.paused.set(1 if changed else 0)
            log.warning("backpressure " + ("on" if changed else "off"),
                        in_flight=in_flight, outbox=outbox)  # fmt: skip

    async def _gauges(self, consumer: GroupConsumer) -> None:
        now = self.clock()
        if now - self._last_gauges < 5.0:
            return
        self._last_gauges = now
        m = self.metrics
        m.in_flight.set(self.ownership.in_flight())
        m.outbox_pending.set(sum(self.relay.pending.values()))
        for participant, state in self.breakers.states(now).items():
            m.breaker_open.labels(participant).set(0 if state is BreakerState.CLOSED else 1)
        for tp, lag in (await consumer.lag()).items():
            m.consumer_lag.labels(tp.topic, str(tp.partition)).set(lag)

    async def _caught_up(self) -> None:
        """Release the timers of new partitions once their backlog has been read."""
        if not self.ownership.catching_up:
            return
        behind = await self.consumer.behind()
        self.ownership.catching_up -= {
            n for n in self.ownership.catching_up if n not in behind
        }  # fmt: skip

    async def _fire_timers(self) -> None:
        now = self.clock()
        if now - self._last_timer_scan < self.config.timer_interval_s:
            return
        self._last_timer_scan = now
        await self._caught_up()
        touched = set()
        for number in sorted(set(self.ownership.owned) - self.ownership.catching_up):
            due = await self.timers.due(number)
            if due and await self._process(number, due):
                touched.add(number)
        if touched:
            self.relay.notify(touched)
