"""Retry policy: bounded attempts, exponential backoff with full jitter.

Whether an error is worth retrying is decided by the error itself
(``DirigentError.retryable``, aiokafka's ``retriable``), never by call-site if-chains.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from aiokafka.errors import KafkaError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from dirigent.errors import ConfigurationError, DirigentError, RetryableError

__all__ = ["HandlerRetry", "check_handler_retry", "is_retryable"]

_TRANSIENT = (TimeoutError, ConnectionError, RedisConnectionError, RedisTimeoutError)


@dataclass(frozen=True, kw_only=True)
class HandlerRetry:
    """How often and how patiently a *service handler* is retried in process.

    Not to be confused with ``dirigent.RetryPolicy``, a saga step's retry policy (run
    by the coordinator); ``Service`` refuses one with a ``ConfigurationError``.

    Attempt ``n`` (1-based) that failed waits ``uniform(0, min(max_backoff_s,
    initial_backoff_s * multiplier ** (n - 1)))`` ("full jitter"), unless the error
    asks for ``next_retry_delay_s``. Errors nobody classified (a plain ``KeyError``)
    are retried only if ``retry_unclassified``.

    Example::

        @service.handles(ReserveStock, retry=HandlerRetry(max_attempts=5, initial_backoff_s=0.2))
    """

    max_attempts: int = 5
    initial_backoff_s: float = 0.1
    max_backoff_s: float = 10.0
    multiplier: float = 2.0
    retry_unclassified: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff_s < 0 or self.max_backoff_s < 0 or self.multiplier < 1:
            raise ValueError("backoffs must be >= 0 and multiplier >= 1")

    def ceiling_s(self, attempt: int) -> float:
        """The largest delay after failed attempt ``attempt``."""
        exponent = min(attempt - 1, 64)  # beyond this the cap always wins
        return min(self.max_backoff_s, self.initial_backoff_s * self.multiplier**exponent)

    def delay_s(self, attempt: int, exc: BaseException, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt`` before the next one."""
        if isinstance(exc, RetryableError) and exc.next_retry_delay_s is not None:
            return min(max(exc.next_retry_delay_s, 0.0), self.max_backoff_s)
        return (rng or random).uniform(0.0, self.ceiling_s(attempt))

    def should_retry(self, attempt: int, exc: BaseException) -> bool:
        return attempt < self.max_attempts and is_retryable(exc, self.retry_unclassified)


def check_handler_retry(value: object, where: str) -> HandlerRetry | None:
    """``value`` if it is a ``HandlerRetry`` or None; else a clear ``ConfigurationError``."""
    if value is None or isinstance(value, HandlerRetry):
        return value
    hint = ""
    if type(value).__name__ == "RetryPolicy":
        hint = (
            " (dirigent.RetryPolicy is the retry policy of a saga step, run by the "
            "coordinator; a service handler takes dirigent.service.HandlerRetry)"
        )
    raise ConfigurationError(
        f"{where}: retry must be a dirigent.service.HandlerRetry, not {value!r}{hint}"
    )


def is_retryable(exc: BaseException, unclassified: bool = True) -> bool:
    """True for errors that may go away: flagged retryable, or known transient."""
    if isinstance(exc, DirigentError):
        return exc.retryable
    if isinstance(exc, KafkaError):
        return bool(exc.retriable)
    if isinstance(exc, _TRANSIENT):
        return True
    return unclassified
