"""A private Kafka + Redis that fault tests may SIGKILL and restart (never the shared stack).

Three processes on free ports, state under one directory:

- ``kafka``: one KRaft broker+controller (``dirigent.dev.KafkaNode``, the cached jars);
- ``redis``: the platform's Redis (saga store, outbox, idempotency), AOF with
  ``appendfsync always`` so that a SIGKILL loses no acknowledged write: the tests are
  about dirigent surviving the outage, not about Redis's durability setting;
- ``ledger``: a second Redis holding the participants' effect ledger, the "outside
  world" that the faults never touch, so the audit is independent of what is killed.

Example::

    stack = FaultStack(tmp_dir)
    await stack.up()
    await stack.kill("redis"); await stack.start("redis")
    await stack.down()
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from dirigent.dev.health import kafka_ready, redis_ready
from dirigent.dev.kafka import KafkaNode
from dirigent.dev.process import ManagedProcess
from dirigent.dev.tools import require_tool

JARS = Path.home() / ".cache" / "dirigent" / "kafka-jars"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class _Redis:
    home: Path
    port: int
    fsync: str

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess("redis", self.home / "redis.pid", self.home / "redis.log")

    def start(self) -> int:
        self.home.mkdir(parents=True, exist_ok=True)
        argv = [
            require_tool("redis-server"), "--bind", HOST, "--port", str(self.port),
            "--dir", str(self.home), "--appendonly", "yes", "--appendfsync", self.fsync,
            "--save", "", "--daemonize", "no", "--maxmemory-policy", "noeviction",
        ]  # fmt: skip
        return self.process.start(argv)


@dataclass
class FaultStack:
    """Kafka, Redis and the ledger Redis; ``kill``/``start`` one of them by name."""

    root: Path
    kafka: KafkaNode = field(init=False)
    redis: _Redis = field(init=False)
    ledger: _Redis = field(init=False)
    kills: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.kafka = KafkaNode(
            home=self.root / "kafka", jars_cache=JARS, host=HOST,
            port=free_port(), controller_port=free_port(),
        )  # fmt: skip
        self.redis = _Redis(self.root / "redis", free_port(), fsync="always")
        self.ledger = _Redis(self.root / "ledger", free_port(), fsync="everysec")

    @property
    def bootstrap(self) -> str:
        return self.kafka.bootstrap

    def _process(self, name: str) -> ManagedProcess:
        return {"kafka": self.kafka.process, "redis": self.redis.process,
                "ledger": self.ledger.process}[name]  # fmt: skip

    async def healthy(self, name: str) -> bool:
        if name == "kafka":
            return await kafka_ready(self.kafka.bootstrap)
        return await redis_ready((self.redis if name == "redis" else self.ledger).url)

    async def up(self) -> None:
        await asyncio.gather(*(self.start(n) for n in ("redis", "ledger", "kafka")))

    async def start(self, name: str, timeout_s: float = 120) -> float:
        """Start ``name`` if it is not running and wait until it answers; returns seconds."""
        started = time.monotonic()
        proc = self._process(name)
        if proc.pid() is None:
            starter = {"kafka": self.kafka.start, "redis": self.redis.start,
                       "ledger": self.ledger.start}[name]  # fmt: skip
            await asyncio.to_thread(starter)
        while not await self.healthy(name):
            if proc.pid() is None:
                raise AssertionError(f"{name} exited during startup, see {proc.log_file}")
            if time.monotonic() - started > timeout_s:
                raise AssertionError(f"{name} not healthy within {timeout_s}s, see {proc.log_file}")
            await asyncio.sleep(0.25)
        return time.monotonic() - started

    async def kill(self, name: str) -> None:
        """SIGKILL ``name`` (kafka or redis; the ledger is never a fault target)."""
        assert name in ("kafka", "redis"), name
        proc = self._process(name)
        assert proc.pid() is not None, f"{name} is not running"
        await asyncio.to_thread(proc.stop, timeout_s=0, kill=True)
        self.kills[name] = self.kills.get(name, 0) + 1

    async def ensure_up(self) -> None:
        """Bring back whatever a failed test left down."""
        for name in ("redis", "ledger", "kafka"):
            if not await self.healthy(name):
                await self.start(name)

    async def down(self) -> None:
        for name in ("kafka", "redis", "ledger"):
            await asyncio.to_thread(self._process(name).stop, timeout_s=20)
