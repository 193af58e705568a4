"""How long-running operator work reports progress, without knowing who listens.

The work calls ``start`` / ``advance`` / ``finish``; the command line passes a sink that
draws a bar on a terminal (rich) or prints a line now and then (logs, CI). Library
callers pass nothing and get ``NO_PROGRESS``.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["NO_PROGRESS", "Progress"]


class Progress(Protocol):
    """A sink for progress: one task at a time, ``total`` units (records) each."""

    def start(self, what: str, total: int) -> None:
        """A new task of ``total`` units begins (``total`` may be an estimate)."""

    def advance(self, units: int) -> None:
        """``units`` more are done."""

    def finish(self) -> None:
        """The current task is done."""


class _Silent:
    def start(self, what: str, total: int) -> None:
        pass

    def advance(self, units: int) -> None:
        pass

    def finish(self) -> None:
        pass


NO_PROGRESS: Progress = _Silent()
