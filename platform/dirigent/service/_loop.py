"""The consume loop: batches in, one task per partition per batch, commit what is durable."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field

import structlog

from dirigent.errors import StoreError, TransportError
from dirigent.service.processor import RecordProcessor
from dirigent.service.settings import ServiceSettings
from dirigent.transport.consumer import BatchConsumer, InboundRecord, TopicPartition

__all__ = ["ConsumeLoop"]

# dirigent.observability.get_logger(name) currently clashes with structlog's `logger` kwarg.
log = structlog.get_logger(__name__)
Batch = dict[TopicPartition, list[InboundRecord]]


@dataclass
class _BatchResult:
    done: dict[TopicPartition, int] = field(default_factory=dict)  # next offset to read
    failed: dict[TopicPartition, tuple[int, Exception]] = field(default_factory=dict)


class ConsumeLoop:
    """Polls, processes partitions concurrently (records in order), commits, repeats."""

    def __init__(
        self,
        consumer: BatchConsumer,
        processor: RecordProcessor,
        settings: ServiceSettings,
        stopping: asyncio.Event,
    ) -> None:
        self.consumer = consumer
        self.processor = processor
        self.settings = settings
        self.stopping = stopping
        self._infra_failures = 0

    async def run(self) -> None:
        """Until ``stopping`` is set; the batch in flight is finished and committed."""
        while not self.stopping.is_set():
            batch = await self.consumer.getmany()
            if batch:
                await self.run_batch(batch)

    async def run_batch(self, batch: Batch) -> None:
        result = _BatchResult()
        async with asyncio.TaskGroup() as tg:
            for tp, records in batch.items():
                tg.create_task(self._partition(tp, records, result))
        await self._commit(result.done)
        if result.failed:
            await self._rewind(result.failed)
        else:
            self._infra_failures = 0

    async def _partition(
        self, tp: TopicPartition, records: list[InboundRecord], result: _BatchResult
    ) -> None:
        for record in records:
            try:
                await self.processor.process(record)
            except (StoreError, TransportError) as exc:
                # Outcome not durable: stop this partition here, read it again later.
                result.failed[tp] = (record.offset, exc)
                return
            result.done[tp] = record.offset + 1

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self.consumer.commit(offsets)
        except TransportError as exc:
            # Safe: uncommitted records come back and are answered from the store.
            log.warning("commit failed; records will be redelivered", error=repr(exc))

    async def _rewind(self, failed: dict[TopicPartition, tuple[int, Exception]]) -> None:
        for tp, (offset, exc) in failed.items():
            self.consumer.seek(tp, offset)
            log.error(
                "outcome not durable; will retry",
                topic=tp.topic,
                partition=tp.partition,
                offset=offset,
                error=repr(exc),
            )
        self._infra_failures += 1
        s = self.settings
        ceiling = min(s.infra_backoff_max_s, s.infra_backoff_initial_s * 2**self._infra_failures)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), random.uniform(0, ceiling))
