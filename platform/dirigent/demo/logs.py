"""Send the logs of an in-process run to a file, so the terminal shows only the demo."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import structlog

from dirigent.observability import configure_logging

__all__ = ["logs_to_file"]


@contextlib.contextmanager
def logs_to_file(path: Path, *, level: str = "INFO") -> Iterator[None]:
    """structlog, stdlib logging (aiokafka) and stray prints go to ``path`` meanwhile.

    Call it before importing the coordinator: some modules bind their logger at import.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    with path.open("a", encoding="utf-8") as fh:
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        configure_logging(json=True, level=level)
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=fh))
        try:
            with contextlib.redirect_stdout(fh):
                yield
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
            structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stderr))
