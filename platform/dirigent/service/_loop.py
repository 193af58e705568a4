"""The consume loop: batches in, one task per partition per batch, commit what is durable.

Faults degrade, never kill: a retryable error from ``getmany``, ``commit`` or a
record's processing is retried with capped, jittered backoff (the partition is rewound
to the first record whose outcome is not durable); the backoff resets as soon as a
batch goes through, and a wait caused by the store ends early once the store answers.
A permanent error (``retryable=False``: authentication, authorization, configuration)
ends ``run`` with ``ConfigurationError`` naming what failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field

from dirigent.errors import ConfigurationError, DirigentError, StoreError, TransportError
from dirigent.observability import get_logger
from dirigent.service.processor import RecordProcessor
from dirigent.service.settings import ServiceSettings
from dirigent.transport.consumer import BatchConsumer, InboundRecord, TopicPartition

__all__ = ["Backoff", "ConsumeLoop", "permanent"]

log = get_logger(__name__)
Batch = dict[TopicPartition, list[InboundRecord]]
_PROBE_EVERY_S = 0.25


@dataclass
class _BatchResult:
    done: dict[TopicPartition, int] = field(default_factory=dict)  # next offset to read
    failed: dict[TopicPartition, tuple[int, DirigentError]] = field(default_factory=dict)


class Backoff:
    """Capped exponential backoff with full jitter; ``reset`` after a success."""

    def __init__(self, initial_s: float, max_s: float) -> None:
        self.initial_s, self.max_s = initial_s, max_s
        self.failures = 0

    def next_delay_s(self) -> float:
        self.failures += 1
        ceiling = min(self.max_s, self.initial_s * 2 ** min(self.failures, 32))
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0


def _first_permanent(group: ExceptionGroup) -> BaseException:
    """One clear error instead of a group (the permanent one if there is one)."""
    for exc in group.exceptions:
        if isinstance(exc, ConfigurationError):
            return exc
    return group


def permanent(exc: DirigentError, what: str) -> ConfigurationError:
    """The one error that ends a service: what failed, why, and what to check."""
    return ConfigurationError(
        f"{what} failed permanently: {exc} (check the Kafka/Redis settings: bootstrap "
        "servers, credentials, ACLs, topic names and sizes)"
    )


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
        self.backoff = Backoff(settings.infra_backoff_initial_s, settings.infra_backoff_max_s)

    async def run(self) -> None:
        """Until ``stopping`` is set; the batch in flight is finished and committed."""
        while not self.stopping.is_set():
            try:
                batch = await self.consumer.getmany()
            except TransportError as exc:
                await self._fault(exc, "polling")
                continue
            if batch:
                await self.run_batch(batch)

    async def run_batch(self, batch: Batch) -> None:
        """Process one batch, commit what is durable, rewind the rest."""
        result = _BatchResult()
        try:
            async with asyncio.TaskGroup() as tg:
                for tp, records in batch.items():
                    tg.create_task(self._partition(tp, records, result))
        except ExceptionGroup as group:
            first = _first_permanent(group)
            if first is group:
                raise
            raise first from first.__cause__  # one clear message, its cause kept
        committed = await self._commit(result.done)
        if result.failed:
            await self._rewind(result.failed)
        elif committed:
            self.backoff.reset()

    async def _partition(
        self, tp: TopicPartition, records: list[InboundRecord], result: _BatchResult
    ) -> None:
        for record in records:
            try:
                await self.processor.process(record)
            except (StoreError, TransportError) as exc:
                if not exc.retryable:
                    raise permanent(exc, f"processing {tp.topic}[{tp.partition}]") from exc
                # Outcome not durable: stop this partition here, read it again later.
                result.failed[tp] = (record.offset, exc)
                return
            result.done[tp] = record.offset + 1

    async def _commit(self, offsets: dict[TopicPartition, int]) -> bool:
        try:
            await self.consumer.commit(offsets)
        except TransportError as exc:
            if not exc.retryable:
                raise permanent(exc, f"committing for group {self.consumer.group_id}") from exc
            # Safe: uncommitted records come back and are answered from the store.
            log.warning("commit failed; records will be redelivered", error=repr(exc))
            return False
        return True

    async def _rewind(self, failed: dict[TopicPartition, tuple[int, DirigentError]]) -> None:
        for tp, (offset, exc) in failed.items():
            self.consumer.seek(tp, offset)
            log.error(
                "outcome not durable; will retry",
                topic=tp.topic,
                partition=tp.partition,
                offset=offset,
                error=repr(exc),
            )
        store_down = any(isinstance(exc, StoreError) for _, exc in failed.values())
        await self._wait(self.backoff.next_delay_s(), until_store_answers=store_down)

    async def _fault(self, exc: TransportError, what: str) -> None:
        if not exc.retryable:
            raise permanent(exc, f"{what} for group {self.consumer.group_id}") from exc
        delay = self.backoff.next_delay_s()
        log.warning(f"{what} failed; retrying", delay_s=round(delay, 2), error=repr(exc))
        await self._wait(delay)

    async def _wait(self, delay_s: float, *, until_store_answers: bool = False) -> None:
        """Sleep ``delay_s`` (or until stopping); wake early once the store answers."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay_s
        while not self.stopping.is_set() and (left := deadline - loop.time()) > 0:
            with contextlib.suppress(TimeoutError):
                step = min(left, _PROBE_EVERY_S) if until_store_answers else left
                await asyncio.wait_for(self.stopping.wait(), step)
            if until_store_answers and await self._store_answers():
                self.backoff.reset()
                return

    async def _store_answers(self) -> bool:
        try:
            return await asyncio.wait_for(self.processor.store_answers(), _PROBE_EVERY_S * 4)
        except TimeoutError:
            return False
