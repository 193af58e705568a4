"""deploy/helm/dirigent without helm (helm lint, helm template and kubeconform run in
`make deploy-check`): the profiles only set keys the chart has, the security defaults hold
in every profile, the settings it passes are dirigent's, no secret is in its ConfigMap,
and its alert rules are the repository's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.deploy.settings_names import SECRET_NAME, known_env_names, secret_env_names

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "deploy" / "helm" / "dirigent"
PROFILES = ["values-eks-msk-elasticache.yaml", "values-gke-confluent-memorystore.yaml"]
# Every values file helm renders in `make deploy-check`.
ALL_VALUES = ["values.yaml", *PROFILES, "ci/all-features-values.yaml"]
# A DIRIGENT_* name in text; "DIRIGENT_PRODUCER_*" style families end in "_" and are skipped.
ENV_NAME = re.compile(r"\bDIRIGENT_[A-Z0-9_]*[A-Z0-9]\b(?!_|\*)")
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
    known = known_env_names()
    template = (CHART / "templates" / "configmap.yaml").read_text(encoding="utf-8")
    for name in set(re.findall(r'"(DIRIGENT_[A-Z_]+)"', template)):
        assert name in known, f"configmap.yaml sets {name}, which no settings class reads"
    for profile in ALL_VALUES:
        for key in _load(profile).get("config") or {}:
            assert key in known, f"{profile}: config.{key} is no dirigent setting"
        for key in (_load(profile).get("secret") or {}).get("values") or {}:
            assert key in known, f"{profile}: secret.values.{key} is no dirigent setting"


@pytest.mark.parametrize("name", [*ALL_VALUES, *(f"templates/{p.name}" for p in
                                  sorted((CHART / "templates").iterdir()))])  # fmt: skip
def test_every_setting_the_chart_names_is_real(name: str) -> None:
    # Comments too: the profiles name the Secret's keys there, and a user copies them.
    text = (CHART / name).read_text(encoding="utf-8")
    unknown = set(ENV_NAME.findall(text)) - known_env_names()
    assert unknown == set(), f"{name} names {sorted(unknown)}, which no settings class reads"


def test_the_name_check_finds_a_misspelt_setting() -> None:
    text = "#   DIRIGENT_KAFKA_SASL_PASSWROD: the secret\nDIRIGENT_PRODUCER_* DIRIGENT_REDIS_URL"
    assert set(ENV_NAME.findall(text)) - known_env_names() == {"DIRIGENT_KAFKA_SASL_PASSWROD"}


def _configmap_keys(values: dict[str, Any]) -> set[str]:
    """The keys the chart's ConfigMap gets from these values (templates/configmap.yaml)."""
    template = (CHART / "templates" / "configmap.yaml").read_text(encoding="utf-8")
    keys = set(re.findall(r'^\s*"(DIRIGENT_[A-Z_]+)"', template, re.MULTILINE))
    if values.get("redis", {}).get("url"):
        keys.add("DIRIGENT_REDIS_URL")
    return keys | set(values.get("config") or {})


def _secrets_in_configmap(values: dict[str, Any]) -> list[str]:
    found = [k for k in sorted(_configmap_keys(values))
             if SECRET_NAME.search(k) or k in secret_env_names()]  # fmt: skip
    url = str(values.get("redis", {}).get("url") or "")
    if "@" in url.partition("://")[2].partition("/")[0]:
        found.append("DIRIGENT_REDIS_URL with user:password@")
    return found


@pytest.mark.parametrize("name", ALL_VALUES)
def test_no_secret_is_in_the_configmap(name: str) -> None:
    values = {**_load("values.yaml"), **_load(name)}
    assert _secrets_in_configmap(values) == []


def test_the_secret_check_finds_passwords_tokens_and_a_url_with_one() -> None:
    values = {
        "redis": {"url": "rediss://dirigent:hunter2@redis:6380/0"},
        "config": {"DIRIGENT_KAFKA_SASL_PASSWORD": "x", "DIRIGENT_DASHBOARD_TOKEN": "y",
                   "DIRIGENT_KAFKA_SASL_MECHANISM": "PLAIN"},
    }  # fmt: skip
    assert _secrets_in_configmap(values) == [
        "DIRIGENT_DASHBOARD_TOKEN",
        "DIRIGENT_KAFKA_SASL_PASSWORD",
        "DIRIGENT_REDIS_URL with user:password@",
    ]


def test_the_chart_refuses_every_secret_setting_in_the_configmap() -> None:
    # helm itself refuses these (deploy-check's "refusals"), by the same name rule; a new
    # SecretStr setting that the rule misses fails here.
    template = (CHART / "templates" / "configmap.yaml").read_text(encoding="utf-8")
    assert f'regexMatch "{SECRET_NAME.pattern}" $key' in template
    assert 'regexMatch "^[^/]*//[^/]*@"' in template  # redis.url with user:password@
    assert {n for n in secret_env_names() if not SECRET_NAME.search(n)} == set()
    assert "DIRIGENT_KAFKA_SASL_OAUTH_TOKEN_PROVIDER" not in {
        n for n in known_env_names() if SECRET_NAME.search(n)
    }  # a module:attr, not a secret


@pytest.mark.parametrize(
    ("profile", "secret_keys"),
    [
        ("values-eks-msk-elasticache.yaml", ["DIRIGENT_KAFKA_SASL_USERNAME",
                                             "DIRIGENT_KAFKA_SASL_PASSWORD",
                                             "DIRIGENT_REDIS_USERNAME", "DIRIGENT_REDIS_PASSWORD"]),
        ("values-gke-confluent-memorystore.yaml", ["DIRIGENT_KAFKA_SASL_USERNAME",
                                                   "DIRIGENT_KAFKA_SASL_PASSWORD",
                                                   "DIRIGENT_REDIS_PASSWORD"]),
    ],
)  # fmt: skip
def test_managed_profiles_log_in_over_tls(profile: str, secret_keys: list[str]) -> None:
    values = _load(profile)
    assert values["config"]["DIRIGENT_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert values["redis"]["url"].startswith("rediss")
    assert values["secret"]["existingSecret"]
    secret_part = (CHART / profile).read_text(encoding="utf-8").partition("\nsecret:\n")[2]
    secret_part = secret_part.partition("\n\n")[0]  # the secret: block and its comments
    for key in secret_keys:
        assert key in secret_part, f"{profile}: the Secret's keys should list {key}"


def test_profile_kafka_and_redis_logins() -> None:
    eks = _load("values-eks-msk-elasticache.yaml")
    gke = _load("values-gke-confluent-memorystore.yaml")
    assert eks["config"]["DIRIGENT_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"  # MSK's SCRAM
    assert gke["config"]["DIRIGENT_KAFKA_SASL_MECHANISM"] == "PLAIN"  # Confluent API keys
    ca_file = Path(gke["config"]["DIRIGENT_REDIS_TLS_CA_FILE"])
    assert ca_file.parent == Path(gke["tls"]["mountPath"])  # the mounted Memorystore CA
    assert gke["tls"]["secretName"]


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


def test_the_docs_name_only_real_settings() -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    ci_variable = {"DIRIGENT_REQUIREMENT"}  # saga-ci.yml's pip requirement, not a setting
    unknown = set(ENV_NAME.findall(doc)) - known_env_names() - ci_variable
    assert unknown == set(), f"docs/deploy.md names {sorted(unknown)}"
    for target in ("security.md", "deploy/redis/users.acl"):
        assert target in doc, target
