"""Running a peer's closed loop under a deadline (as ``bench/`` does for its own runs)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["drive", "run_deadline_s"]


def run_deadline_s(starts: int, *, floor_per_s: float) -> float:
    """How long a run may take: two minutes plus ``starts`` at a generous floor rate."""
    return 120 + starts / floor_per_s


async def drive(
    feed: Callable[[], Coroutine[Any, Any, None]],
    observe: Callable[[], Coroutine[Any, Any, None]],
    deadline_s: float,
) -> None:
    """Feed while observing; done when the observer is (the cool-down starts are dropped)."""
    async with asyncio.timeout(deadline_s), asyncio.TaskGroup() as tasks:
        feeding = tasks.create_task(feed())
        await observe()
        feeding.cancel()
