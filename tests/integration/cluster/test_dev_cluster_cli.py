"""``dirigent dev cluster up | status | down``: a cluster of the user's, from the CLI."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dirigent.cli import main
from dirigent.store import SagaStore, redis_client
from tests.support.throwaway_redis import HOST

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("redis_cluster")]


def consecutive_free_ports(count: int) -> int:
    """A first port such that it and the next ``count - 1``, and each + 10000, are free."""
    for base in range(21000, 30000, 37):
        ports = [base + i for i in range(count)] + [base + 10000 + i for i in range(count)]
        sockets = [socket.socket() for _ in ports]
        try:
            for s, port in zip(sockets, ports, strict=True):
                s.bind((HOST, port))
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
        return base
    raise AssertionError("no free port range")


async def dev(args: list[str], state_dir: Path, port: int) -> Result:
    env = {"DIRIGENT_DEV_STATE_DIR": str(state_dir), "DIRIGENT_DEV_REDIS_CLUSTER_PORT": str(port)}
    return await asyncio.to_thread(CliRunner().invoke, main, ["dev", "cluster", *args], env=env)


async def test_up_prints_a_url_that_works_status_says_ok_and_down_stops_it(
    tmp_path: Path,
) -> None:
    port = consecutive_free_ports(3)
    assert (await dev(["status"], tmp_path, port)).exit_code == 1  # nothing runs yet
    try:
        up = await dev(["up"], tmp_path, port)
        assert up.exit_code == 0, up.output
        url = f"redis+cluster://{HOST}:{port},{HOST}:{port + 1},{HOST}:{port + 2}"
        assert f"export DIRIGENT_REDIS_URL={url}" in up.output
        status = await dev(["status"], tmp_path, port)
        assert status.exit_code == 0, status.output
        assert status.output.count("cluster_state:ok") == 3
        redis = redis_client(url)
        try:
            store = SagaStore(redis, "cli")
            assert [await store.acquire(p) for p in range(6)] == ["1"] * 6
        finally:
            await redis.aclose()
    finally:
        down = await dev(["down"], tmp_path, port)
    assert down.output.strip() == f"stopped: redis-{port}, redis-{port + 1}, redis-{port + 2}"
    assert (await dev(["status"], tmp_path, port)).exit_code == 1
