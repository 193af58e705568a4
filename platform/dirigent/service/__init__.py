"""The service runtime: typed handlers with idempotency, retries and dead letters."""

from dirigent.service.context import HandlerContext
from dirigent.service.handlers import Handler, HandlerSpec, Reply
from dirigent.service.metrics import ServiceMetrics
from dirigent.service.processor import Outcome, RecordProcessor
from dirigent.service.retry import RetryPolicy, is_retryable
from dirigent.service.service import Service
from dirigent.service.settings import ServiceSettings

__all__ = [
    "Handler",
    "HandlerContext",
    "HandlerSpec",
    "Outcome",
    "RecordProcessor",
    "Reply",
    "RetryPolicy",
    "Service",
    "ServiceMetrics",
    "ServiceSettings",
    "is_retryable",
]
