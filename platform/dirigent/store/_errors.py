"""The store's one Redis error mapper: every Redis call goes through it.

Translation keeps the cause (``from exc``) and the verdict: a fault that may pass
(Redis restarting, a network blip, a failover) is ``StoreError(retryable=True)``; one
that will not pass by waiting (credentials, permissions, a bug in a script or a call)
is ``StoreError(retryable=False)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis import exceptions as rx

from dirigent.errors import StoreError

__all__ = ["map_redis_errors", "translate_redis_error"]

# Checked in order: the auth errors subclass ConnectionError, so they come first.
_PERMANENT: tuple[type[BaseException], ...] = (
    rx.AuthenticationError,
    rx.AuthorizationError,
    rx.AuthenticationWrongNumberOfArgsError,
    rx.NoPermissionError,
)
_TRANSIENT: tuple[type[BaseException], ...] = (
    rx.ConnectionError,  # includes BusyLoadingError, MaxConnectionsError
    rx.TimeoutError,
    rx.TryAgainError,
    rx.ClusterDownError,  # includes MasterDownError
    rx.ReadOnlyError,  # a replica promoted, or a failover in progress
    rx.NoScriptError,  # the script cache is gone (restart, SCRIPT FLUSH): reload
    rx.OutOfMemoryError,  # maxmemory reached: writes may pass once memory is freed
    rx.InvalidResponse,  # a torn reply: the connection is dropped and re-made
    rx.WatchError,
    rx.SlotNotCoveredError,
    OSError,  # socket errors and the built-in (asyncio) TimeoutError
)
_AUTH_WORDS = ("WRONGPASS", "NOAUTH", "NOPERM")
_SETTING = "DIRIGENT_REDIS_URL"


def translate_redis_error(what: str, exc: BaseException) -> StoreError:
    """The ``StoreError`` for a Redis client error raised while doing ``what``."""
    if isinstance(exc, _PERMANENT) or _names_auth(exc):
        return StoreError(
            f"{what}: Redis refused our credentials or permissions ({exc}); "
            f"check the user and password in {_SETTING} and the user's ACL",
            retryable=False,
        )
    if isinstance(exc, _TRANSIENT):
        return StoreError(f"{what}: Redis unavailable ({exc})", retryable=True)
    if isinstance(exc, rx.ResponseError):
        return StoreError(f"{what}: Redis rejected the call ({exc})", retryable=False)
    return StoreError(f"{what}: {type(exc).__name__}: {exc}", retryable=False)


def _names_auth(exc: BaseException) -> bool:
    # An ACL refusal inside a Lua script arrives as a plain ResponseError.
    return isinstance(exc, rx.ResponseError) and any(w in str(exc) for w in _AUTH_WORDS)


@contextmanager
def map_redis_errors(what: str) -> Iterator[None]:
    """Translate any Redis client error raised inside the block into ``StoreError``.

    Example::

        with map_redis_errors(f"cannot fence partition {partition}"):
            token = await redis.incr(key)
    """
    try:
        yield
    except (rx.RedisError, rx.RedisClusterException, OSError) as exc:
        raise translate_redis_error(what, exc) from exc
