"""Every Grafana panel, template variable and alert rule reads metrics dirigent exports,
and every exported metric is documented in docs/operators.md."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.promql import (
    DASHBOARD,
    OPERATORS,
    dirigent_names,
    metric_names,
    panel_queries,
    rule_queries,
)

EXPORTED = dirigent_names()


@pytest.mark.parametrize(("expr", "names"), [
    ('sum by (le) (rate(dirigent_step_latency_seconds_bucket{saga_type=~"$x"}[$__rate_interval]))',
     {"dirigent_step_latency_seconds_bucket"}),
    ("max by (instance) (dirigent_degraded) == 1 and on (instance) up offset 5m",
     {"dirigent_degraded", "up"}),
    ('sum(rate(a_total{x="rate(b)"}[5m])) / ignoring (x) sum(c) > bool 0.5', {"a_total", "c"}),
    ("histogram_quantile(0.99, sum by (le) (rate(nope_bucket[1m])))", {"nope_bucket"}),
])  # fmt: skip
def test_the_reader_finds_the_metrics_of_an_expression(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_the_registries_export_suffixed_names() -> None:
    some = {"dirigent_sagas_total", "dirigent_step_latency_seconds_bucket",
            "dirigent_service_handler_seconds_count", "dirigent_consumer_lag"}  # fmt: skip
    assert some <= EXPORTED
    assert "dirigent_sagas" not in EXPORTED  # a counter is only read with _total


@pytest.mark.parametrize(("title", "expr"), panel_queries())
def test_every_panel_query_names_an_exported_metric(title: str, expr: str) -> None:
    names = metric_names(expr)
    assert names, f"panel {title!r}: no metric found in {expr!r}"
    assert names <= EXPORTED, f"panel {title!r} reads {sorted(names - EXPORTED)}"


@pytest.mark.parametrize(("alert", "expr"), rule_queries())
def test_every_alert_rule_names_an_exported_metric(alert: str, expr: str) -> None:
    names = metric_names(expr)
    assert names, f"alert {alert}: no metric found in {expr!r}"
    assert names <= EXPORTED, f"alert {alert} reads {sorted(names - EXPORTED)}"


def test_template_variables_read_exported_metrics() -> None:
    variables = json.loads(DASHBOARD.read_text())["templating"]["list"]
    queries = [v["definition"] for v in variables if v["type"] == "query"]
    assert queries
    for q in queries:
        metric = re.fullmatch(r"label_values\((\w+),\s*\w+\)", q)
        assert metric is not None, q
        assert metric.group(1) in EXPORTED, q


def test_the_dashboard_shows_what_operators_look_at_first() -> None:
    read = set().union(*(metric_names(e) for _, e in panel_queries()))
    first = ("dirigent_sagas_total", "dirigent_step_latency_seconds_bucket",
             "dirigent_compensations_total", "dirigent_dead_letters_total",
             "dirigent_breaker_open", "dirigent_consumer_lag", "dirigent_outbox_depth")  # fmt: skip
    for name in first:
        assert name in read, f"no panel shows {name}"
    heatmaps = [p for p in json.loads(DASHBOARD.read_text())["panels"] if p["type"] == "heatmap"]
    assert [t["format"] for p in heatmaps for t in p["targets"]] == ["heatmap"]


def test_every_exported_metric_is_documented_and_nothing_else() -> None:
    documented = set(re.findall(r"^\| `(dirigent_\w+)", OPERATORS.read_text(), re.MULTILINE))
    families = {re.sub(r"_(bucket|sum|count)$", "", n) for n in EXPORTED}
    assert documented == families


def test_panels_have_unique_ids_and_do_not_overlap() -> None:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    taken: dict[tuple[int, int], str] = {}
    for p in panels:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        for cell in ((x, y) for x in range(g["x"], g["x"] + g["w"])
                     for y in range(g["y"], g["y"] + g["h"])):  # fmt: skip
            assert cell not in taken, f"{p['title']!r} overlaps {taken[cell]!r}"
            taken[cell] = p["title"]
