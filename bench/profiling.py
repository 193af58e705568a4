"""Profiling the child process: pyinstrument (sampling) when installed, else cProfile."""

from __future__ import annotations

import cProfile
import importlib
import io
import pstats
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["Profile"]


class Profile:
    """``with Profile("pyinstrument", out):`` writes a text report to ``out`` on exit.

    pyinstrument is not a dependency of dirigent: ``.venv/bin/pip install pyinstrument``.
    """

    def __init__(self, kind: str, out: Path | None) -> None:
        self.kind, self.out = kind, out
        self._profiler: Any = None

    def __enter__(self) -> Profile:
        if self.kind == "pyinstrument":
            # Optional, for investigations only: not a dependency of dirigent.
            profiler_class = importlib.import_module("pyinstrument").Profiler
            self._profiler = profiler_class(interval=0.001, async_mode="disabled")
            self._profiler.start()
        elif self.kind == "cprofile":
            self._profiler = cProfile.Profile()
            self._profiler.enable()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._profiler is None or self.out is None:
            return
        if self.kind == "pyinstrument":
            self._profiler.stop()
            self.out.write_text(self._profiler.output_text(unicode=False, show_all=False))
            self.out.with_suffix(".html").write_text(self._profiler.output_html())
            full = self._profiler.output_text(unicode=False, show_all=True)
            self.out.with_name(self.out.stem + "-all.txt").write_text(full)
            return
        self._profiler.disable()
        text = io.StringIO()
        stats = pstats.Stats(self._profiler, stream=text)
        stats.sort_stats("tottime").print_stats(40)
        stats.sort_stats("cumulative").print_stats(60)
        self.out.write_text(text.getvalue())
