"""An emitted anomaly decodes with the shipped schema, and the metrics count it."""

from __future__ import annotations

from pathlib import Path

from dirigent.events import Anomaly, SchemaCatalog, SingleObjectCodec
from dirigent.watch import StepWatch
from dirigent.watch.metrics import WatchMetrics
from dirigent.watch.synthetic import Incident, Traffic, transitions

SHIPPED = Path(__file__).parents[3] / "schemas"


def emitted() -> list[Anomaly]:
    tf = Traffic(duration_s=2400, incidents=(Incident("broken", 1500, step="pay", failure_p=0.6),))
    watch = StepWatch(window_s=60)
    return [a for t in transitions(tf) for a in watch.feed(t)]


def test_an_emitted_anomaly_decodes_with_the_shipped_schema() -> None:
    [first, *_] = emitted()
    value = SingleObjectCodec(SchemaCatalog(), models=[Anomaly]).encode(first)
    reader = SingleObjectCodec(SchemaCatalog.load(SHIPPED))  # the repository's schemas only
    decoded = reader.decode(value, reader=Anomaly)
    assert decoded == first
    assert (decoded.step, decoded.metric, decoded.status) == ("pay", "failure_rate", "open")
    assert decoded.score > 8
    assert decoded.since < decoded.at


def test_the_open_gauge_follows_the_anomaly_and_the_total_counts_openings() -> None:
    m = WatchMetrics()
    [opened] = [a for a in emitted() if a.metric == "failure_rate"]
    m.anomaly(opened)
    where = {"saga_type": "order", "step": "pay", "metric": "failure_rate"}
    assert m.registry.get_sample_value("dirigent_anomalies_open", where) == 1
    assert m.registry.get_sample_value("dirigent_anomalies_total", where) == 1
    m.anomaly(opened.model_copy(update={"status": "closed"}))
    assert m.registry.get_sample_value("dirigent_anomalies_open", where) == 0
    assert m.registry.get_sample_value("dirigent_anomalies_total", where) == 1
