"""``dirigent schemas check``: each schema against its version at a git revision."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dirigent.cli.schemas import schemas
from dirigent.events.compat import Mode, check_against

BASE: dict[str, Any] = {
    "type": "record",
    "name": "Order",
    "namespace": "test.compat",
    "fields": [
        {"name": "order_id", "type": "string"},
        {"name": "customer_id", "type": "string"},
    ],
}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _save(repo: Path, schema: dict[str, Any]) -> None:
    (repo / "schemas" / "Order.avsc").write_text(json.dumps(schema))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "schemas").mkdir()
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.email", "t@example.com")
    _git(tmp_path, "config", "user.name", "t")
    _save(tmp_path, BASE)
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "v1")
    return tmp_path


def _with_fields(*fields: dict[str, Any]) -> dict[str, Any]:
    return {**BASE, "fields": list(fields)}


ORDER_ID, CUSTOMER_ID = BASE["fields"]


def test_adding_a_field_with_a_default_is_fully_compatible(repo: Path) -> None:
    _save(
        repo, _with_fields(ORDER_ID, CUSTOMER_ID, {"name": "note", "type": "string", "default": ""})
    )
    report = check_against(repo / "schemas", mode=Mode.FULL)
    assert report.ok, [f.explain() for f in report.findings]
    assert report.checked == ["test.compat.Order"]


def test_adding_a_field_without_a_default_breaks_backward(repo: Path) -> None:
    _save(repo, _with_fields(ORDER_ID, CUSTOMER_ID, {"name": "note", "type": "string"}))
    report = check_against(repo / "schemas", mode=Mode.BACKWARD)
    [finding] = report.findings
    assert (finding.schema, finding.field, finding.direction) == (
        "test.compat.Order",
        "note",
        "backward",
    )
    assert "Order.avsc" in finding.explain()
    assert "without a default" in finding.explain()


def test_removing_a_field_without_a_default_breaks_forward_only(repo: Path) -> None:
    _save(repo, _with_fields(ORDER_ID))
    assert check_against(repo / "schemas", mode=Mode.BACKWARD).ok
    [finding] = check_against(repo / "schemas", mode=Mode.FORWARD).findings
    assert (finding.field, finding.direction) == ("customer_id", "forward")
    assert "old readers cannot read new data" in finding.explain()
    assert not check_against(repo / "schemas", mode=Mode.FULL).ok


def test_a_renamed_field_with_an_alias_is_backward_compatible(repo: Path) -> None:
    renamed = {"name": "client_id", "type": "string", "aliases": ["customer_id"]}
    _save(repo, _with_fields(ORDER_ID, renamed))
    assert check_against(repo / "schemas", mode=Mode.BACKWARD).ok
    _save(repo, _with_fields(ORDER_ID, {"name": "client_id", "type": "string"}))
    assert not check_against(repo / "schemas", mode=Mode.BACKWARD).ok


def test_a_type_change_names_the_field(repo: Path) -> None:
    _save(repo, _with_fields(ORDER_ID, {"name": "customer_id", "type": "long"}))
    [finding] = check_against(repo / "schemas").findings
    assert finding.field == "customer_id"
    assert finding.kind == "type_mismatch"


def test_a_removed_schema_is_reported(repo: Path) -> None:
    (repo / "schemas" / "Order.avsc").unlink()
    [finding] = check_against(repo / "schemas").findings
    assert finding.kind == "removed"


def test_against_a_branch_point(repo: Path) -> None:
    _git(repo, "checkout", "-q", "-b", "feature")
    _save(repo, _with_fields(ORDER_ID, CUSTOMER_ID, {"name": "note", "type": "string"}))
    _git(repo, "commit", "-q", "-am", "breaking change on a branch")
    report = check_against(repo / "schemas")  # merge base with main: v1
    assert not report.ok
    assert check_against(repo / "schemas", against="HEAD").ok


def test_cli_check_exits_1_on_incompatible_and_list_prints_fingerprints(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    runner = CliRunner()
    listed = runner.invoke(schemas, ["list"])
    assert listed.exit_code == 0
    name, fingerprint, path = listed.output.strip().split("\t")
    assert (name, len(fingerprint), Path(path).name) == ("test.compat.Order", 16, "Order.avsc")
    assert runner.invoke(schemas, ["check"]).exit_code == 0
    _save(repo, _with_fields(ORDER_ID))
    assert runner.invoke(schemas, ["check", "--mode", "backward"]).exit_code == 0
    result = runner.invoke(schemas, ["check", "--mode", "forward", "--against", "HEAD"])
    assert result.exit_code == 1
    assert "customer_id" in result.output
