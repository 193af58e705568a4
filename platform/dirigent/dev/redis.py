"""Debian's ``redis-server`` as a local process with AOF persistence."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dirigent.dev.process import ManagedProcess
from dirigent.dev.tools import require_tool

__all__ = ["RedisNode", "server_argv"]


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
        return self.process.start(server_argv(self.home, self.host, self.port))


def server_argv(
    home: Path, host: str, port: int, *extra: str, appendfsync: str = "everysec"
) -> list[str]:
    """``redis-server`` as dirigent runs it (AOF, no RDB, never evicting), data in
    ``home``; ``extra`` options go before the fixed ones."""
    server = require_tool("redis-server")
    home.mkdir(parents=True, exist_ok=True)
    return [
        server,
        "--bind", host,
        "--port", str(port),
        "--dir", str(home),
        *extra,
        "--appendonly", "yes",
        "--appendfsync", appendfsync,
        "--save", "",
        "--daemonize", "no",
        "--protected-mode", "yes",
        "--maxmemory-policy", "noeviction",  # saga state must never be evicted
    ]  # fmt: skip
