"""``--rate R``: at most R replayed records a second, on average, in batches."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """Spaces batches so that ``n`` records take ``n / per_s`` seconds (``None``: no limit).

    Example::

        limiter = RateLimiter(50)
        for batch in batches:
            await limiter.acquire(len(batch))  # waits as long as the previous ones need
            await send(batch)
    """

    def __init__(
        self,
        per_s: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_s is not None and per_s <= 0:
            raise ValueError(f"a rate must be positive, not {per_s}")
        self.per_s = per_s
        self._clock, self._sleep = clock, sleep
        self._next = 0.0

    def batch_size(self, wanted: int) -> int:
        """A batch no larger than one second's worth (at least one record)."""
        if self.per_s is None:
            return wanted
        return max(1, min(wanted, int(self.per_s)))

    async def acquire(self, n: int) -> None:
        """Wait until ``n`` more records may go."""
        if self.per_s is None or n <= 0:
            return
        now = self._clock()
        self._next = max(self._next, now)
        wait = self._next - now
        self._next += n / self.per_s
        if wait > 0:
            await self._sleep(wait)
