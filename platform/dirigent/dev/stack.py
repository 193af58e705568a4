"""The local stack behind ``dirigent dev up | down | status``: Kafka plus Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from dirigent.config import DevSettings
from dirigent.dev.health import kafka_ready, redis_ready
from dirigent.dev.kafka import KafkaNode
from dirigent.dev.process import ManagedProcess
from dirigent.dev.redis import RedisNode
from dirigent.errors import InfrastructureError

__all__ = ["LocalStack", "ServiceStatus"]


@dataclass(frozen=True)
class ServiceStatus:
    """What one service of the stack is doing."""

    name: str
    address: str
    pid: int | None
    healthy: bool
    started_by_us: bool

    def describe(self) -> str:
        state = "healthy" if self.healthy else "down"
        owner = f"pid {self.pid}" if self.pid else "not started by dirigent"
        return f"{self.name:<6} {self.address:<24} {state} ({owner})"


class LocalStack:
    """Kafka and Redis as plain local processes, state in ``settings.state_dir``.

    Example::

        stack = LocalStack(DevSettings(state_dir=Path(".dirigent")))
        await stack.up()     # idempotent: reuses what already runs
        await stack.down()   # stops only what it started, by pid
    """

    def __init__(self, settings: DevSettings) -> None:
        root = settings.state_dir.resolve()
        jars = settings.jars_dir or Path.home() / ".cache" / "dirigent" / "kafka-jars"
        self.settings = settings
        self.kafka = KafkaNode(
            home=root / "kafka",
            jars_cache=jars,
            host=settings.host,
            port=settings.kafka_port,
            controller_port=settings.kafka_controller_port,
        )
        self.redis = RedisNode(home=root / "redis", host=settings.host, port=settings.redis_port)

    async def up(self) -> list[ServiceStatus]:
        """Start what is not running, then wait until both answer."""
        await asyncio.gather(
            self._ensure(self.redis.process, self.redis.start, self._redis_ok),
            self._ensure(self.kafka.process, self.kafka.start, self._kafka_ok),
        )
        return await self.status()

    async def down(self) -> list[str]:
        """Stop Kafka and Redis if we started them; return the names stopped."""
        stopped = []
        for proc in (self.kafka.process, self.redis.process):
            if await asyncio.to_thread(proc.stop, timeout_s=30.0):
                stopped.append(proc.name)
        return stopped

    async def status(self) -> list[ServiceStatus]:
        kafka_ok, redis_ok = await asyncio.gather(self._kafka_ok(), self._redis_ok())
        kafka_pid, redis_pid = self.kafka.process.pid(), self.redis.process.pid()
        return [
            ServiceStatus(
                "kafka", self.kafka.bootstrap, kafka_pid, kafka_ok, kafka_pid is not None
            ),
            ServiceStatus("redis", self.redis.url, redis_pid, redis_ok, redis_pid is not None),
        ]

    async def _kafka_ok(self) -> bool:
        return await kafka_ready(self.kafka.bootstrap)

    async def _redis_ok(self) -> bool:
        return await redis_ready(self.redis.url)

    async def _ensure(
        self,
        proc: ManagedProcess,
        start: Callable[[], int],
        healthy: Callable[[], Awaitable[bool]],
    ) -> None:
        if await healthy():
            return  # ours from an earlier `up`, or one the user runs: reuse it
        if proc.pid() is None:
            await asyncio.to_thread(start)
        deadline = time.monotonic() + self.settings.startup_timeout_s
        while not await healthy():
            if proc.pid() is None:
                raise InfrastructureError(
                    f"{proc.name} exited during startup; last log lines of {proc.log_file}:\n"
                    f"{_tail(proc.log_file)}"
                )
            if time.monotonic() > deadline:
                raise InfrastructureError(
                    f"{proc.name} did not become healthy within "
                    f"{self.settings.startup_timeout_s:.0f}s; see {proc.log_file}:\n"
                    f"{_tail(proc.log_file)}"
                )
            await asyncio.sleep(0.25)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
