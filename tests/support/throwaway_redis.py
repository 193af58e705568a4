"""A ``redis-server`` of one test's own, on a free port, that the test may kill."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ["HOST", "ThrowawayRedis", "free_port"]

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class ThrowawayRedis:
    """A redis-server this test may kill; ``durable`` keeps its data across a SIGKILL
    (AOF, fsync always), as a production Redis holding saga state must."""

    def __init__(self, home: Path, *, durable: bool = False) -> None:
        self.home, self.port, self.durable = home, free_port(), durable
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    async def start(self) -> None:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.durable else [
            "--appendonly", "no"]  # fmt: skip
        self.proc = await asyncio.create_subprocess_exec(
            "redis-server", "--port", str(self.port), "--bind", HOST, "--save", "",
            *persistence, "--dir", str(self.home),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        probe = Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    await probe.ping()
                    return
                except RedisError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.05)
        finally:
            await probe.aclose()

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
