"""deploy/ci/github-actions/saga-ci.yml (actionlint checks it in `make deploy-check`):
its jobs, and that the dirigent commands and options it runs exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from dirigent.cli.coordinator import coordinator
from dirigent.cli.schemas import schemas
from tests.unit.deploy.settings_names import known_env_names

ROOT = Path(__file__).resolve().parents[3]
WORKFLOW = ROOT / "deploy" / "ci" / "github-actions" / "saga-ci.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def _options(command: click.Command) -> set[str]:
    return {opt for param in command.params for opt in getattr(param, "opts", [])}


def _check() -> click.Command:
    assert isinstance(schemas, click.Group)
    return schemas.commands["check"]


def _dirigent_calls(script: str, *path: str) -> list[list[str]]:
    prefix = ["dirigent", *path]
    calls = []
    for line in script.splitlines():
        words = shlex.split(line.split(">", 1)[0].rstrip("& "), comments=True)
        if words[: len(prefix)] == prefix:
            calls.append(words[len(prefix) :])
    return calls


def test_three_jobs(workflow: dict[str, Any]) -> None:
    assert set(workflow["jobs"]) == {"schemas", "saga-tests", "coordinator"}
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as true
    assert "pull_request" in triggers


def test_schema_check_runs_against_the_target_branch(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["schemas"]
    checkout = job["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0  # the target branch's versions are needed
    calls = _dirigent_calls(_runs(job), "schemas", "check")
    assert len(calls) == 1
    options = {w for w in calls[0] if w.startswith("--")}
    assert options <= _options(_check())
    assert "--against" in options
    mode = workflow["env"]["SCHEMA_MODE"]
    mode_type = next(p for p in _check().params if p.name == "mode").type
    assert isinstance(mode_type, click.Choice)
    assert mode in mode_type.choices


def test_saga_tests_run_pytest(workflow: dict[str, Any]) -> None:
    assert "python -m pytest" in _runs(workflow["jobs"]["saga-tests"])


def test_coordinator_starts_on_ephemeral_kafka_and_redis(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["coordinator"]
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text("utf-8"))
    for name in ("kafka", "redis"):
        assert job["services"][name]["image"] == compose["services"][name]["image"]
        assert "--health-cmd" in job["services"][name]["options"]
    script = _runs(job)
    calls = _dirigent_calls(script, "coordinator")
    assert len(calls) == 1
    assert {w for w in calls[0] if w.startswith("--")} <= _options(coordinator)
    assert "/readyz" in script
    assert "kill -TERM" in script
    for key in job["env"]:
        assert key in known_env_names(), key
    port = job["env"]["DIRIGENT_COORDINATOR_METRICS_PORT"]
    assert re.fullmatch(r"\d+", port)
