"""Send the logs of an in-process run to a file, so the terminal shows only the demo."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from dirigent.observability import configure_logging

__all__ = ["logs_to_file"]


@contextlib.contextmanager
def logs_to_file(path: Path, *, level: str = "INFO") -> Iterator[None]:
    """structlog, stdlib logging (aiokafka) and stray prints go to ``path`` meanwhile,
    as JSON lines; afterwards logs go to stderr again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        configure_logging(json=True, level=level, stream=fh)
        try:
            with contextlib.redirect_stdout(fh):
                yield
        finally:
            configure_logging(level=level, stream=sys.stderr)
