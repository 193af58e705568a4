"""The coordinator process: consume, decide, store, relay, fire timers, repeat.

One loop owns consumption, decisions and timers (so a partition is never processed by
two tasks at once); the outbox relay runs beside it. Offsets are committed only after
each record's outcome (saga change, duplicate, ignored, forwarded, or dead letter) is
durable.

Faults degrade, never kill: every Redis and Kafka call raises dirigent's errors, and
the loop reads ``retryable``. A transient fault rewinds the batch, backs off (capped),
and shows in ``/readyz`` (503) and ``dirigent_degraded``; a permanent one
(authentication, configuration, a missing topic) ends the process with its message.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Callable, Sequence

from dirigent.config import Settings
from dirigent.coordinator.advice import BreakerAdvice, step_participants
from dirigent.coordinator.assembly import (
    Parts,
    admin_topics,
    assemble,
    input_partitions,
    redis_client,
    transitions_batchable,
)
from dirigent.coordinator.breaker import Breakers
from dirigent.coordinator.gauges import sample_gauges
from dirigent.coordinator.inputs import Poison, Routed
from dirigent.coordinator.metrics import CoordinatorMetrics
from dirigent.coordinator.observe import observe
from dirigent.coordinator.outcomes import report_outcomes, saga_fields
from dirigent.coordinator.participants import ParticipantHealth
from dirigent.coordinator.processor import BatchResult
from dirigent.coordinator.settings import CoordinatorSettings
from dirigent.coordinator.spans import emit_spans
from dirigent.coordinator.topology import Topology
from dirigent.coordinator.version_check import check_versions, describe
from dirigent.errors import DirigentError, FencedOut
from dirigent.events import (
    DEFAULT_LIMITS,
    AvroCodec,
    OpsAudit,
    SagaAdmin,
    SagaTransition,
    SagaTransitionBatch,
    SchemaCatalog,
    SingleObjectCodec,
)
from dirigent.observability import get_logger
from dirigent.observability.http import HealthServer
from dirigent.observability.tracing import Tracing
from dirigent.saga import SagaDefinition, TimerFired
from dirigent.store import RedisClient
from dirigent.transport import FailedRecord, Failure, InboundRecord, RawProducer, send_dead_letters
from dirigent.transport.consumer import TopicPartition

__all__ = ["Coordinator"]

log = get_logger("dirigent.coordinator")

Batch = dict[TopicPartition, list[InboundRecord]]


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
        tracing: Tracing | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.config = config or CoordinatorSettings()
        self.topology = Topology.of(sagas, self.config.extra_topics)
        self.codec = codec or SingleObjectCodec(
            SchemaCatalog(),
            models=[
                *self.topology.models,
                SagaTransition,
                SagaTransitionBatch,
                SagaAdmin,
                OpsAudit,
            ],
        )
        self.metrics = metrics or CoordinatorMetrics()
        self.clock = clock
        self.tracing = tracing or Tracing.off()  # configure_tracing(settings) turns it on
        self.id = self.config.coordinator_id or f"{socket.gethostname()}-{os.getpid()}"
        self.health = ParticipantHealth(
            Breakers(self.config.breaker_failure_threshold, self.config.breaker_reset_s)
        )
        self.limits = DEFAULT_LIMITS
        self.degraded: str | None = None  # why the last loop turn failed, until one succeeds
        self.parts: Parts | None = None
        self.started = asyncio.Event()
        self._stopping = asyncio.Event()
        self._last_timer_scan = 0.0
        self._last_gauges = 0.0

    def stop(self) -> None:
        """Ask the loop to finish its batch, flush the outbox and leave the group."""
        self._stopping.set()

    def ready(self) -> tuple[bool, str]:
        """Whether this process does its share now, and if not, why."""
        p = self.parts
        if p is None or not self.started.is_set():
            return False, "starting"
        reason = self.degraded or p.relay.degraded or p.ownership.degraded
        if reason is not None:
            return False, reason
        if p.ownership.pending:
            return False, f"partitions {sorted(p.ownership.pending)} not owned yet"
        return True, "ok"

    async def run(self) -> None:
        redis = redis_client(self.settings.redis_url, self.settings.redis_security())
        producer = RawProducer(self.settings.kafka())
        try:
            await self._run(redis, producer)
        finally:
            await producer.close()
            await redis.aclose()

    async def _run(self, redis: RedisClient, producer: RawProducer) -> None:
        partitions = await input_partitions(self.settings.kafka(), self.topology)
        partitions = await admin_topics(self.settings.kafka(), self.config, partitions)
        batch = await transitions_batchable(self.settings.kafka(), self.config, partitions)
        if self.config.check_versions:
            await self._check_versions(redis, max(partitions.values(), default=1))
        p = self.parts = assemble(
            ident=self.id, settings=self.settings, config=self.config, topology=self.topology,
            codec=self.codec, limits=self.limits, partitions=partitions, redis=redis,
            producer=producer, health=self.health, metrics=self.metrics, clock=self.clock,
            batch_transitions=batch, tracing=self.tracing,
        )  # fmt: skip
        server = None
        if self.config.metrics_port is not None:
            server = HealthServer(self.metrics.registry, host=self.config.metrics_host,
                                  port=self.config.metrics_port,
                                  live=lambda: not self._stopping.is_set(),
                                  ready=lambda: self.ready()[0])  # fmt: skip
            await server.start()
        await producer.start()
        await p.consumer.start()
        log.info("coordinator started", id=self.id, topics=self.topology.input_topics)
        relay = asyncio.create_task(p.relay.run(p.ownership.numbers), name="outbox-relay")
        advice = self._advice()
        try:
            self.started.set()
            await self._loop(p, relay)
            for number in sorted(p.ownership.numbers()):
                await p.relay.flush_safely(number)
        finally:
            for task in (relay, advice):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await p.consumer.close()
            if server is not None:
                await server.close()
        log.info("coordinator stopped", id=self.id)

    def _advice(self) -> asyncio.Task[None] | None:
        """Opt-in (``breaker_advice``): breakers opened early on ``dirigent watch``'s word."""
        c = self.config
        if not c.breaker_advice:
            return None
        advice = BreakerAdvice(self.health, step_participants(self.topology), clock=self.clock,
                               max_age_s=c.breaker_advice_max_age_s)  # fmt: skip
        run = advice.run(self.settings.kafka(), c.anomalies_topic,
                         f"{c.group_id}.advice.{self.id}")  # fmt: skip
        return asyncio.create_task(run, name="breaker-advice")

    async def _loop(self, p: Parts, relay: asyncio.Task[None]) -> None:
        backoff = 0.1
        while not self._stopping.is_set():
            if relay.done():
                relay.result()  # the relay only ends on a permanent fault: raise it
            batch: Batch = {}
            try:
                await p.ownership.reconcile(p.consumer.assignment())
                self._flow(p)
                batch = await p.consumer.getmany(self.config.poll_timeout_ms)
                await self._handle(p, batch)
                await self._fire_timers(p)
                await self._gauges(p)
            except DirigentError as exc:
                if not exc.retryable:
                    raise
                self._degrade(p, batch, exc)
                backoff = min(backoff * 2, 5.0)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), backoff)
                continue
            if self.degraded is not None:
                log.info("coordinator recovered", after=self.degraded)
            self.degraded, backoff = None, 0.1
            self.metrics.degraded.set(0)

    def _degrade(self, p: Parts, batch: Batch, exc: DirigentError) -> None:
        """Nothing of this batch is committed: read it again after the backoff."""
        self.degraded = str(exc)
        self.metrics.degraded.set(1)
        p.ownership.catch_up()  # replies that wait in the log meanwhile beat timeouts
        p.relay.recover(set(p.ownership.owned))  # a write may have landed unseen
        log.warning("loop turn failed; retrying", error=str(exc), error_class=type(exc).__name__)
        for tp, records in batch.items():
            _seek_back(p, tp, records[0].offset)

    def _flow(self, p: Parts) -> None:
        """Pause what must not be read now: partitions not owned yet, and (under
        backpressure) the partitions that carry start events; resume the rest."""
        assigned = p.consumer.assignment()
        owned = p.ownership.owned
        in_flight, outbox = p.ownership.in_flight(), sum(p.relay.pending.values())
        changed = p.backpressure.update(in_flight, outbox)
        if changed is not None:
            self.metrics.paused.set(1 if changed else 0)
            log.warning("backpressure " + ("on" if changed else "off"),
                        in_flight=in_flight, outbox=outbox)  # fmt: skip
        want = {tp for tp in assigned if tp.partition not in owned}
        want |= p.backpressure.held(assigned)
        paused = p.consumer.paused()
        if want - paused:
            p.consumer.pause(want - paused)
        if paused - want:
            p.consumer.resume(paused - want)

    async def _handle(self, p: Parts, batch: Batch) -> None:
        items: dict[int, list[Routed]] = {}
        letters: list[FailedRecord] = []
        offsets: dict[TopicPartition, int] = {}
        for tp, records in batch.items():
            if tp.partition not in p.ownership.owned:
                _seek_back(p, tp, records[0].offset)  # not owned (yet): never skipped
                continue
            for record in records:
                routed = p.router.route(record)
                if isinstance(routed, Poison):
                    letters.append(self._letter(routed.record, routed.error))
                elif routed is None:
                    self.metrics.inputs.labels("unrouted").inc()
                else:
                    items.setdefault(tp.partition, []).append(routed)
                    if routed.definition is not None:
                        p.backpressure.start_topics.add(tp.topic)
            offsets[tp] = max(r.offset for r in records) + 1
        await self._dead_letter(letters, "poison")
        for number, routed_items in items.items():
            if not await self._process(p, number, routed_items):
                offsets = {tp: o for tp, o in offsets.items() if tp.partition != number}
                for tp, records in batch.items():
                    if tp.partition == number:
                        _seek_back(p, tp, records[0].offset)
        await self._commit(p, offsets)

    async def _commit(self, p: Parts, offsets: dict[TopicPartition, int]) -> None:
        """Commit what is durable, for partitions still ours (a rebalance may have run)."""
        assigned = p.consumer.assignment()
        offsets = {tp: o for tp, o in offsets.items() if tp in assigned}
        try:
            await p.consumer.commit(offsets)
        except DirigentError as exc:  # the outcomes are durable; a re-read is a duplicate
            log.warning("commit failed; records will be seen again", error=str(exc))

    async def _process(self, p: Parts, number: int, items: list[Routed]) -> bool:
        """Apply one partition's inputs; False if they must be read again (fenced)."""
        owner = p.ownership.owned.get(number)
        if owner is None:
            return False
        try:
            result = await p.processor.process(owner, items)
        except FencedOut:
            p.ownership.fenced(number, owner.token)
            return False
        p.relay.offer(number, result.outbox)
        await self._settle(p, number, owner.token, result)
        now = self.clock()
        observe(result.applied, owner, self.topology, self.metrics, now)
        report_outcomes(result.applied, number)
        if self.tracing.enabled:
            emit_spans(result.applied, number, self.topology, self.tracing)
        self._report_replies(result, now)
        return True

    async def _settle(self, p: Parts, number: int, token: str, result: BatchResult) -> None:
        """Dead-letter what cannot be applied; count the rest."""
        letters = [self._letter(o.routed.record, LookupError(o.reason))
                   for o in result.orphans if o.routed.record is not None]  # fmt: skip
        for o in result.orphans:
            log.warning("orphan input dead-lettered", reason=o.reason,
                        **saga_fields(o.routed, number))  # fmt: skip
        await self._dead_letter(letters, "orphan")
        await self._reject(p, number, token, result)
        if result.duplicates:
            self.metrics.inputs.labels("duplicate").inc(result.duplicates)
        if result.forwarded:
            self.metrics.inputs.labels("forwarded").inc(result.forwarded)
            log.info("inputs forwarded to their saga's partition", partition=number,
                     count=result.forwarded)  # fmt: skip

    async def _check_versions(self, redis: RedisClient, partitions: int) -> None:
        """Refuse to start while a live instance would be stranded; Redis faults wait."""
        backoff = 0.1
        while not self._stopping.is_set():
            try:
                report = await check_versions(
                    redis, self.config.group_id, partitions, self.topology.catalog
                )
                break
            except DirigentError as exc:
                if not exc.retryable:
                    raise
                self.degraded = f"checking saga versions: {exc}"
                log.warning("cannot check saga versions yet", error=str(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), backoff)
                backoff = min(backoff * 2, 5.0)
        else:
            return
        self.degraded = None
        for line in describe(report):
            log.info("live saga instances", plan=line)
        report.raise_if_stranded()

    def _report_replies(self, result: BatchResult, now: float) -> None:
        for a in result.applied:
            t = a.decision.transition
            if a.routed.record is None or t is None or t.step is None or a.before is None:
                continue
            step = self.topology.by_name[t.saga_type].step_named(t.step)
            if step is not None and step.participant:
                self.health.replied(step.participant, now)

    async def _reject(self, p: Parts, number: int, token: str, result: BatchResult) -> None:
        """Saga code failed: dead-letter records; retry timers after the breaker reset."""
        timers = [r.routed.message_id for r in result.rejected if r.routed.record is None]
        for r in result.rejected:
            log.error("saga code failed", error=repr(r.error),
                      **saga_fields(r.routed, number, step=_step_of(r.routed)))  # fmt: skip
        letters = [self._letter(r.routed.record, r.error)
                   for r in result.rejected if r.routed.record is not None]  # fmt: skip
        await self._dead_letter(letters, "saga_code")
        if timers:
            due = self.clock() + self.config.breaker_reset_s
            await p.store.postpone_timers(number, token, timers, due)

    def _letter(self, record: InboundRecord, error: Exception) -> FailedRecord:
        now_ms = int(self.clock() * 1000)
        failure = Failure.of(error, handler="coordinator", attempts=1,
                             first_ms=now_ms, last_ms=now_ms)  # fmt: skip
        return record, failure

    async def _dead_letter(self, letters: list[FailedRecord], cause: str) -> None:
        """Acknowledged by the broker before any offset is committed; counted after."""
        if not letters or self.parts is None:
            return
        sent = await send_dead_letters(self.parts.producer, letters, group=self.config.group_id)
        for (record, failure), receipt in zip(letters, sent, strict=False):
            self.metrics.dead_letters.labels(record.topic, cause).inc()
            log.warning("dead-lettered", topic=record.topic, partition=record.partition,
                        offset=record.offset, dlt_offset=receipt.offset, cause=cause,
                        error=failure.message[:300])  # fmt: skip

    async def _gauges(self, p: Parts) -> None:
        now = self.clock()
        if now - self._last_gauges < self.config.gauge_interval_s:
            return
        self._last_gauges = now
        await sample_gauges(p, self.health, self.metrics, now,
                            deadline_risk_s=self.config.deadline_risk_s)  # fmt: skip

    async def _caught_up(self, p: Parts) -> None:
        """Release the timers of new partitions once their backlog has been read."""
        waiting = p.ownership.catching_up
        if not waiting:
            return
        behind, now = await p.consumer.behind(), self.clock()
        for number in [n for n, until in waiting.items() if n not in behind or now > until]:
            del waiting[number]

    async def _fire_timers(self, p: Parts) -> None:
        now = self.clock()
        if now - self._last_timer_scan < self.config.timer_interval_s:
            return
        self._last_timer_scan = now
        await self._caught_up(p)
        for number in sorted(set(p.ownership.owned) - set(p.ownership.catching_up)):
            owner = p.ownership.owned.get(number)
            if owner is None:
                continue
            due = await p.timers.due(owner)
            if due:
                await self._process(p, number, due)  # hands what it wrote to the relay


def _step_of(routed: Routed) -> str | None:
    """The step a timer belongs to (a record's step is not known before its saga is read)."""
    return routed.input.timer.step if isinstance(routed.input, TimerFired) else None


def _seek_back(p: Parts, tp: TopicPartition, offset: int) -> None:
    """Read ``tp`` again from ``offset`` (a no-op if a rebalance took it away: its next
    owner reads it from the last commit)."""
    p.consumer.seek(tp, offset)
