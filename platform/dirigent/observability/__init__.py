"""Logging, metrics and tracing helpers shared by every runtime."""

from dirigent.observability.logging import (
    bind_context,
    configure_logging,
    enabled_for,
    get_logger,
)
from dirigent.observability.tracing import Tracing, configure_tracing

__all__ = [
    "Tracing",
    "bind_context",
    "configure_logging",
    "configure_tracing",
    "enabled_for",
    "get_logger",
]
