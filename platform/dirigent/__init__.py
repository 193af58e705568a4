"""dirigent: event-driven sagas for Python services on Apache Kafka, state in Redis.

The names most users need, importable from the top (loaded on first use, so that
``import dirigent`` stays cheap for the CLI)::

    from dirigent import define_saga, Step, Compensation, RetryPolicy, StepKind, parallel
    from dirigent import initiating, wait_for, OnTimeout, Migration
    from dirigent import Event, Publisher, Service, HandlerContext, Coordinator, Settings

Saga authors test with ``dirigent.testing``; the sub-packages hold the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Compensation": "dirigent.saga",
    "Coordinator": "dirigent.coordinator",
    "CoordinatorSettings": "dirigent.coordinator",
    "DirigentError": "dirigent.errors",
    "Envelope": "dirigent.events",
    "Event": "dirigent.events",
    "HandlerContext": "dirigent.service",
    "Migration": "dirigent.saga",
    "NonRetryableError": "dirigent.errors",
    "OnTimeout": "dirigent.saga",
    "Publisher": "dirigent.transport",
    "RetryPolicy": "dirigent.saga",
    "RetryableError": "dirigent.errors",
    "SagaDefinition": "dirigent.saga",
    "Service": "dirigent.service",
    "Settings": "dirigent.config",
    "Step": "dirigent.saga",
    "StepKind": "dirigent.saga",
    "define_saga": "dirigent.saga",
    "discover_sagas": "dirigent.saga",
    "initiating": "dirigent.saga",
    "parallel": "dirigent.saga",
    "wait_for": "dirigent.saga",
}

__all__ = [
    "Compensation",
    "Coordinator",
    "CoordinatorSettings",
    "DirigentError",
    "Envelope",
    "Event",
    "HandlerContext",
    "Migration",
    "NonRetryableError",
    "OnTimeout",
    "Publisher",
    "RetryPolicy",
    "RetryableError",
    "SagaDefinition",
    "Service",
    "Settings",
    "Step",
    "StepKind",
    "__version__",
    "define_saga",
    "discover_sagas",
    "initiating",
    "parallel",
    "wait_for",
]

if TYPE_CHECKING:
    from dirigent.config import Settings
    from dirigent.coordinator import Coordinator, CoordinatorSettings
    from dirigent.errors import DirigentError, NonRetryableError, RetryableError
    from dirigent.events import Envelope, Event
    from dirigent.saga import (
        Compensation,
        Migration,
        OnTimeout,
        RetryPolicy,
        SagaDefinition,
        Step,
        StepKind,
        define_saga,
        discover_sagas,
        initiating,
        parallel,
        wait_for,
    )
    from dirigent.service import HandlerContext, Service
    from dirigent.transport import Publisher


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dirigent' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
