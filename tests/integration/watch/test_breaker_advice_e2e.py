"""Opt-in breaker advice end to end: an Anomaly on the topic holds a participant's commands."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from dirigent.coordinator import BreakerState, Coordinator
from dirigent.coordinator.advice import step_participants
from dirigent.events import Anomaly, SchemaCatalog, SingleObjectCodec
from dirigent.transport import Publisher, TopicSpec, ensure_topics
from sagas.contracts.shop import AuthorizePayment, ReserveStock
from tests.integration.coordinator.test_coordinator_e2e import (
    Shop,
    config,
    order,
    place,
    reply_to,
    shop,  # noqa: F401 - fixture
)
from tests.support.responder import Responder


def timeouts_on_pay(now: float) -> Anomaly:
    at = datetime.fromtimestamp(now, UTC)
    return Anomaly(anomaly_id="a1", status="open", saga_type="shop_order", step="pay",
                   metric="timeout_rate", direction="high", value=0.5, baseline=0.0,
                   scale=0.02, score=25.0, window_s=60, since=at, at=at)  # fmt: skip


async def test_an_anomaly_opens_the_participants_breaker_and_its_commands_wait(
    shop: Shop,  # noqa: F811
    uid: str,
) -> None:
    anomalies = f"{shop.prefix}.anomalies"
    await ensure_topics(shop.settings.kafka_bootstrap, [TopicSpec(anomalies, 1)])
    cfg = config(shop, uid).model_copy(
        update={"breaker_advice": True, "anomalies_topic": anomalies, "breaker_reset_s": 60.0}
    )
    coordinator = Coordinator([shop.saga], settings=shop.settings, config=cfg)
    payments = step_participants(coordinator.topology)[("shop_order", "pay")]
    codec = SingleObjectCodec(SchemaCatalog(), models=[Anomaly])
    async with Responder(shop.settings.kafka_bootstrap, sorted(shop.saga.command_topics),
                         shop.codec, reply_to, group=f"resp-{uid}") as responder:  # fmt: skip
        task = asyncio.create_task(coordinator.run())
        try:
            async with asyncio.timeout(25):
                await coordinator.started.wait()
                async with Publisher(shop.settings.kafka_bootstrap, codec, source="t") as pub:
                    await pub.publish(timeouts_on_pay(time.time()), topic=anomalies, key="k")
                while coordinator.health.states(time.time()).get(payments) is not BreakerState.OPEN:
                    await asyncio.sleep(0.05)
                await place(shop, [order(i) for i in range(3)])
                assert coordinator.parts is not None
                while not (sum(isinstance(c, ReserveStock) for _, c in responder.ledger) == 3
                           and sum(coordinator.parts.relay.pending.values()) >= 3):  # fmt: skip
                    await asyncio.sleep(0.05)
            assert not any(isinstance(c, AuthorizePayment) for _, c in responder.ledger)
        finally:
            coordinator.stop()
            await task
