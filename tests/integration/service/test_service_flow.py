"""Service runtime against the real broker and Redis: replies, duplicates, retries, DLT."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from dirigent.errors import NonRetryableError, RetryableError
from dirigent.events.envelope import Envelope
from dirigent.service import HandlerContext
from dirigent.transport import Publisher
from tests.integration.service.svc_support import (
    ReserveStock,
    ReserveStockV2,
    StockReserved,
    codec,
    make_service,
    read_topic,
    reserve,
    running,
    wait_for,
)
from tests.support.infra import Infra

DLT_DIAGNOSTICS = {
    "topic", "partition", "offset", "timestamp", "group", "handler", "error-class",
    "error-message", "stacktrace", "fingerprint", "attempts", "first-failure", "last-failure",
}  # fmt: skip


def _reply(cmd: ReserveStock) -> StockReserved:
    return StockReserved(order_id=cmd.order_id, reservation_id=f"r-{cmd.order_id}")


async def test_reply_carries_causation_and_a_duplicate_is_answered_from_the_store(
    infra: Infra, redis: Redis, uid: str, make_topic
) -> None:
    topic = await make_topic("inv.cmd")
    replies_topic = await make_topic(f"{topic}.replies")
    service = make_service(infra.kafka_bootstrap, redis, uid, topic, replies_topic)
    calls: list[str] = []

    @service.handles(ReserveStock)
    async def handle(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved:
        calls.append(ctx.idempotency_key)
        return _reply(cmd)

    async with Publisher(infra.kafka_bootstrap, codec(), source="orders") as pub:
        env = pub.envelope_for(reserve("o1"), saga_id=f"saga-{uid}")
        async with running(service):
            await pub.publish(reserve("o1"), topic=topic, envelope=env)
            await pub.publish(reserve("o1"), topic=topic, envelope=env)  # redelivery
            replies = await read_topic(infra.kafka_bootstrap, replies_topic, 2)
            await wait_for(lambda: service.metrics.value("duplicates", _name(handle)) == 1)

    assert calls == [env.message_id]
    first, second = replies
    assert (first.key, first.value, first.headers) == (second.key, second.value, second.headers)
    reply_env = Envelope.from_headers(first.headers)
    assert reply_env.causation_id == env.message_id
    assert reply_env.saga_id == env.saga_id == first.key.decode()  # type: ignore[union-attr]
    assert reply_env.correlation_id == env.correlation_id
    assert codec().decode(first.value or b"") == _reply(reserve("o1"))


async def test_poison_bytes_land_in_the_dlt_intact_and_the_next_message_is_handled(
    infra: Infra, redis: Redis, uid: str, make_topic
) -> None:
    topic = await make_topic("inv.cmd")
    replies_topic = await make_topic(f"{topic}.replies")
    service = make_service(infra.kafka_bootstrap, redis, uid, topic, replies_topic)
    service.add_handler(ReserveStock, _handle_ok)
    good_env = Envelope.new(type=ReserveStock.event_type, source="t", schema_ref=_ref())
    headers = [("dirigent-id", b"\xff\xfe not utf-8"), ("x-custom", b"\x00\x01")]
    raw = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap)
    await raw.start()
    try:
        await raw.send_and_wait(topic, b"\x00garbage\xff", key=b"k-poison", headers=headers)
        await raw.send_and_wait(topic, b"not avro", key=b"k-2", headers=good_env.to_headers())
        await raw.send_and_wait(
            topic, codec().encode(reserve("o2")), key=b"k-3", headers=good_env.to_headers()
        )
    finally:
        await raw.stop()
    async with running(service):
        dead = await read_topic(infra.kafka_bootstrap, f"{topic}.dlt", 2)
        replies = await read_topic(infra.kafka_bootstrap, replies_topic, 1)

    assert [(d.key, d.value) for d in dead] == [
        (b"k-poison", b"\x00garbage\xff"),
        (b"k-2", b"not avro"),
    ]
    assert list(dead[0].headers[:2]) == headers  # original headers first, byte for byte
    diag = _diagnostics(dead[0])
    assert diag["error-class"] == b"dirigent.errors.EnvelopeError"
    assert diag["offset"] == b"0"
    assert diag["attempts"] == b"1"
    assert _diagnostics(dead[1])["error-class"] == b"dirigent.errors.DecodeError"
    assert Envelope.from_headers(replies[0].headers).causation_id == good_env.message_id


async def test_retryable_failures_are_retried_until_success(
    infra: Infra, redis: Redis, uid: str, make_topic
) -> None:
    topic = await make_topic("inv.cmd")
    replies_topic = await make_topic(f"{topic}.replies")
    service = make_service(infra.kafka_bootstrap, redis, uid, topic, replies_topic)
    attempts: list[int] = []

    @service.handles(ReserveStock)
    async def flaky(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved:
        attempts.append(ctx.attempt)
        if ctx.attempt < 3:
            raise RetryableError("warehouse busy")
        return _reply(cmd)

    async with Publisher(infra.kafka_bootstrap, codec(), source="orders") as pub, running(service):
        await pub.publish(reserve("o3"), topic=topic, saga_id=uid)
        await read_topic(infra.kafka_bootstrap, replies_topic, 1)

    assert attempts == [1, 2, 3]
    assert service.metrics.value("retries", _name(flaky)) == 2
    assert service.metrics.value("handled", _name(flaky)) == 1


async def test_exhausted_retries_dead_letter_with_every_diagnostic_header(
    infra: Infra, redis: Redis, uid: str, make_topic
) -> None:
    topic = await make_topic("inv.cmd")
    replies_topic = await make_topic(f"{topic}.replies")
    service = make_service(infra.kafka_bootstrap, redis, uid, topic, replies_topic)

    @service.handles(ReserveStock)
    async def broken(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved:
        if cmd.order_id == "bad":
            raise RetryableError(f"still failing (attempt {ctx.attempt})")
        if cmd.order_id == "fatal":
            raise NonRetryableError("no such warehouse")
        return _reply(cmd)

    async with Publisher(infra.kafka_bootstrap, codec(), source="orders") as pub, running(service):
        sent = await pub.publish(reserve("bad"), topic=topic, key=b"kk")
        await pub.publish(reserve("fatal"), topic=topic)
        await pub.publish(reserve("fine"), topic=topic)
        dead = await read_topic(infra.kafka_bootstrap, f"{topic}.dlt", 2)
        await read_topic(infra.kafka_bootstrap, replies_topic, 1)

    exhausted, fatal = (_diagnostics(d) for d in dead)
    assert set(exhausted) == DLT_DIAGNOSTICS
    assert dead[0].key == b"kk"
    assert Envelope.from_headers(dead[0].headers) == sent
    assert exhausted["attempts"] == b"3"
    assert fatal["attempts"] == b"1"
    assert exhausted["error-class"] == b"dirigent.errors.RetryableError"
    assert exhausted["error-message"] == b"still failing (attempt 3)"
    assert b"broken" in exhausted["stacktrace"]
    assert exhausted["handler"] == _name(broken).encode()
    assert exhausted["group"] == service.group_id.encode()
    assert exhausted["topic"] == topic.encode()
    assert int(exhausted["first-failure"]) <= int(exhausted["last-failure"])
    assert len(exhausted["fingerprint"]) == 16
    assert exhausted["fingerprint"] != fatal["fingerprint"]
    assert service.metrics.value("dead_lettered", _name(broken)) == 2


class Crash(BaseException):
    """Stands in for a process dying mid-batch (not an Exception: nothing catches it)."""


async def test_a_crash_before_the_reply_is_durable_leaves_the_offset_uncommitted(
    infra: Infra, redis: Redis, uid: str, make_topic
) -> None:
    topic = await make_topic("inv.cmd")
    replies_topic = await make_topic(f"{topic}.replies")
    calls: list[str] = []

    async def crashing(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved:
        calls.append(cmd.order_id)
        if cmd.order_id == "o2" and calls.count("o2") == 1:
            raise Crash
        return _reply(cmd)

    async with Publisher(infra.kafka_bootstrap, codec(), source="orders") as pub:
        await pub.publish_many([])  # an empty batch is fine
        for order in ("o1", "o2", "o3"):
            await pub.publish(reserve(order), topic=topic, saga_id=f"{uid}-{order}")
    first = make_service(infra.kafka_bootstrap, redis, uid, topic, replies_topic)
    first.add_handler(ReserveStock, crashing)
    try:
        await asyncio.wait_for(first.run(), 60)
    except* Crash:
        pass
    second = make_service(infra.kafka_bootstrap, redis, uid, topic, replies_topic)
    second.add_handler(ReserveStock, crashing)
    async with running(second):
        replies = await read_topic(infra.kafka_bootstrap, replies_topic, 3, settle_s=1.0)

    assert calls.count("o2") == 2  # ran again after the crash: its offset was not committed
    assert calls.count("o1") == 1
    assert calls.count("o3") == 1
    orders = sorted(codec().decode(r.value or b"").order_id for r in replies)  # type: ignore[attr-defined]
    assert set(orders) == {"o1", "o2", "o3"}


async def test_a_v1_handler_reads_a_v2_event(
    infra: Infra, redis: Redis, uid: str, make_topic
) -> None:
    topic = await make_topic("inv.cmd")
    replies_topic = await make_topic(f"{topic}.replies")
    service = make_service(infra.kafka_bootstrap, redis, uid, topic, replies_topic)
    seen: list[ReserveStock] = []

    @service.handles(ReserveStock)
    async def v1(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved:
        seen.append(cmd)
        return _reply(cmd)

    v2 = ReserveStockV2(order_id="o9", items=[], priority=7)
    async with Publisher(infra.kafka_bootstrap, codec(), source="orders") as pub, running(service):
        await pub.publish(v2, topic=topic)
        await read_topic(infra.kafka_bootstrap, replies_topic, 1)

    assert seen == [ReserveStock(order_id="o9", items=[])]


async def _handle_ok(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved:
    return _reply(cmd)


def _name(func: object) -> str:
    return f"{func.__module__}.{func.__qualname__}"  # type: ignore[attr-defined]


def _ref() -> str:
    return codec().schema_ref(ReserveStock)


def _diagnostics(record) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    prefix = "dirigent-dlt-"
    return {k[len(prefix) :]: v for k, v in record.headers if k.startswith(prefix)}
