"""Await with a bound, and on a miss show where every task of the loop was waiting."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["bounded"]

T = TypeVar("T")


async def bounded(aw: Awaitable[T], timeout_s: float, what: str) -> T:
    """``aw``'s result; past ``timeout_s`` an ``AssertionError`` naming ``what`` that holds
    the stack of every pending task (a hang then says where, instead of a bare timeout)."""
    try:
        async with asyncio.timeout(timeout_s):
            return await aw
    except TimeoutError:
        out = io.StringIO()
        for task in asyncio.all_tasks():
            if not task.done():
                task.print_stack(limit=12, file=out)
        raise AssertionError(f"{what} did not finish in {timeout_s} s:\n{out.getvalue()}") from None
