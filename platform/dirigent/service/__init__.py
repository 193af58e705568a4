"""The service runtime: typed handlers with idempotency, retries and dead letters."""

from dirigent.service.context import HandlerContext
from dirigent.service.handlers import Handler, HandlerSpec, Reply
from dirigent.service.metrics import ServiceMetrics
from dirigent.service.processor import RecordOutcome, RecordProcessor
from dirigent.service.retry import HandlerRetry, is_retryable
from dirigent.service.service import Service
from dirigent.service.settings import ServiceSettings

__all__ = [
    "Handler",
    "HandlerContext",
    "HandlerRetry",
    "HandlerSpec",
    "RecordOutcome",
    "RecordProcessor",
    "Reply",
    "Service",
    "ServiceMetrics",
    "ServiceSettings",
    "is_retryable",
]
