"""The images' Dockerfiles follow the rules that matter (dockerfile_rules.py), and every
file they copy exists and is inside the build context that .dockerignore leaves."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from tests.unit.deploy.dockerfile_rules import copied_sources, problems

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILES = sorted((ROOT / "deploy" / "docker").glob("*.Dockerfile"))

GOOD = """\
FROM python:3.11.14-slim-bookworm AS build
RUN pip install --no-cache-dir .
FROM python:3.11.14-slim-bookworm
COPY --from=build /opt /opt
USER 10001:10001
HEALTHCHECK CMD ["python", "/check"]
ENTRYPOINT ["dirigent", "coordinator"]
"""


def test_both_images_exist() -> None:
    assert [p.name for p in DOCKERFILES] == ["coordinator.Dockerfile", "service.Dockerfile"]


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_follows_the_rules(path: Path) -> None:
    assert problems(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_final_stage_serves_health_on_the_metrics_port(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "dirigent-healthcheck" in text
    port_var = "COORDINATOR" if path.name.startswith("coordinator") else "SERVICE"
    assert f"DIRIGENT_{port_var}_METRICS_PORT" in text
    assert f"DIRIGENT_{port_var}_METRICS_HOST=0.0.0.0" in text


def test_the_rules_accept_a_good_dockerfile() -> None:
    assert problems(GOOD) == []


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (("python:3.11.14-slim-bookworm\nCOPY", "python:latest\nCOPY"), "pin the base image"),
        (("AS build", "AS build\nADD https://example.org/x.tgz /x"), "ADD of a URL"),
        (("USER 10001:10001", "USER root"), "non-root"),
        (("USER 10001:10001\n", ""), "no USER"),
        (('HEALTHCHECK CMD ["python", "/check"]\n', ""), "no HEALTHCHECK"),
        (('["dirigent", "coordinator"]', "dirigent coordinator"), "shell form"),
    ],
)
def test_the_rules_catch_each_mistake(change: tuple[str, str], complaint: str) -> None:
    old, new = change
    assert old in GOOD
    found = problems(GOOD.replace(old, new, 1))
    assert any(complaint in p for p in found), found


def test_a_single_stage_build_is_refused() -> None:
    single = GOOD.split("FROM python:3.11.14-slim-bookworm\n", 1)[1]
    assert any("multi-stage" in p for p in problems("FROM python:3.11.14-slim\n" + single))


def _ignored(relpath: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern decides ("!" re-includes)."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = pattern[1:] if negate else pattern
        body = body.rstrip("/")
        parts = relpath.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, body) for p in prefixes):
            ignored = not negate
    return ignored


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_copied_files_exist_in_the_build_context(path: Path) -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for source in copied_sources(path):
        rel = source.rstrip("/")
        assert (ROOT / rel).exists(), f"{path.name} copies {source}, which does not exist"
        assert not _ignored(rel, patterns), (
            f"{path.name} copies {source}, which .dockerignore drops"
        )


def test_dockerignore_keeps_local_state_out() -> None:
    patterns = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for private in (".venv", ".git", ".dirigent", "tests", "bench"):
        assert _ignored(private, [p for p in patterns if p and not p.startswith("#")]), private
