"""Logging, metrics and tracing helpers shared by every runtime."""

from dirigent.observability.logging import (
    bind_context,
    configure_logging,
    enabled_for,
    get_logger,
)

__all__ = ["bind_context", "configure_logging", "enabled_for", "get_logger"]
