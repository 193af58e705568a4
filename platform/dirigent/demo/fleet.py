"""The demo's in-process fleet: coordinator and shop services as owned asyncio tasks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, Self

from dirigent.errors import DirigentError

__all__ = ["Fleet"]


class _Runnable(Protocol):
    async def run(self) -> None: ...
    def stop(self) -> None: ...


class Fleet:
    """Runs each member's ``run()`` as a task; on exit asks all to stop and awaits them.

    ``check()`` raises if a member ended early (its error, or ``DirigentError``).
    """

    def __init__(self, members: Sequence[_Runnable], *, stop_timeout_s: float = 30.0) -> None:
        self.members = list(members)
        self.stop_timeout_s = stop_timeout_s
        self.tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Self:
        self.tasks = [asyncio.create_task(m.run()) for m in self.members]
        return self

    def check(self) -> None:
        for member, task in zip(self.members, self.tasks, strict=True):
            if task.done():
                exc = None if task.cancelled() else task.exception()
                name = type(member).__name__
                raise DirigentError(f"demo {name} stopped early: {exc!r}") from exc

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        for member in self.members:
            member.stop()
        done, pending = await asyncio.wait(self.tasks, timeout=self.stop_timeout_s)
        for task in pending:  # did not drain in time: cancel, never leave a task behind
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            if not task.cancelled() and task.exception() is not None and et is None:
                raise DirigentError("a demo member failed while stopping") from task.exception()
