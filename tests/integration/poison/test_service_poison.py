"""Poison from an outside producer against a real ``Service``: no crash, no stall.

Each case writes one poison record (with kcat or raw aiokafka, as a foreign client
would), then one good command. The service must stay up, put the poison in
``<topic>.dlt`` (whole, or reduced with the original's size and SHA-256), and handle
the good command after it.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from dirigent.service import HandlerContext
from dirigent.transport import (
    ConsumerSettings,
    OutgoingRecord,
    ProducerSettings,
    Publisher,
    RawProducer,
    delete_topics,
    dlt_topic,
)
from tests.integration.service.svc_support import (
    ReserveStock,
    StockReserved,
    codec,
    make_service,
    read_topic,
    reserve,
    running,
    wait_for,
)
from tests.support.infra import Infra

pytestmark = pytest.mark.integration
NEAR_LIMIT = 1_047_500  # fits the broker's 1 MiB; with diagnostic headers it would not


async def _kcat(bootstrap: str, topic: str, *args: bytes | str, value: bytes) -> None:
    proc = await asyncio.create_subprocess_exec(
        "kcat", "-P", "-b", bootstrap, "-t", topic, *args,
        stdin=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(value + b"\n"), 30)
    assert proc.returncode == 0, err


async def _envelope_headers(bootstrap: str) -> list[tuple[str, bytes]]:
    pub = Publisher(bootstrap, codec(), source="outside")
    return pub.envelope_for(reserve("poison")).to_headers()


async def bad_header_name(bootstrap: str, topic: str) -> None:
    """kcat writes a header whose name is the bytes ff fe (not UTF-8)."""
    await _kcat(bootstrap, topic, "-H", b"\xff\xfe=x", "-k", "k", value=b"bad-name")


async def near_the_limit(bootstrap: str, topic: str) -> None:
    headers = tuple(await _envelope_headers(bootstrap))
    value = b"\xc3\x01" + b"\x07" * (NEAR_LIMIT - 2)  # single-object magic, garbage body
    async with RawProducer(bootstrap) as producer:
        await producer.send(OutgoingRecord(topic, value, b"k", headers))


async def gzip_bomb(bootstrap: str, topic: str) -> None:
    """One gzip batch of 5 x 900 KB zeros: a few KB on the wire, 4.5 MB inflated."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        compression_type="gzip",
        max_batch_size=8 << 20,
        max_request_size=8 << 20,
        linger_ms=500,
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, b"\0" * 900_000, key=b"k") for _ in range(5)]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def tombstone(bootstrap: str, topic: str) -> None:
    async with RawProducer(bootstrap) as producer:
        await producer.send(OutgoingRecord(topic, None, b"k"))


async def bad_envelope(bootstrap: str, topic: str) -> None:
    headers = ["-H", "dirigent-id=1", "-H", b"dirigent-type=\xff\xfe", "-H", "dirigent-time=yes"]
    await _kcat(bootstrap, topic, *headers, value=b"\x00\x01garbage")


@dataclass(frozen=True)
class Case:
    produce: Callable[[str, str], Awaitable[None]]
    reduced: bool  # the dead letter cannot carry the original whole
    defect: str | None = None  # expected in dirigent-dlt-defect
    error: str | None = None  # expected in dirigent-dlt-error-message


CASES = {
    "non-utf8-header-name": Case(bad_header_name, False, defect="not valid UTF-8"),
    "near-1MiB-record": Case(near_the_limit, True, error="fingerprint"),
    "gzip-batch": Case(gzip_bomb, False, defect="inflates beyond"),
    "tombstone": Case(tombstone, False, error="tombstone"),
    "bad-envelope": Case(bad_envelope, False, error="not UTF-8"),
}


