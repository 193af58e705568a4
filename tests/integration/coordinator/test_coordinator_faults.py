"""Timeouts, failing saga code and the probe endpoints, against the real broker and Redis."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from aiohttp import ClientSession

from dirigent.coordinator import Coordinator, CoordinatorSettings
from dirigent.errors import SagaCodeError
from dirigent.events import Envelope
from dirigent.testing import SagaHarness
from dirigent.transport import (
    BatchConsumer,
    OutgoingRecord,
    RawProducer,
    TopicSpec,
    ensure_topics,
)
from sagas.contracts.shop import (
    AuthorizePayment,
    OrderPlaced,
    PaymentAuthorized,
    ReleaseStock,
    ReserveStock,
)
from tests.integration.coordinator.test_coordinator_e2e import (
    SILENT_AMOUNT,
    Shop,
    config,
    order,
    place,
    reply_to,
    shop,  # noqa: F401 - fixture
    wait_terminal,
)
from tests.support.infra import Infra
from tests.support.responder import Responder


async def test_a_silent_pivot_parks_the_saga_and_its_late_reply_resumes_it(
    shop: Shop,  # noqa: F811
    uid: str,
) -> None:
    orders = [order(1), order(2, SILENT_AMOUNT)]
    coordinator = Coordinator([shop.saga], settings=shop.settings, config=config(shop, uid))
    async with Responder(shop.settings.kafka_bootstrap, sorted(shop.saga.command_topics),
                         shop.codec, reply_to, group=f"resp-{uid}") as responder:  # fmt: skip
        task = asyncio.create_task(coordinator.run())
        await place(shop, orders)
        counts = await wait_terminal(coordinator, 2, timeout_s=30)
        assert (counts["COMPLETED"], counts["PARKED"]) == (1, 1)
        # The payment may have been authorised: nothing before the pivot is undone.
        assert not any(isinstance(c, ReleaseStock) for _, c in responder.ledger)
        [(command_id, _)] = [(m, c) for m, c in responder.ledger
                             if isinstance(c, AuthorizePayment) and c.order_id == "o2"]  # fmt: skip
        # ... and then the payment service answers, long after the timeout.
        late = PaymentAuthorized(order_id="o2", authorization_id="a-late")
        ref = shop.codec.schema_ref(type(late))
        env = Envelope.new(type=late.event_type, source="payments", saga_id="o2",
                           causation_id=command_id, schema_ref=ref)  # fmt: skip
        async with RawProducer(shop.settings.kafka_bootstrap) as producer:
            await producer.send(OutgoingRecord(f"{shop.prefix}-payments.events",
                                               shop.codec.encode(late), b"o2",
                                               tuple(env.to_headers())))  # fmt: skip
        counts = await wait_completed(coordinator, 2)
        coordinator.stop()
        await task
    assert counts["COMPLETED"] == 2
    assert ("ApproveOrder", "o2") in [(type(c).__name__, c.order_id) for _, c in responder.ledger]  # type: ignore[attr-defined]


async def wait_completed(coordinator: Coordinator, expected: int) -> Counter[str]:
    async with asyncio.timeout(30):
        while True:
            counts = await wait_terminal(coordinator, expected)
            if counts["COMPLETED"] >= expected:
                return counts
            await asyncio.sleep(0.1)


async def test_a_builder_returning_none_fails_as_in_the_harness_naming_the_step(
    shop: Shop,  # noqa: F811
    uid: str,
    infra: Infra,
) -> None:
    start = order(3, customer="none")
    with pytest.raises(SagaCodeError) as in_harness:
        SagaHarness(shop.saga).start(start)
    assert "step 'reserve': command builder returned NoneType" in str(in_harness.value)

    dlt = f"{shop.prefix}-orders.events.dlt"
    await ensure_topics(infra.kafka_bootstrap, [TopicSpec(dlt)])
    coordinator = Coordinator([shop.saga], settings=shop.settings, config=config(shop, uid))
    task = asyncio.create_task(coordinator.run())
    await place(shop, [start])
    async with BatchConsumer(infra.kafka_bootstrap, [dlt], group_id=f"dlt-{uid}") as consumer:
        async with asyncio.timeout(30):
            batch: dict = {}  # type: ignore[type-arg]
            while not batch:
                batch = await consumer.getmany(timeout_ms=500)
    coordinator.stop()
    await task
    [dead] = [r for rs in batch.values() for r in rs]
    headers = dict(dead.headers)
    assert headers["dirigent-dlt-error-class"] == b"dirigent.errors.SagaCodeError"
    assert headers["dirigent-dlt-error-message"].decode() == str(in_harness.value)


async def test_saga_code_that_raises_dead_letters_the_input_and_others_go_on(
    shop: Shop,  # noqa: F811
    uid: str,
    infra: Infra,
) -> None:
    dlt = f"{shop.prefix}-orders.events.dlt"
    await ensure_topics(infra.kafka_bootstrap, [TopicSpec(dlt)])
    coordinator = Coordinator([shop.saga], settings=shop.settings, config=config(shop, uid))
    async with Responder(shop.settings.kafka_bootstrap, sorted(shop.saga.command_topics),
                         shop.codec, reply_to, group=f"resp-{uid}") as responder:  # fmt: skip
        task = asyncio.create_task(coordinator.run())
        await place(shop, [order(1, customer="boom"), order(2)])
        counts = await wait_terminal(coordinator, 1)
        coordinator.stop()
        await task
    assert counts["COMPLETED"] == 1
    assert not any(isinstance(c, ReleaseStock) for _, c in responder.ledger)
    async with BatchConsumer(infra.kafka_bootstrap, [dlt], group_id=f"dlt-{uid}") as consumer:
        async with asyncio.timeout(20):
            batch: dict = {}  # type: ignore[type-arg]
            while not batch:
                batch = await consumer.getmany(timeout_ms=500)
    [dead] = [r for rs in batch.values() for r in rs]
    headers = dict(dead.headers)
    # The same error the test harness raises: it names the saga, the step and the function.
    assert headers["dirigent-dlt-error-class"] == b"dirigent.errors.SagaCodeError"
    message = headers["dirigent-dlt-error-message"]
    assert b"saga 'shop_order', step 'reserve': command builder raised ValueError" in message
    assert b"customer boom" in message
    assert dead.key == b"o1"


async def test_metrics_and_probes_are_served(shop: Shop, uid: str) -> None:  # noqa: F811
    cfg = CoordinatorSettings(group_id=f"coord-{uid}", metrics_port=19464,
                              transitions_topic=f"{shop.prefix}.transitions")  # fmt: skip
    coordinator = Coordinator([shop.saga], settings=shop.settings, config=cfg)
    async with Responder(shop.settings.kafka_bootstrap, sorted(shop.saga.command_topics),
                         shop.codec, reply_to, group=f"resp-{uid}"):  # fmt: skip
        task = asyncio.create_task(coordinator.run())
        await place(shop, [order(1)])
        await wait_terminal(coordinator, 1)
        async with ClientSession() as http:
            async with http.get("http://127.0.0.1:19464/readyz") as ready:
                assert ready.status == 200
            async with http.get("http://127.0.0.1:19464/metrics") as resp:
                text = await resp.text()
        coordinator.stop()
        await task
    lines = Counter(line.split("{")[0] for line in text.splitlines() if line.startswith("dirigent"))
    assert 'dirigent_sagas_total{outcome="completed",saga_type="shop_order"} 1.0' in text
    assert lines["dirigent_step_latency_seconds_bucket"] > 0


async def test_a_redelivered_record_is_a_duplicate_and_runs_the_saga_once(
    shop: Shop,  # noqa: F811
    uid: str,
) -> None:
    placed = order(1)
    env = Envelope.new(type=placed.event_type, source="test", saga_id=placed.order_id,
                       schema_ref=shop.codec.schema_ref(OrderPlaced))  # fmt: skip
    record = OutgoingRecord(f"{shop.prefix}-orders.events", shop.codec.encode(placed),
                            env.record_key, tuple(env.to_headers()))  # fmt: skip
    coordinator = Coordinator([shop.saga], settings=shop.settings, config=config(shop, uid))
    async with Responder(shop.settings.kafka_bootstrap, sorted(shop.saga.command_topics),
                         shop.codec, reply_to, group=f"resp-{uid}") as responder:  # fmt: skip
        task = asyncio.create_task(coordinator.run())
        await place(shop, [], [record, record])  # the same bytes and message id, twice
        counts = await wait_terminal(coordinator, 1)
        coordinator.stop()
        await task
    assert counts["COMPLETED"] == 1
    duplicates = coordinator.metrics.inputs.labels("duplicate")._value.get()
    assert duplicates == 1
    reserves = [c for _, c in responder.ledger if isinstance(c, ReserveStock)]
    assert len(reserves) == 1


async def test_a_reply_for_no_saga_is_dead_lettered_as_an_orphan(
    shop: Shop,  # noqa: F811
    uid: str,
    infra: Infra,
) -> None:
    dlt = f"{shop.prefix}-payments.events.dlt"
    await ensure_topics(infra.kafka_bootstrap, [TopicSpec(dlt)])
    stray = PaymentAuthorized(order_id="ghost", authorization_id="a-1")
    ref = shop.codec.schema_ref(type(stray))
    env = Envelope.new(type=stray.event_type, source="payments", saga_id="ghost",
                       causation_id="c-1", schema_ref=ref)  # fmt: skip
    coordinator = Coordinator([shop.saga], settings=shop.settings, config=config(shop, uid))
    async with Responder(shop.settings.kafka_bootstrap, sorted(shop.saga.command_topics),
                         shop.codec, reply_to, group=f"resp-{uid}"):  # fmt: skip
        task = asyncio.create_task(coordinator.run())
        orphan = OutgoingRecord(f"{shop.prefix}-payments.events", shop.codec.encode(stray),
                                b"ghost", tuple(env.to_headers()))  # fmt: skip
        await place(shop, [order(1)], [orphan])
        await wait_terminal(coordinator, 1)  # the next good record is processed
        async with BatchConsumer(infra.kafka_bootstrap, [dlt], group_id=f"dlt-{uid}") as c:
            async with asyncio.timeout(20):
                batch: dict = {}  # type: ignore[type-arg]
                while not batch:
                    batch = await c.getmany(timeout_ms=500)
        coordinator.stop()
        await task
    [dead] = [r for rs in batch.values() for r in rs]
    headers = dict(dead.headers)
    assert b"orphan reply: no saga 'ghost'" in headers["dirigent-dlt-error-message"]
    assert dead.value == orphan.value  # the original bytes
    assert coordinator.metrics.dead_letters.labels(orphan.topic, "orphan")._value.get() == 1
