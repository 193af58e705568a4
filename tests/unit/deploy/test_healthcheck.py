"""The images' health check (deploy/docker/healthcheck.py) against a real local HTTP server."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "deploy" / "docker" / "healthcheck.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dirigent_healthcheck", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


healthcheck = _load()


class _Handler(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        code = self.status if self.path == "/healthz" else 404
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def _env(httpd: ThreadingHTTPServer) -> dict[str, str]:
    return {"PORT_VAR": str(httpd.server_address[1])}


def test_healthy_when_healthz_answers_200(server: ThreadingHTTPServer) -> None:
    _Handler.status = 200
    assert healthcheck.check("PORT_VAR", _env(server)) is None


def test_unhealthy_when_healthz_answers_503(server: ThreadingHTTPServer) -> None:
    _Handler.status = 503
    try:
        assert "answered 503" in healthcheck.check("PORT_VAR", _env(server))
    finally:
        _Handler.status = 200


def test_unhealthy_when_nothing_listens(server: ThreadingHTTPServer) -> None:
    env = _env(server)
    server.shutdown()
    server.server_close()
    assert "unreachable" in healthcheck.check("PORT_VAR", env, timeout_s=1.0)


def test_an_unset_port_is_unhealthy_and_named() -> None:
    problem = healthcheck.check("DIRIGENT_COORDINATOR_METRICS_PORT", {})
    assert problem is not None
    assert "DIRIGENT_COORDINATOR_METRICS_PORT" in problem


def test_main_exit_codes(server: ThreadingHTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT_VAR", str(server.server_address[1]))
    assert healthcheck.main(["dirigent-healthcheck", "PORT_VAR"]) == 0
    monkeypatch.delenv("PORT_VAR")
    assert healthcheck.main(["dirigent-healthcheck", "PORT_VAR"]) == 1
    assert healthcheck.main(["dirigent-healthcheck"]) == 2