@pytest.mark.parametrize("name", CASES)
async def test_poison_is_dead_lettered_and_the_next_good_record_is_handled(
    infra: Infra, redis: Redis, uid: str, make_topic, name: str
) -> None:
    case = CASES[name]
    bootstrap = infra.kafka_bootstrap
    topic = await make_topic("poison.cmd")
    replies_topic = await make_topic(f"{topic}.replies")
    consumer = ConsumerSettings(max_batch_decompressed_bytes=1 << 20)
    service = make_service(bootstrap, redis, uid, topic, replies_topic, consumer_settings=consumer)
    handled: list[str] = []

    @service.handles(ReserveStock)
    async def handle(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved:
        handled.append(cmd.order_id)
        return StockReserved(order_id=cmd.order_id, reservation_id="r")

    try:
        async with running(service) as task, Publisher(bootstrap, codec(), source="o") as pub:
            await case.produce(bootstrap, topic)
            await pub.publish(reserve("good"), topic=topic)
            await wait_for(lambda: handled == ["good"] or task.done(), 60, "the good record")
            assert not task.done(), "the service stopped"
            [letter] = await read_topic(bootstrap, dlt_topic(topic), 1, settle_s=0.5)
            await wait_for(lambda: _dead_lettered(service) == 1, 10, "the metric")
        assert handled == ["good"]
    finally:
        await delete_topics(bootstrap, [dlt_topic(topic)])

    diag = {k[len("dirigent-dlt-") :]: v for k, v in letter.headers if k.startswith("dirigent-")}
    assert diag["topic"] == topic.encode()
    assert ("reduced" in diag) is case.reduced
    if case.reduced:
        assert int(diag["original-size"]) == NEAR_LIMIT
        assert len(diag["original-sha256"]) == 64
        assert len(letter.value or b"") < 64 * 1024
    if case.defect:
        assert case.defect in diag["defect"].decode()
    if case.error:
        assert case.error in diag["error-message"].decode()


def _dead_lettered(service) -> float:
    """dirigent_service_dead_lettered_total over every handler label."""
    metric = service.metrics.dead_lettered
    return sum(s.value for m in metric.collect() for s in m.samples if s.name.endswith("_total"))


async def test_a_dead_letter_the_broker_refuses_is_sent_again_reduced(
    infra: Infra, make_topic
) -> None:
    """The DLT topic takes at most 200 KB; the full copy of a 500 KB record is refused."""
    from dirigent.transport import (
        Failure,
        InboundRecord,
        TopicSpec,
        ensure_topics,
        send_dead_letters,
    )

    bootstrap = infra.kafka_bootstrap
    topic = await make_topic("refused")
    spec = TopicSpec(dlt_topic(topic), configs={"max.message.bytes": "200000"})
    await ensure_topics(bootstrap, [spec])
    value = b"\x05" * 500_000
    record = InboundRecord(topic, 0, 41, 1, b"k", value, (("h", b"1"),))
    failure = Failure("x.Error", "bad", "stack", "0" * 16, "h", 1, 1, 1)
    settings = ProducerSettings(max_request_bytes=4 << 20)
    try:
        async with RawProducer(bootstrap, settings=settings) as producer:
            [sent] = await send_dead_letters(producer, [(record, failure)], group="g")
        [letter] = await read_topic(bootstrap, dlt_topic(topic), 1)
    finally:
        await delete_topics(bootstrap, [dlt_topic(topic)])
    diag = dict(letter.headers)
    assert sent.offset == letter.offset
    assert b"refused" in diag["dirigent-dlt-reduced"]
    assert diag["dirigent-dlt-original-sha256"] == hashlib.sha256(value).hexdigest().encode()
    assert diag["dirigent-dlt-offset"] == b"41"
    assert letter.value == value[:4096]


async def test_a_gzip_batch_under_the_cap_is_dead_lettered_record_by_record(
    infra: Infra, redis: Redis, uid: str, make_topic
) -> None:
    """4.5 MB inflated is under the default 32 MiB cap: five ordinary poison records."""
    bootstrap = infra.kafka_bootstrap
    topic = await make_topic("gzip.cmd")
    replies_topic = await make_topic(f"{topic}.replies")
    service = make_service(bootstrap, redis, uid, topic, replies_topic)
    handled: list[str] = []

    @service.handles(ReserveStock)
    async def handle(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved:
        handled.append(cmd.order_id)
        return StockReserved(order_id=cmd.order_id, reservation_id="r")

    try:
        async with running(service) as task, Publisher(bootstrap, codec(), source="o") as pub:
            await gzip_bomb(bootstrap, topic)
            await pub.publish(reserve("good"), topic=topic)
            await wait_for(lambda: handled == ["good"] or task.done(), 60, "the good record")
            assert not task.done(), "the service stopped"
            letters = await read_topic(bootstrap, dlt_topic(topic), 5, settle_s=0.5)
    finally:
        await delete_topics(bootstrap, [dlt_topic(topic)])
    assert [dict(r.headers)["dirigent-dlt-offset"] for r in letters] == [
        b"0",
        b"1",
        b"2",
        b"3",
        b"4",
    ]
    assert all(r.value == b"\0" * 900_000 for r in letters)  # whole: each copy fits
