"""structlog setup: JSON lines in production, readable lines in a terminal.

Context (saga id, message id, step, handler) travels in ``contextvars``; use
``bind_context(...)`` as a context manager around the work it describes.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from structlog.contextvars import bound_contextvars

__all__ = ["bind_context", "configure_logging", "get_logger"]

bind_context = bound_contextvars


def configure_logging(*, json: bool = True, level: str = "INFO") -> None:
    """Configure structlog once, at process start (never at import)."""
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    """A structlog logger carrying ``logger_name=name``.

    Lazy: the configuration is looked up at the first log call, so module-level loggers
    created at import follow ``configure_logging`` called later.
    """
    return structlog.get_logger(logger_name=name)
