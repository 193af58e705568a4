"""The scaling signal from a real consumer group's committed offsets."""

from __future__ import annotations

from dirigent.transport import BatchConsumer, LagProbe, OutgoingRecord, RawProducer
from dirigent.watch.metrics import WatchMetrics
from dirigent.watch.scaling import ScalingSignal
from tests.integration.conftest import TopicFactory
from tests.support.infra import Infra


async def test_lag_and_arrivals_of_a_group_become_forecast_gauges(
    infra: Infra, make_topic: TopicFactory, uid: str
) -> None:
    topic, group = await make_topic("work"), f"workers-{uid}"
    async with BatchConsumer(infra.kafka_bootstrap, [topic], group_id=group) as c, \
            RawProducer(infra.kafka_bootstrap) as producer:  # fmt: skip
        await producer.send_batch([OutgoingRecord(topic, b"x") for _ in range(50)])
        while not (batch := await c.getmany(timeout_ms=500)):
            pass
        [tp] = batch
        await c.commit({tp: 10})
        signal = ScalingSignal(WatchMetrics(), sample_s=10, horizon=6)
        async with LagProbe(infra.kafka_bootstrap) as probe:
            [first] = await probe.sample([group, f"nobody-{uid}"])
            assert (first.lag, first.end) == (40, 50)
            signal.observe([first])
            await producer.send_batch([OutgoingRecord(topic, b"x") for _ in range(30)])
            signal.observe(await probe.sample([group]))
    r = signal.metrics.registry
    lag = r.get_sample_value("dirigent_forecast_lag", {"group": group, "horizon_s": "60"})
    rate = r.get_sample_value("dirigent_forecast_arrival_rate", {"group": group, "horizon_s": "60"})
    assert lag is not None
    assert lag > 70  # lag went 40 -> 70: the trend carries it further
    assert rate == 3.0  # 30 records in one 10 s sample (the first rate: no trend yet)
