"""Who may read and act: loopback, the token, its absence (pure: no server, no I/O)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from starlette.requests import Request

from dirigent.cli import main
from dirigent.config import Settings
from dirigent.dashboard.actions import load_selection
from dirigent.dashboard.auth import COOKIE, DISABLED, form_token_ok, is_loopback, token_matches
from dirigent.dashboard.context import Dashboard
from dirigent.dashboard.settings import DashboardSettings
from dirigent.errors import ConfigurationError


def _request(host: str, cookie: str | None = None) -> Request:
    headers = [(b"cookie", f"{COOKIE}={cookie}".encode())] if cookie else []
    return Request(
        {
            "type": "http",
            "client": (host, 5000),
            "headers": headers,
            "method": "POST",
            "path": "/",
            "query_string": b"",
        }
    )


def _dashboard(token: str | None, replays: Path = Path("nowhere")) -> Dashboard:
    config = DashboardSettings(
        token=SecretStr(token) if token else None, partitions=1, replays_dir=replays
    )
    return Dashboard(Settings(), config, 1, redis=None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("127.8.0.1", True),
        ("10.0.0.1", False),
        ("testclient", False),
        ("", False),
    ],
)
def test_only_this_machine_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(_request(host)) is loopback


def test_the_token_must_match_exactly() -> None:
    d = _dashboard("s3cret")
    assert token_matches(d, "s3cret")
    assert not token_matches(d, "s3cre")
    assert not token_matches(d, "")
    assert not token_matches(d, None)


def test_without_a_configured_token_no_token_matches() -> None:
    assert not token_matches(_dashboard(None), "")
    assert form_token_ok(_request("127.0.0.1"), _dashboard(None), "anything") == DISABLED


def test_a_form_takes_the_field_or_the_cookie() -> None:
    d = _dashboard("s3cret")
    assert form_token_ok(_request("10.0.0.1"), d, "s3cret") is None
    assert form_token_ok(_request("10.0.0.1", cookie="s3cret"), d, None) is None
    assert form_token_ok(_request("127.0.0.1"), d, None) == "this action needs the dashboard token"
    assert form_token_ok(_request("127.0.0.1", cookie="s3cret"), d, "wrong") is not None


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b.selection.jsonl", "x.jsonl", ""])
def test_a_selection_is_named_never_given_as_a_path(name: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is not the name of a selection file"):
        load_selection(_dashboard("t", tmp_path), name)


def test_a_missing_selection_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=re.escape("no selection 'gone.selection.jsonl'")):
        load_selection(_dashboard("t", tmp_path), "gone.selection.jsonl")


def test_the_command_is_registered() -> None:
    result = CliRunner().invoke(main, ["dashboard", "--help"])
    assert result.exit_code == 0, result.output
    assert "DIRIGENT_DASHBOARD_TOKEN" in result.output


def test_an_empty_token_is_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIRIGENT_DASHBOARD_TOKEN", "")
    assert DashboardSettings().token is None
    monkeypatch.setenv("DIRIGENT_DASHBOARD_TOKEN", "t0ken")
    token = DashboardSettings().token
    assert token is not None
    assert token.get_secret_value() == "t0ken"
