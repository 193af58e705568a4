"""dirigent against a Kafka broker whose client listener speaks only SASL_SSL.

The module starts its own KRaft node (``tests.support.sasl_kafka``): certificates made
by ``openssl``, SCRAM users written by Kafka's ``StorageTool format --add-scram``, PLAIN
users from the listener's JAAS list. A coordinator and a real ``Service`` complete
sagas through it (Redis stays the shared plain one); a wrong password, a CA that signed
nothing and a plaintext client each fail fast with a ``ConfigurationError`` naming the
setting to fix, and no password appears in any error or log line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import faust
import pytest
from pydantic import SecretStr

from dirigent.config import Settings
from dirigent.coordinator import Coordinator
from dirigent.errors import ConfigurationError
from dirigent.events import Envelope, SagaTransition, SchemaCatalog, SingleObjectCodec
from dirigent.faust import FaustBridge, faust_broker
from dirigent.service import HandlerContext, Service
from dirigent.store import redis_client
from dirigent.transport import (
    KafkaEndpoint,
    OutgoingRecord,
    Publisher,
    RawProducer,
    TopicSpec,
    ensure_topics,
    missing_topics,
)
from sagas.contracts import shop as c
from sagas.contracts.shop import (
    OrderPlaced,
    ReleaseStock,
    ReserveStock,
    StockReleased,
    StockReserved,
)
from tests.integration.coordinator.test_coordinator_e2e import (
    DECLINED_AMOUNT,
    PARTITIONS,
    Shop,
    config,
    order,
    reply_to,
    shop_saga,
    wait_terminal,
)
from tests.integration.service import svc_support as svc
from tests.integration.test_faust_bridge import faust_worker
from tests.support.responder import Responder
from tests.support.sasl_kafka import SaslKafka
from tests.support.tls_redis import make_certificates

USER = "dirigent-svc"
PASSWORD = "kafka-pw-4e8b1c"  # a throwaway broker's
WRONG = "wrong-kafka-pw-93ad"
FAIL_FAST_S = 20  # far below aiokafka's 40 s request timeout, let alone "for ever"


# Only Redis comes from the shared stack: this module never needs its Kafka.
REDIS_URL = os.environ.get("DIRIGENT_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
async def broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SaslKafka]:
    home = tmp_path_factory.mktemp("sasl-kafka")
    node = SaslKafka.create(home / "kafka", make_certificates(home / "certs"), {USER: PASSWORD})
    await node.up()
    try:
        yield node
    finally:
        await node.down()


@pytest.fixture
def shop(uid: str) -> Shop:
    prefix = f"sasl{uid}"
    codec = SingleObjectCodec(SchemaCatalog(), models=[
        c.OrderPlaced, c.ReserveStock, c.StockReserved, c.ReleaseStock, c.StockReleased,
        c.AuthorizePayment, c.PaymentAuthorized, c.PaymentDeclined, c.ApproveOrder,
        c.OrderApproved, SagaTransition,
    ])  # fmt: skip
    return Shop(prefix, shop_saga(prefix, timeout_s=1.0), codec, Settings(redis_url=REDIS_URL))


def settings(broker: SaslKafka, **overrides: Any) -> Settings:
    """What a deployment sets in its environment (DIRIGENT_KAFKA_*), as keywords."""
    assert broker.certs is not None
    values: dict[str, Any] = {
        "kafka_bootstrap": broker.bootstrap,
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-256",
        "kafka_sasl_username": USER,
        "kafka_sasl_password": SecretStr(PASSWORD),
        "kafka_tls_ca_file": broker.certs.ca,
        "redis_url": REDIS_URL,
        **overrides,
    }
    return Settings(**values)


def endpoint(broker: SaslKafka, **overrides: Any) -> KafkaEndpoint:
    return settings(broker, **overrides).kafka()


async def test_sagas_complete_through_a_coordinator_and_a_service_over_scram_and_tls(
    broker: SaslKafka, shop: Shop, uid: str
) -> None:
    s = settings(broker, kafka_sasl_mechanism="SCRAM-SHA-512")
    kafka = s.kafka()
    topics = [f"{shop.prefix}-{d}.{k}" for d in ("inventory", "payments", "orders")
              for k in ("commands", "events")]  # fmt: skip
    await ensure_topics(kafka, [TopicSpec(t, PARTITIONS) for t in topics])
    await ensure_topics(kafka, [TopicSpec(f"{shop.prefix}.transitions", PARTITIONS)])
    redis = redis_client(REDIS_URL)
    inventory = Service(
        "inventory", codec=shop.codec, topics=[f"{shop.prefix}-inventory.commands"],
        reply_topic=f"{shop.prefix}-inventory.events", bootstrap=kafka, redis=redis,
        group_id=f"inventory-{uid}",
    )  # fmt: skip
    handled: list[str] = []

    @inventory.handles(ReserveStock)
    async def reserve(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved:
        handled.append(cmd.order_id)
        return StockReserved(order_id=cmd.order_id, reservation_id=f"r-{cmd.order_id}")

    @inventory.handles(ReleaseStock)
    async def release(cmd: ReleaseStock, ctx: HandlerContext) -> StockReleased:
        return StockReleased(order_id=cmd.order_id)

    orders = [order(i, DECLINED_AMOUNT if i % 4 == 0 else 100) for i in range(12)]
    coordinator = Coordinator([shop.saga], settings=s, config=config(shop, uid))
    others = sorted(t for t in shop.saga.command_topics if "inventory" not in t)
    try:
        async with Responder(kafka, others, shop.codec, reply_to, group=f"resp-{uid}"):
            service = asyncio.create_task(inventory.run())
            task = asyncio.create_task(coordinator.run())
            await place(kafka, shop, orders)
            counts = await wait_terminal(coordinator, len(orders))
            coordinator.stop()
            inventory.stop()
            await asyncio.gather(task, service)
    finally:
        await redis.aclose()
    assert (counts["COMPLETED"], counts["COMPENSATED"]) == (9, 3)
    assert sorted(set(handled)) == sorted(o.order_id for o in orders)


async def place(kafka: KafkaEndpoint, shop: Shop, orders: list[OrderPlaced]) -> None:
    records = []
    for o in orders:
        env = Envelope.new(type=o.event_type, source="test", saga_id=o.order_id,
                           schema_ref=shop.codec.schema_ref(OrderPlaced))  # fmt: skip
        records.append(OutgoingRecord(f"{shop.prefix}-orders.events", shop.codec.encode(o),
                                      env.record_key, tuple(env.to_headers())))  # fmt: skip
    async with RawProducer(kafka) as producer:
        await producer.send_batch(records)


async def test_a_faust_agent_serves_a_service_over_scram_and_tls(
    broker: SaslKafka, uid: str
) -> None:
    kafka = endpoint(broker, kafka_sasl_mechanism="PLAIN")  # as a Confluent Cloud API key
    topic, replies = f"faust-{uid}.cmd", f"faust-{uid}.replies"
    await ensure_topics(kafka, [TopicSpec(topic), TopicSpec(replies)])
    redis = redis_client(REDIS_URL)
    service = svc.make_service(kafka, redis, uid, topic, replies)

    @service.handles(svc.ReserveStock)
    async def handle(cmd: svc.ReserveStock, ctx: HandlerContext) -> svc.StockReserved:
        return svc.StockReserved(order_id=cmd.order_id, reservation_id="r1")

    app = faust.App(
        f"faust-{uid}", **faust_broker(kafka), store="memory://", web_enabled=False,
        topic_allow_declare=True, topic_replication_factor=1, topic_partitions=1,
    )  # fmt: skip
    bridge = FaustBridge(service)
    bridge.attach(app)
    await bridge.start()
    try:
        async with faust_worker(app), Publisher(kafka, svc.codec(), source="orders") as pub:
            await pub.publish(svc.reserve("f1"), topic=topic)
            [reply] = await svc.read_topic(kafka, replies, 1, timeout_s=60)
    finally:
        await bridge.close()
        await redis.aclose()
    assert svc.codec().decode(reply.value or b"") == svc.StockReserved(
        order_id="f1", reservation_id="r1"
    )


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"])
async def test_each_mechanism_logs_in(broker: SaslKafka, mechanism: str, uid: str) -> None:
    kafka = endpoint(broker, kafka_sasl_mechanism=mechanism)
    assert await missing_topics(kafka, [f"absent-{uid}"]) == [f"absent-{uid}"]


async def _refusal(kafka: KafkaEndpoint | str) -> tuple[ConfigurationError, float]:
    began = time.monotonic()
    with pytest.raises(ConfigurationError) as caught:
        async with asyncio.timeout(60):  # a hang fails the test, not the suite
            await missing_topics(kafka, ["anything"])
    return caught.value, time.monotonic() - began


def _told(err: BaseException) -> str:
    """The error, its causes and their reprs: all a user or a log may ever see."""
    parts: list[str] = []
    seen: BaseException | None = err
    while seen is not None:
        parts += [str(seen), repr(seen)]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


async def test_a_wrong_password_fails_fast_and_names_the_settings(
    broker: SaslKafka, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    err, took = await _refusal(endpoint(broker, kafka_sasl_password=SecretStr(WRONG)))
    assert took < FAIL_FAST_S
    assert not err.retryable
    assert "refused the login" in str(err)
    assert "DIRIGENT_KAFKA_SASL_USERNAME" in str(err)
    assert "DIRIGENT_KAFKA_SASL_PASSWORD" in str(err)
    assert WRONG not in _told(err) + caplog.text
    assert PASSWORD not in _told(err) + caplog.text


async def test_a_broker_certificate_from_an_untrusted_ca_fails_fast(
    broker: SaslKafka, caplog: pytest.LogCaptureFixture
) -> None:
    assert broker.certs is not None
    caplog.set_level(logging.DEBUG)
    err, took = await _refusal(endpoint(broker, kafka_tls_ca_file=broker.certs.other_ca))
    assert took < FAIL_FAST_S
    assert not err.retryable
    assert "CERTIFICATE_VERIFY_FAILED" in str(err)
    assert "DIRIGENT_KAFKA_TLS_CA_FILE" in str(err)
    assert PASSWORD not in _told(err) + caplog.text


@pytest.mark.parametrize("plain", ["a bootstrap string", "PLAINTEXT settings"])
async def test_a_plaintext_client_at_the_sasl_ssl_port_fails_fast(
    broker: SaslKafka, plain: str
) -> None:
    kafka: KafkaEndpoint | str = broker.bootstrap
    if plain == "PLAINTEXT settings":
        kafka = Settings(kafka_bootstrap=broker.bootstrap).kafka()
    err, took = await _refusal(kafka)
    assert took < FAIL_FAST_S
    assert not err.retryable
    assert "speaks TLS" in str(err)
    assert "DIRIGENT_KAFKA_SECURITY_PROTOCOL" in str(err)


NO_SASL = {"kafka_sasl_mechanism": None, "kafka_sasl_username": None, "kafka_sasl_password": None}


@pytest.mark.parametrize(
    ("case", "says"),
    [
        ("SSL without SASL at the SASL_SSL port", "wants a SASL login"),
        ("SASL_SSL at the plaintext port", "does not speak TLS"),
        ("SASL_PLAINTEXT at the plaintext port", "does not take a SASL login"),
    ],
)
async def test_a_protocol_that_does_not_match_the_listener_fails_fast(
    broker: SaslKafka, case: str, says: str
) -> None:
    internal = broker.internal_bootstrap  # the node's plaintext listener, no SASL
    kafka = {
        "SSL without SASL at the SASL_SSL port": lambda: endpoint(
            broker, kafka_security_protocol="SSL", **NO_SASL
        ),
        "SASL_SSL at the plaintext port": lambda: endpoint(broker, kafka_bootstrap=internal),
        "SASL_PLAINTEXT at the plaintext port": lambda: endpoint(
            broker,
            kafka_bootstrap=internal,
            kafka_security_protocol="SASL_PLAINTEXT",
            kafka_tls_ca_file=None,
        ),
    }[case]()
    err, took = await _refusal(kafka)
    assert took < FAIL_FAST_S
    assert says in str(err)
    assert "DIRIGENT_KAFKA_SECURITY_PROTOCOL" in str(err)


async def test_a_coordinator_with_a_wrong_password_stops_fast_and_logs_no_secret(
    broker: SaslKafka, shop: Shop, uid: str,
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    s = settings(broker, kafka_sasl_password=SecretStr(WRONG))
    coordinator = Coordinator([shop.saga], settings=s, config=config(shop, uid))
    began = time.monotonic()
    with pytest.raises(ConfigurationError) as caught:
        async with asyncio.timeout(60):
            await coordinator.run()
    assert time.monotonic() - began < FAIL_FAST_S
    assert "DIRIGENT_KAFKA_SASL_PASSWORD" in str(caught.value)
    out, errs = capfd.readouterr()
    seen = "\n".join([_told(caught.value), caplog.text, out, errs, repr(s), repr(s.kafka())])
    assert "Unable connect" in caplog.text  # aiokafka's own log of the refusal was captured
    assert WRONG not in seen
    assert PASSWORD not in seen


async def test_a_service_with_a_wrong_password_stops_fast_naming_the_setting(
    broker: SaslKafka, shop: Shop, uid: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    redis = redis_client(REDIS_URL)
    service = Service(
        "inventory", codec=shop.codec, topics=[f"{shop.prefix}-inventory.commands"],
        reply_topic=f"{shop.prefix}-inventory.events", redis=redis, group_id=f"inv-{uid}",
        bootstrap=endpoint(broker, kafka_sasl_password=SecretStr(WRONG)),
    )  # fmt: skip
    service.add_handler(ReleaseStock, _never)
    began = time.monotonic()
    try:
        with pytest.raises(ConfigurationError) as caught:
            async with asyncio.timeout(60):
                await service.run()
    finally:
        await redis.aclose()
    assert time.monotonic() - began < FAIL_FAST_S
    assert "DIRIGENT_KAFKA_SASL_PASSWORD" in str(caught.value)
    assert WRONG not in _told(caught.value) + caplog.text


async def _never(cmd: ReleaseStock, ctx: HandlerContext) -> StockReleased:
    raise AssertionError("a service that cannot log in handles nothing")


def test_the_password_is_hidden_in_settings_and_endpoints(tmp_path: Path) -> None:
    s = Settings(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism="SCRAM-SHA-256",
                 kafka_sasl_username=USER, kafka_sasl_password=SecretStr(PASSWORD))  # fmt: skip
    assert PASSWORD not in repr(s) + str(s) + repr(s.kafka()) + str(s.kafka())
