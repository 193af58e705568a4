"""Every test here logs into its own buffer; the process's logging comes back after."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
import structlog

from dirigent.observability import configure_logging
from dirigent.observability import logging as dirigent_logging

Lines = Callable[[], list[dict[str, object]]]


@pytest.fixture
def json_lines() -> Iterator[Callable[..., Lines]]:
    """``read = json_lines(level=...)`` configures JSON logging; ``read()`` parses lines."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level

    def configure(level: str = "INFO") -> Lines:
        buf = io.StringIO()
        configure_logging(json=True, level=level, stream=buf)
        return lambda: [json.loads(line) for line in buf.getvalue().splitlines()]

    yield configure
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    dirigent_logging._level = logging.INFO
