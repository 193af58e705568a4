"""``dirigent watch``: transitions in, anomalies out (the imperative shell).

A plain consumer loop, not a Faust agent: one detector must see every transition of a
step, but the transitions topic is partitioned by saga id, so per-partition Faust tables
would split a step's figures across workers and need a repartition by (saga type, step)
plus a changelog topic. The state is small and rebuilt by reading back one history of
windows, so one watcher process (its own consumer group) reads all partitions.

Each batch: decode, feed the pure ``StepWatch``, close the windows that ended
``lateness_s`` before the newest transition (by the wall clock once caught up, so quiet
steps close too), publish the anomalies, then commit. An unreadable transition is
counted, logged with its position and skipped: the watcher reads an audit stream and
its output is advisory, so skipping one record loses no business data.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dirigent.errors import ContractError, DirigentError
from dirigent.events import Anomaly, AvroCodec, SagaTransition, read_transitions
from dirigent.observability import get_logger
from dirigent.transport import BatchConsumer, InboundRecord, LagProbe, Publication, Publisher
from dirigent.transport.security import Bootstrap
from dirigent.watch.core import StepWatch
from dirigent.watch.detector import DetectorSettings
from dirigent.watch.metrics import WatchMetrics
from dirigent.watch.scaling import ScalingSignal

__all__ = ["WatchOptions", "Watcher"]

log = get_logger("dirigent.watch")


@dataclass(frozen=True, slots=True)
class WatchOptions:
    """Where to read and write, and how the detector judges."""

    bootstrap: Bootstrap = "127.0.0.1:9092"
    transitions_topic: str = "dirigent.saga.transitions"
    anomalies_topic: str = "dirigent.anomalies"
    group_id: str = "dirigent-watch"
    window_s: float = 60.0
    lateness_s: float = 5.0
    detector: DetectorSettings = field(default_factory=DetectorSettings)
    lag_groups: tuple[str, ...] = ()  # consumer groups to forecast lag and arrivals for
    sample_s: float = 10.0
    horizon_samples: int = 6


class Watcher:
    """Run the watch loop until ``stop`` is set.

    Example::

        codec = SingleObjectCodec(SchemaCatalog(), models=[SagaTransition, Anomaly])
        watcher = Watcher(WatchOptions(), codec=codec)
        await watcher.run(stop_event)
    """

    def __init__(self, options: WatchOptions, *, codec: AvroCodec,
                 metrics: WatchMetrics | None = None,
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.options = options
        self.codec = codec
        self.metrics = metrics or WatchMetrics()
        self.watch = StepWatch(window_s=options.window_s, settings=options.detector)
        self.clock = clock
        self.skipped = 0
        self._latest = 0.0  # newest transition's time: the watermark while catching up
        self.idle_turns = 0  # turns that found nothing new (caught up), after publishing

    async def run(self, stop: asyncio.Event) -> None:
        """Consume, detect, publish, commit (and sample lags); returns once ``stop`` is set."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._detect(stop))
            if self.options.lag_groups:
                tasks.create_task(self._forecast(stop))

    async def _forecast(self, stop: asyncio.Event) -> None:
        o = self.options
        signal = ScalingSignal(self.metrics, sample_s=o.sample_s, horizon=o.horizon_samples)
        while not stop.is_set():
            try:
                async with LagProbe(o.bootstrap) as probe:
                    while not stop.is_set():
                        signal.observe(await probe.sample(o.lag_groups))
                        await _wait(stop, o.sample_s)
            except DirigentError as exc:  # the forecast pauses; detection carries on
                log.warning("watch.forecast_paused", error=str(exc), retry_in_s=o.sample_s)
                await _wait(stop, o.sample_s)

    async def _detect(self, stop: asyncio.Event) -> None:
        o = self.options
        consumer = BatchConsumer(o.bootstrap, [o.transitions_topic], group_id=o.group_id)
        async with consumer, Publisher(o.bootstrap, self.codec, source="dirigent-watch") as pub:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=500)
                found: list[Anomaly] = []
                for records in batch.values():
                    for r in records:
                        found.extend(self._feed(r))
                now = self._latest if batch else max(self._latest, self.clock())
                found.extend(self.watch.tick(now - o.lateness_s))
                await self._publish(pub, found)
                await consumer.commit({tp: rs[-1].offset + 1 for tp, rs in batch.items()})
                self.idle_turns += not batch

    def _feed(self, r: InboundRecord) -> list[Anomaly]:
        transitions = self._decode(r)
        self.metrics.transitions.inc(len(transitions))
        if transitions:
            self._latest = max(self._latest, transitions[-1].timestamp.timestamp())
        return [a for t in transitions for a in self.watch.feed(t)]

    def _decode(self, r: InboundRecord) -> list[SagaTransition]:
        if r.defect is None and r.value is not None:
            try:
                return read_transitions(self.codec, r.value)
            except ContractError as exc:
                defect = str(exc)
        else:
            defect = r.defect or "null value"
        self.skipped += 1
        log.warning("watch.unreadable_transition", topic=r.topic, partition=r.partition,
                    offset=r.offset, defect=defect)  # fmt: skip
        return []

    async def _publish(self, pub: Publisher, found: list[Anomaly]) -> None:
        if not found:
            return
        topic = self.options.anomalies_topic
        await pub.publish_many(
            [Publication(a, topic, key=f"{a.saga_type}/{a.step}") for a in found]
        )
        for a in found:
            self.metrics.anomaly(a)
            log.info("watch.anomaly", status=a.status, saga_type=a.saga_type,
                     step=a.step, metric=a.metric, value=a.value, score=a.score)  # fmt: skip


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
