"""The Temporal peer's run: the dev server, the worker process, the closed loop, the figures.

The Temporal CLI's development server (``temporal server start-dev``, built from Go
modules by ``bench/peers/build_temporal.sh``) on free local ports, a worker process
(``bench.peers.temporal_worker``) and, here, ``in_flight`` client loops that each start
an ``OrderSaga`` and wait for its result before starting the next one: the same closed
loop, warm-up and window as ``bench/``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import Client

from bench.peers.loop import run_deadline_s
from bench.peers.process import ChildProcess, python_module
from bench.peers.report import PeerRun
from bench.peers.temporal_saga import Order, OrderSaga
from bench.run import Params
from bench.tally import Tally

__all__ = ["DB_MODES", "run_temporal", "server_version"]

# --temporal-db: how the dev server keeps its state (short, in full) and its flags.
DB_MODES: dict[str, tuple[str, str, list[str]]] = {
    "wal": ("SQLite WAL, synchronous=NORMAL",
            "SQLite file, journal_mode=WAL, synchronous=NORMAL: a commit is not fsynced, the "
            "WAL is at checkpoints; survives a server crash, not a power loss",
            ["--sqlite-pragma", "journal_mode=WAL", "--sqlite-pragma", "synchronous=NORMAL"]),
    "file": ("SQLite file, synchronous=FULL",
             "SQLite file with SQLite's defaults (the dev server sets no pragma): rollback "
             "journal, synchronous=FULL, fsync at every commit", []),
    "memory": ("in-memory SQLite",
               "in-memory SQLite (the dev server's default): lost when the server stops", []),
}  # fmt: skip


@dataclass(frozen=True)
class _Server:
    process: ChildProcess
    address: str


def server_version(binary: Path) -> str:
    """``temporal --version``: the CLI's and the embedded server's versions."""
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _start_server(binary: Path, db: str, workdir: Path) -> _Server:
    port = _free_port()
    args = [str(binary), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
            "--port", str(port), "--http-port", str(_free_port()),
            "--metrics-port", str(_free_port()), "--log-level", "warn",
            *DB_MODES[db][2]]  # fmt: skip
    if db != "memory":
        args += ["--db-filename", str(workdir / "temporal.sqlite")]
    process = await ChildProcess.spawn("temporal dev server", args, workdir / "server.log")
    address = f"127.0.0.1:{port}"

    async def answers() -> bool:
        try:
            await Client.connect(address, namespace="default")
        except RuntimeError:  # "Failed client connect": not listening yet
            return False
        return True

    try:
        await process.wait_until(answers, 120)
    except BaseException:
        await process.stop(10)
        raise
    return _Server(process, address)


async def run_temporal(p: Params, run: str, *, binary: Path, db: str = "wal") -> PeerRun:
    workdir = p.results / f"temporal-{run}"
    workdir.mkdir(parents=True, exist_ok=True)
    ready, task_queue = workdir / "worker.ready", f"peer-{run}"
    tally = Tally(warmup=p.warmup, measured=p.sagas)
    try:
        server = await _start_server(binary, db, workdir)
        try:
            worker = await ChildProcess.spawn("temporal worker", python_module(
                "bench.peers.temporal_worker", "--address", server.address,
                "--task-queue", task_queue, "--ready", str(ready),
            ), workdir / "worker.log")  # fmt: skip
            try:
                await worker.wait_until(lambda: asyncio.to_thread(ready.exists), 120)
                settings: dict[str, Any] = json.loads(await asyncio.to_thread(ready.read_text))
                client = await Client.connect(server.address, namespace="default")
                total = p.warmup + p.sagas + p.in_flight
                async with asyncio.timeout(run_deadline_s(total, floor_per_s=5)):
                    retries = await _closed_loop(client, task_queue, run, p.in_flight, tally)
            finally:
                worker_code = await worker.stop()
        finally:
            server_code = await server.process.stop()
    finally:
        await asyncio.to_thread(_keep_logs_only, workdir)
    version = await asyncio.to_thread(server_version, binary)
    durability = {"server": f"{version}, dev server (temporal server start-dev)",
                  "persistence": DB_MODES[db][1], "db_mode": db, "history_shards": 1,
                  "worker": settings}  # fmt: skip
    return PeerRun("temporal", tally.figures(), durability=durability,
                   summary=f"dev server, {DB_MODES[db][0]}, 1 history shard",
                   detail={"activity_retries": retries, "worker_exit_code": worker_code,
                           "server_exit_code": server_code,
                           "logs": str(workdir)})  # fmt: skip


class _WindowClosed(Exception):
    """Raised by the loop that sees the window close: the task group stops the others."""


async def _closed_loop(client: Client, task_queue: str, run: str, in_flight: int,
                       tally: Tally) -> int:  # fmt: skip
    """``in_flight`` loops: start a saga, await its result, note its times, start another.

    Returns how many activity attempts were retries (an attempt that timed out, say).
    """
    started = retries = 0

    async def lane() -> None:
        nonlocal started, retries
        while True:
            i, started = started, started + 1
            order = Order(f"{run}-{i}", "c-bench", "sku-1", 1, 1999, "EUR")
            result = await client.execute_workflow(OrderSaga.run, order, id=order.order_id,
                                                   task_queue=task_queue)  # fmt: skip
            if result.status != "COMPLETED":
                raise RuntimeError(f"saga {order.order_id} ended {result.status}")
            tally.steps.extend((s.applied_ms, s.latency_ms) for s in result.steps)
            retries += sum(s.attempts - 1 for s in result.steps)
            tally.completions.append(result.finished_ms)
            if tally.done:
                raise _WindowClosed

    try:
        async with asyncio.TaskGroup() as lanes:
            for _ in range(in_flight):
                lanes.create_task(lane())
    except* _WindowClosed:
        pass
    return retries


def _keep_logs_only(workdir: Path) -> None:
    """The SQLite files go (a run's state is of no use later); the logs stay."""
    for f in workdir.glob("temporal.sqlite*"):
        f.unlink()
    (workdir / "worker.ready").unlink(missing_ok=True)
    if not any(workdir.iterdir()):
        shutil.rmtree(workdir)
