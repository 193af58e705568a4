"""Debian's ``redis-server`` as a local process with AOF persistence."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dirigent.dev.process import ManagedProcess
from dirigent.dev.tools import require_tool

__all__ = ["RedisNode"]


@dataclass(frozen=True)
class RedisNode:
    """One Redis server whose data and log live in ``home``."""

    home: Path
    host: str = "127.0.0.1"
    port: int = 6379

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess("redis", self.home / "redis.pid", self.home / "redis.log")

    def start(self) -> int:
        server = require_tool("redis-server")
        self.home.mkdir(parents=True, exist_ok=True)
        argv = [
            server,
            "--bind", self.host,
            "--port", str(self.port),
            "--dir", str(self.home),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "no",
            "--protected-mode", "yes",
            "--maxmemory-policy", "noeviction",  # saga state must never be evicted
        ]  # fmt: skip
        return self.process.start(argv)
