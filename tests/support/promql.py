"""The PromQL of the shipped dashboard and alert rules, the metric names an expression
reads, and the ones dirigent exports.

No PromQL parser ships for Python: strings, label matchers, ranges and grouping
clauses are removed, then every identifier that is not a function call or a keyword
is a metric name. ``test_queries_name_metrics`` checks this reader on known answers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry

from dirigent.coordinator import CoordinatorMetrics
from dirigent.service import ServiceMetrics

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy/grafana/dashboards/dirigent.json"
RULES = ROOT / "deploy/prometheus/rules.yml"
OPERATORS = ROOT / "docs/operators.md"

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENT = re.compile(r"(?<![\w$.])[a-zA-Z_:][a-zA-Z0-9_:]*")
_KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
     "and", "or", "unless", "inf", "nan", "Inf", "NaN"}
)  # fmt: skip
_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}


def metric_names(expr: str) -> set[str]:
    """The metric names ``expr`` selects."""
    s = _STRING.sub('""', expr)
    s = _MATCHERS.sub("", s)
    s = _RANGE.sub("", s)
    s = _GROUPING.sub("", s)
    names = set()
    for m in _IDENT.finditer(s):
        if s[m.end() :].lstrip().startswith("(") or m.group(0) in _KEYWORDS:
            continue  # a function call or an operator
        names.add(m.group(0))
    return names


def exported_names(*registries: CollectorRegistry) -> set[str]:
    """Every series name the registries expose (``_total``, ``_bucket``, ... included)."""
    names: set[str] = set()
    for registry in registries:
        for family in registry.collect():
            suffixes = _SUFFIXES.get(family.type, ("",))
            names |= {family.name + suffix for suffix in suffixes}
    return names


def dirigent_names() -> set[str]:
    """What a coordinator and a participant service export, from their real registries."""
    return exported_names(CoordinatorMetrics().registry, ServiceMetrics("svc").registry)


def panel_queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every target of every panel, rows included."""
    dashboard = json.loads(DASHBOARD.read_text())
    found = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for p in panels:
            found.extend((p["title"], t["expr"]) for t in p.get("targets", []))
            walk(p.get("panels", []))

    walk(dashboard["panels"])
    return found


GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "1h", "$__interval": "15s",
                     "$saga_type": ".*"}  # fmt: skip


def grafana_to_promql(expr: str) -> str:
    """``expr`` with Grafana's variables replaced by values Prometheus accepts."""
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr!r}"
    return expr


def rule_queries() -> list[tuple[str, str]]:
    """(alert name, PromQL) of every alert rule."""
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [(r["alert"], r["expr"]) for g in groups for r in g["rules"]]
