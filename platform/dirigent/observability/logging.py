"""structlog setup: one renderer and one level for every line a process writes.

dirigent's own lines (``get_logger(__name__)``) and the standard library's (aiokafka,
redis-py, the OpenTelemetry SDK) meet in one handler on the root logger, so they share
the format (JSON lines in production, readable lines in a terminal), the fields
(``timestamp``, ``level``, ``logger``, ``event`` and whatever context is bound) and the
level. Context (saga id, message id, step, handler) travels in ``contextvars``; use
``bind_context(...)`` as a context manager around the work it describes.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from structlog.contextvars import bound_contextvars
from structlog.typing import Processor

from dirigent.observability.stdlib import DemoteBenign

__all__ = ["bind_context", "configure_logging", "enabled_for", "get_logger"]

bind_context = bound_contextvars
_level = logging.INFO  # as last configured; read by enabled_for on hot paths


def configure_logging(
    *, json: bool | None = None, level: str = "INFO", stream: TextIO | None = None
) -> None:
    """Configure structlog and the root logger once, at process start (never at import).

    ``json=None`` picks by the stream: readable lines on a terminal, JSON otherwise.
    Calling it again replaces the handler it installed before (tests, the demo).
    """
    global _level
    out = stream if stream is not None else sys.stderr
    if json is None:
        json = not _isatty(out)
    numeric = logging.getLevelNamesMapping()[level.upper()]
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    renderer: Processor
    final: list[Processor] = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if json:
        final.append(structlog.processors.format_exc_info)
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=_isatty(out))
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared, processors=[*final, renderer]
    )
    handler = _Handler(out)
    handler.setFormatter(formatter)
    handler.addFilter(DemoteBenign(numeric))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    _level = numeric


def enabled_for(level: int) -> bool:
    """Whether lines at ``level`` are written (a cheap check before building one)."""
    return level >= _level


def get_logger(name: str) -> Any:
    """The logger of module ``name`` (pass ``__name__``); its lines carry ``logger=name``.

    Lazy: the configuration is looked up at each call, so module-level loggers created
    at import follow ``configure_logging`` called later.
    """
    return structlog.get_logger(name)


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one handler ``configure_logging`` owns (and replaces when called again)."""


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
