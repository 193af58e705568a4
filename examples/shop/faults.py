"""Injected faults: declines, silence, latency and crashes, decided per message.

Declines and silences are a pure function of (seed, kind, key): a command delivered
again after a crash gets the same decision, so a handler re-run never contradicts the
effect it already applied. Crashes are random on purpose (a deterministic crash would
kill the restarted process on the same message forever).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
from dataclasses import dataclass, field

__all__ = ["CRASH_EXIT_CODE", "FaultPlan"]

CRASH_EXIT_CODE = 70


@dataclass(kw_only=True)
class FaultPlan:
    """What goes wrong in one service.

    ``failure_rate``: the business refuses (payment declined, out of stock).
    ``silent_rate``: no reply at all, no effect (the saga's step timeout handles it).
    ``latency_ms``: mean handling time (uniform in [0.5x, 1.5x]).
    ``crash_rate`` / ``crash_after``: ``os._exit`` after applying an effect but before
    the reply is stored, at that probability or after that many messages (separate
    processes only).
    """

    failure_rate: float = 0.0
    silent_rate: float = 0.0
    latency_ms: float = 0.0
    crash_rate: float = 0.0
    crash_after: int | None = None
    seed: str = "dirigent"
    spared: frozenset[str] = frozenset()  # order ids never refused nor silenced (probes)
    _handled: int = field(default=0, init=False)

    @property
    def crashes(self) -> bool:
        return self.crash_rate > 0 or self.crash_after is not None

    def roll(self, kind: str, key: str) -> float:
        """A stable number in [0, 1) for (seed, kind, key)."""
        digest = hashlib.blake2b(f"{self.seed}|{kind}|{key}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big") / 2**64

    def spares(self, order_id: str) -> bool:
        return order_id in self.spared

    def refuses(self, key: str) -> bool:
        return self.roll("refuse", key) < self.failure_rate

    def silent(self, key: str) -> bool:
        return self.roll("silent", key) < self.silent_rate

    async def delay(self) -> None:
        if self.latency_ms > 0:
            await asyncio.sleep(self.latency_ms * random.uniform(0.5, 1.5) / 1000)

    def maybe_crash(self) -> None:
        """Exit hard (no cleanup, no commit) if this message is the unlucky one."""
        self._handled += 1
        if self.crash_after is not None and self._handled >= self.crash_after:
            os._exit(CRASH_EXIT_CODE)
        if self.crash_rate > 0 and random.random() < self.crash_rate:
            os._exit(CRASH_EXIT_CODE)
