"""deploy/docker-compose.yml, checked without a Docker engine (none here; `docker compose
config` needs the compose plugin): services, pinned images, health checks, start order,
the images' Dockerfiles, mounts and the Prometheus targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.deploy.settings_names import known_env_names

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
STACK = {"kafka", "redis", "coordinator", "inventory", "payments", "shipping", "orders",
         "prometheus", "grafana"}  # fmt: skip
# Mounted files that the observability work adds (deploy/prometheus, deploy/grafana).
OBSERVABILITY_FILES = {
    "prometheus/rules.yml",
    "grafana/provisioning/datasources",
    "grafana/provisioning/dashboards",
    "grafana/dashboards",
}


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    doc = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    result: dict[str, Any] = doc["services"]
    return result


def test_the_whole_stack_is_there(services: dict[str, Any]) -> None:
    assert set(services) == STACK


def test_every_image_is_pinned(services: dict[str, Any]) -> None:
    for name, service in services.items():
        image = service.get("image", "")
        repo, _, tag = image.rpartition(":")
        assert repo, (name, image)
        assert tag != "latest", (name, image)
        assert any(c.isdigit() for c in tag), (name, image)
    assert services["kafka"]["image"] == "apache/kafka:4.1.1"


def test_built_services_use_the_repository_dockerfiles(services: dict[str, Any]) -> None:
    built = {name: s["build"] for name, s in services.items() if "build" in s}
    assert set(built) == {"coordinator", "inventory", "payments", "shipping", "orders"}
    for name, build in built.items():
        context = (DEPLOY / build["context"]).resolve()
        assert (context / build["dockerfile"]).is_file(), name
        assert (context / ".dockerignore").is_file(), name
    assert built["coordinator"]["dockerfile"] == "deploy/docker/coordinator.Dockerfile"
    assert built["payments"]["dockerfile"] == "deploy/docker/service.Dockerfile"


def test_every_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name, service in services.items():
        test = service.get("healthcheck", {}).get("test")
        assert isinstance(test, list), name
        assert test[0] in {"CMD", "CMD-SHELL"}, name


def test_start_order_waits_for_health(services: dict[str, Any]) -> None:
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        for target, spec in depends.items():
            assert target in services, (name, target)
            assert spec == {"condition": "service_healthy"}, (name, target)
            assert "healthcheck" in services[target], (name, target)
    assert set(services["coordinator"]["depends_on"]) == {"kafka", "redis"}
    assert set(services["payments"]["depends_on"]) == {"coordinator"}  # topics exist by then


def test_containers_reach_kafka_on_the_listener_it_advertises(services: dict[str, Any]) -> None:
    advertised = services["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"].split(",")
    hosts = {item.split("://", 1)[1] for item in advertised}
    for name in ("coordinator", "inventory", "payments", "shipping", "orders"):
        env = services[name]["environment"]
        assert env["DIRIGENT_KAFKA_BOOTSTRAP"] in hosts, name
        assert env["DIRIGENT_KAFKA_BOOTSTRAP"] != "127.0.0.1:9092", name  # the host's
        assert env["DIRIGENT_REDIS_URL"].startswith("redis://redis:"), name


def test_environment_names_are_dirigent_settings(services: dict[str, Any]) -> None:
    known = known_env_names()
    for name, service in services.items():
        for key in service.get("environment", {}):
            if key.startswith("DIRIGENT_"):
                assert key in known, f"{name}: {key} is no dirigent setting"


def test_mounted_files_exist_or_come_from_the_observability_work(
    services: dict[str, Any],
) -> None:
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith("./"):
                continue
            rel = source[2:]
            assert (DEPLOY / rel).exists() or rel in OBSERVABILITY_FILES, (name, source)


def test_prometheus_scrapes_every_dirigent_container(services: dict[str, Any]) -> None:
    mounts = dict(v.split(":")[:2][::-1] for v in services["prometheus"]["volumes"])
    config_path = DEPLOY / mounts["/etc/prometheus/prometheus.yml"].removeprefix("./")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }
    expected = {"coordinator:9464"} | {
        f"{name}:{services[name]['environment']['DIRIGENT_SERVICE_METRICS_PORT']}"
        for name in ("inventory", "payments", "shipping", "orders")
    }
    assert targets == expected
    assert services["coordinator"]["environment"]["DIRIGENT_COORDINATOR_METRICS_PORT"] == "9464"
    assert config["rule_files"] == ["rules.yml"]
    assert "/etc/prometheus/rules.yml" in mounts
