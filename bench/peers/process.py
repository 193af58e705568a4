"""A child process of a peer run (faust worker, Temporal server or worker): start, wait, stop."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

__all__ = ["ChildProcess", "python_module"]


def python_module(module: str, *args: str) -> list[str]:
    """The command line running ``python -m module`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


class ChildProcess:
    """One process with its log file; stopped by SIGTERM, then SIGKILL after a grace time."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process, log: Path) -> None:
        self.name, self.proc, self.log = name, proc, log

    @classmethod
    async def spawn(cls, name: str, args: list[str], log: Path) -> ChildProcess:
        with log.open("w") as out:  # the child keeps its own copy of the descriptor
            proc = await asyncio.create_subprocess_exec(
                *args, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out
            )
        return cls(name, proc, log)

    async def wait_until(self, ready: Callable[[], Awaitable[bool]], timeout_s: float) -> None:
        """Poll ``ready`` until it holds; fail with the log's tail if the child exits first."""
        try:
            async with asyncio.timeout(timeout_s):
                while not await ready():
                    if self.proc.returncode is not None:
                        raise RuntimeError(f"{self.name} exited ({self.proc.returncode}): "
                                           f"{self.tail()}")  # fmt: skip
                    await asyncio.sleep(0.1)
        except TimeoutError:
            raise RuntimeError(f"{self.name} not ready after {timeout_s:.0f} s: "
                               f"{self.tail()}") from None  # fmt: skip

    def tail(self, lines: int = 8) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return f"(no log at {self.log})"
        return " | ".join(text[-lines:]) + f" (log: {self.log})"

    async def stop(self, grace_s: float = 60) -> int:
        """SIGTERM, SIGKILL after ``grace_s`` (said on stderr); returns the exit code."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(grace_s):
                return await self.proc.wait()
        except TimeoutError:
            print(f"{self.name} (pid {self.proc.pid}) ignored SIGTERM for {grace_s:.0f} s: "
                  "killed", file=sys.stderr)  # fmt: skip
            self.proc.kill()
            return await self.proc.wait()
