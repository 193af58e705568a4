"""deploy/helm/dirigent without helm (helm lint, helm template and kubeconform run in
`make deploy-check`): the profiles only set keys the chart has, the security defaults hold
in every profile, the settings it passes are dirigent's, and its alert rules are the
repository's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.deploy.settings_names import PENDING, known_env_names

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "deploy" / "helm" / "dirigent"
PROFILES = ["values-eks-msk-elasticache.yaml", "values-gke-confluent-memorystore.yaml"]
# Maps whose keys are the user's (labels, env names, trigger metadata), not the chart's.
FREE_FORM = {"config", "values", "annotations", "labels", "podLabels", "podAnnotations",
             "nodeSelector", "affinity", "resources", "selector", "extraMetadata"}  # fmt: skip


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((CHART / name).read_text(encoding="utf-8"))
    return data


def _unknown_keys(profile: Any, defaults: Any, path: str = "") -> Iterator[str]:
    if not isinstance(profile, dict) or not isinstance(defaults, dict):
        return
    for key, value in profile.items():
        where = f"{path}.{key}" if path else key
        if key not in defaults:
            yield where
        elif key not in FREE_FORM:
            yield from _unknown_keys(value, defaults[key], where)


def test_chart_metadata() -> None:
    chart = _load("Chart.yaml")
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == "dirigent"
    assert chart["appVersion"] == "0.1.0"


@pytest.mark.parametrize("profile", PROFILES)
def test_profiles_set_only_keys_the_chart_has(profile: str) -> None:
    assert list(_unknown_keys(_load(profile), _load("values.yaml"))) == []


def test_the_key_check_finds_a_misspelt_key() -> None:
    profile = {"coordinator": {"autoscaling": {"keda": {"maxReplica": 3}}}, "config": {"X": 1}}
    found = list(_unknown_keys(profile, _load("values.yaml")))
    assert found == ["coordinator.autoscaling.keda.maxReplica"]


@pytest.mark.parametrize("name", ["values.yaml", *PROFILES])
def test_security_defaults_hold(name: str) -> None:
    values = _load("values.yaml")
    override = _load(name)
    pod = {**values["podSecurityContext"], **override.get("podSecurityContext", {})}
    box = {**values["containerSecurityContext"], **override.get("containerSecurityContext", {})}
    assert pod["runAsNonRoot"] is True
    assert pod["runAsUser"] != 0
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    assert box["readOnlyRootFilesystem"] is True
    assert box["allowPrivilegeEscalation"] is False
    assert box["capabilities"]["drop"] == ["ALL"]
    assert override.get("networkPolicy", {}).get("enabled", values["networkPolicy"]["enabled"])


def test_templates_wire_the_security_context_probes_and_tmp() -> None:
    for name in ("coordinator-deployment.yaml", "participant-deployment.yaml"):
        text = (CHART / "templates" / name).read_text(encoding="utf-8")
        assert ".Values.podSecurityContext" in text, name
        assert ".Values.containerSecurityContext" in text, name
        assert re.search(r"livenessProbe:\s+httpGet:\s+path: /healthz", text), name
        assert re.search(r"readinessProbe:\s+httpGet:\s+path: /readyz", text), name
        assert '"dirigent.volumeMounts"' in text, name
    helpers = (CHART / "templates" / "_helpers.tpl").read_text(encoding="utf-8")
    assert "mountPath: /tmp" in helpers  # the root file system is read-only


def test_the_chart_passes_only_dirigent_settings() -> None:
    known = known_env_names() | PENDING
    template = (CHART / "templates" / "configmap.yaml").read_text(encoding="utf-8")
    for name in set(re.findall(r'"(DIRIGENT_[A-Z_]+)"', template)):
        assert name in known, f"configmap.yaml sets {name}, which no settings class reads"
    for profile in ["values.yaml", *PROFILES]:
        for key in _load(profile).get("config") or {}:
            assert key in known, f"{profile}: config.{key} is no dirigent setting"


def test_the_images_run_as_the_user_the_chart_expects() -> None:
    uid = _load("values.yaml")["podSecurityContext"]["runAsUser"]
    for dockerfile in (ROOT / "deploy" / "docker").glob("*.Dockerfile"):
        assert f"USER {uid}:" in dockerfile.read_text(encoding="utf-8"), dockerfile.name


def test_the_metrics_ports_match_the_images() -> None:
    values = _load("values.yaml")
    coordinator = (ROOT / "deploy/docker/coordinator.Dockerfile").read_text(encoding="utf-8")
    service = (ROOT / "deploy/docker/service.Dockerfile").read_text(encoding="utf-8")
    assert f"METRICS_PORT={values['coordinator']['metricsPort']}" in coordinator
    assert f"METRICS_PORT={values['participants']['metricsPort']}" in service


def test_alert_rules_are_the_repositorys() -> None:
    chart_copy = CHART / "files" / "prometheus-rules.yml"
    source = ROOT / "deploy" / "prometheus" / "rules.yml"
    rules = yaml.safe_load(chart_copy.read_text(encoding="utf-8"))
    alerts = [r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert "DirigentConsumerLag" in alerts
    assert "DirigentStuckDegraded" in alerts
    if source.exists():  # the observability work's file, merged separately
        assert chart_copy.read_text(encoding="utf-8") == source.read_text(encoding="utf-8"), (
            "cp deploy/prometheus/rules.yml deploy/helm/dirigent/files/prometheus-rules.yml"
        )


def test_keda_and_hpa_are_never_both_on() -> None:
    for name in ["values.yaml", *PROFILES]:
        scaling = {**_load("values.yaml")["coordinator"]["autoscaling"]}
        for kind, spec in (_load(name).get("coordinator", {}).get("autoscaling") or {}).items():
            scaling[kind] = {**scaling[kind], **spec}
        assert not (scaling["keda"]["enabled"] and scaling["hpa"]["enabled"]), name


def test_docs_walk_through_the_files() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for name in ["values.yaml", *PROFILES, "deploy/docker-compose.yml",
                 "deploy/ci/github-actions/saga-ci.yml", "make deploy-check"]:  # fmt: skip
        assert name in doc, name
