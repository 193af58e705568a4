"""The consume loop never dies on transient faults and ends once, clearly, on permanent ones.

The consumer and processor here are stand-ins that script faults; the real broker and
Redis are exercised by tests/integration/service and tests/integration/poison.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

import dirigent
from dirigent.errors import ConfigurationError, StoreError, TransportError
from dirigent.service import HandlerRetry, RecordOutcome, Service, ServiceSettings
from dirigent.service._loop import Backoff, ConsumeLoop
from dirigent.transport import InboundRecord
from dirigent.transport.consumer import TopicPartition
from tests.integration.service.svc_support import ReserveStock, codec

TP = TopicPartition("t", 0)
FAST = ServiceSettings(infra_backoff_initial_s=0.001, infra_backoff_max_s=0.01)


def _record(offset: int) -> InboundRecord:
    return InboundRecord("t", 0, offset, 0, None, b"v", ())


class ScriptedConsumer:
    """Hands out scripted results of ``getmany``; records commits and seeks."""

    group_id = "g"

    def __init__(self, script: list[object], stopping: asyncio.Event) -> None:
        self.script, self.stopping = script, stopping
        self.commits: list[dict[TopicPartition, int]] = []
        self.seeks: list[tuple[TopicPartition, int]] = []
        self.commit_errors: list[TransportError] = []

    async def getmany(self) -> dict[TopicPartition, list[InboundRecord]]:
        if not self.script:
            self.stopping.set()
            return {}
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        assert isinstance(step, dict)
        return step

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        if self.commit_errors:
            raise self.commit_errors.pop(0)
        self.commits.append(dict(offsets))

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))


class ScriptedProcessor:
    def __init__(self, failures: list[BaseException] | None = None) -> None:
        self.failures = failures or []
        self.seen: list[int] = []
        self.probes = 0

    async def process(self, record: InboundRecord) -> RecordOutcome:
        if self.failures:
            raise self.failures.pop(0)
        self.seen.append(record.offset)
        return RecordOutcome.HANDLED

    async def store_answers(self) -> bool:
        self.probes += 1
        return True


def _loop(
    script: list[object], processor: ScriptedProcessor
) -> tuple[ConsumeLoop, ScriptedConsumer]:
    stopping = asyncio.Event()
    consumer = ScriptedConsumer(script, stopping)
    loop = ConsumeLoop(consumer, processor, FAST, stopping)  # type: ignore[arg-type]
    return loop, consumer


async def test_poll_failures_are_retried_and_the_loop_goes_on() -> None:
    processor = ScriptedProcessor()
    down = TransportError("broker down", retryable=True)
    loop, consumer = _loop([down, down, {TP: [_record(0), _record(1)]}], processor)
    await asyncio.wait_for(loop.run(), 5)
    assert processor.seen == [0, 1]
    assert consumer.commits == [{TP: 2}]
    assert loop.backoff.failures == 0  # reset by the batch that went through


async def test_a_permanent_poll_error_ends_the_loop_with_one_configuration_error() -> None:
    denied = TransportError("TopicAuthorizationFailedError", retryable=False)
    loop, _ = _loop([denied], ScriptedProcessor())
    with pytest.raises(ConfigurationError, match="failed permanently") as caught:
        await asyncio.wait_for(loop.run(), 5)
    assert caught.value.__cause__ is denied


async def test_a_failed_commit_does_not_end_the_loop() -> None:
    processor = ScriptedProcessor()
    loop, consumer = _loop([{TP: [_record(0)]}, {TP: [_record(1)]}], processor)
    consumer.commit_errors.append(TransportError("CommitFailedError", retryable=True))
    await asyncio.wait_for(loop.run(), 5)
    assert processor.seen == [0, 1]
    assert consumer.commits == [{TP: 2}]


async def test_a_store_outage_rewinds_to_the_record_and_probes_the_store() -> None:
    processor = ScriptedProcessor([StoreError("redis down")])
    batch = {TP: [_record(5), _record(6)]}
    loop, consumer = _loop([batch, {TP: [_record(5), _record(6)]}], processor)
    await asyncio.wait_for(loop.run(), 5)
    assert consumer.seeks == [(TP, 5)]
    assert processor.seen == [5, 6]
    assert processor.probes >= 1
    assert consumer.commits[-1] == {TP: 7}


async def test_a_permanent_processing_error_is_one_clear_error_not_a_group() -> None:
    refused = TransportError("DLT topic not writable", retryable=False)
    loop, _ = _loop([{TP: [_record(0)]}], ScriptedProcessor([refused]))
    with pytest.raises(ConfigurationError, match=r"processing t\[0\]"):
        await asyncio.wait_for(loop.run(), 5)


def test_backoff_is_capped_and_resets() -> None:
    backoff = Backoff(0.5, 4.0)
    delays = [backoff.next_delay_s() for _ in range(10)]
    assert max(delays) <= 4.0
    assert delays[0] <= 1.0
    backoff.reset()
    assert backoff.next_delay_s() <= 1.0


def _service(**kw: object) -> Service:
    from redis.asyncio import Redis

    return Service(
        "s", codec=codec(), topics=["t"], reply_topic="r", bootstrap="127.0.0.1:1",
        redis=Redis(), **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_saga_retry_policy_is_refused_where_a_handler_retry_belongs() -> None:
    with pytest.raises(ConfigurationError, match=r"HandlerRetry.*saga step"):
        _service(retry=dirigent.RetryPolicy())
    service = _service(retry=HandlerRetry(max_attempts=2))
    with pytest.raises(ConfigurationError, match="handles"):
        service.handles(ReserveStock, retry=dirigent.RetryPolicy())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="add_handler"):
        service.add_handler(ReserveStock, _noop, retry=3)  # type: ignore[arg-type]
    assert len(service.handlers) == 0


def test_the_service_names_do_not_clash_with_the_saga_and_store_names() -> None:
    import dirigent.service as service_pkg

    assert "RetryPolicy" not in service_pkg.__all__
    assert "Outcome" not in service_pkg.__all__
    assert HandlerRetry is not dirigent.RetryPolicy


async def _noop(event: ReserveStock, ctx: object) -> None:
    return None
