"""Debian's Prometheus as a plain process for one test: a temp config and TSDB, a free
port, and a small client for its HTTP API. Never the system service."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import ClientError, ClientSession

from tests.support.promql import RULES

PROMETHEUS = shutil.which("prometheus")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrometheusApi:
    """``/api/v1`` of one running server."""

    def __init__(self, session: ClientSession, url: str) -> None:
        self.session, self.url = session, url

    async def get(self, path: str, **params: str) -> Any:
        async with self.session.get(f"{self.url}/api/v1/{path}", params=params) as response:
            body = await response.json()
        assert body["status"] == "success", body
        return body["data"]

    async def value(self, promql: str) -> float | None:
        """The single value of an instant query (None if it selects nothing)."""
        result = (await self.get("query", query=promql))["result"]
        assert len(result) <= 1, f"{promql} selects {len(result)} series"
        return float(result[0]["value"][1]) if result else None


@asynccontextmanager
async def prometheus(jobs: Mapping[str, int], workdir: Path) -> AsyncIterator[PrometheusApi]:
    """Scrape ``127.0.0.1:<port>`` of each job every second, dirigent's rules loaded."""
    assert PROMETHEUS is not None
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
            for job, port in jobs.items()
        ],
    }
    (workdir / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    port = free_port()
    with (workdir / "prometheus.log").open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            PROMETHEUS, f"--config.file={workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={workdir / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
            stdout=log, stderr=log,
        )  # fmt: skip
    try:
        async with ClientSession() as session:
            url = f"http://127.0.0.1:{port}"
            await _ready(session, url, proc, workdir / "prometheus.log")
            yield PrometheusApi(session, url)
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()


async def _ready(
    session: ClientSession, url: str, proc: asyncio.subprocess.Process, log: Path
) -> None:
    async with asyncio.timeout(30):
        while True:
            if proc.returncode is not None:
                raise AssertionError(f"prometheus exited; its log: {log}")
            try:
                async with session.get(f"{url}/-/ready") as response:
                    if response.status == 200:
                        return
            except ClientError:
                pass
            await asyncio.sleep(0.2)
