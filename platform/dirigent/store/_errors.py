"""The store's one Redis error mapper: every Redis call goes through it.

Translation keeps the cause (``from exc``) and the verdict: a fault that may pass
(Redis restarting, a network blip, a failover) is ``StoreError(retryable=True)``; one
that will not pass by waiting (credentials, permissions, a bug in a script or a call)
is ``StoreError(retryable=False)``.

On a Redis Cluster the client adds its own faults: a node down or a layout being
settled passes (retryable); a call whose keys span slots, or a URL that names the wrong
kind of server (a cluster node behind ``redis://``, a single server behind
``redis+cluster://``), does not, and the message says which setting to fix.

redis-py can also leak a broken connection as an ``AttributeError`` or ``TypeError``
from its own or asyncio's transport code (redis-py#4287, seen here with a Redis Cluster
node killed and restarted): those, and only those, are a transient fault too.
"""

from __future__ import annotations

import ssl
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
    rx.ClusterError,  # redirections exhausted while the cluster moves slots
    OSError,  # socket errors and the built-in (asyncio) TimeoutError
)
_AUTH_WORDS = ("WRONGPASS", "NOAUTH", "NOPERM")
# RedisClusterException (not a RedisError) with these words: no node reachable yet, or
# nodes that disagree while the cluster is formed or resharded. Waiting helps.
_CLUSTER_TRANSIENT_WORDS = ("cannot be connected", "slots are not covered", "could not agree")
_CROSS_SLOT_WORDS = ("CROSSSLOT", "same slot", "same key slot", "non local key")
_NOT_A_CLUSTER = "Cluster mode is not enabled"
_SETTING = "DIRIGENT_REDIS_URL"


def translate_redis_error(what: str, exc: BaseException) -> StoreError:
    """The ``StoreError`` for a Redis client error raised while doing ``what``."""
    refusal = next((e for e in _chain(exc) if isinstance(e, _PERMANENT) or _names_auth(e)), None)
    if refusal is not None:
        why = str(exc) if refusal is exc else f"{exc}, because: {refusal}"
        return StoreError(
            f"{what}: Redis refused our credentials or permissions ({why}); "
            f"check the user and password (DIRIGENT_REDIS_USERNAME and "
            f"DIRIGENT_REDIS_PASSWORD, or the user:password@ of {_SETTING}) and the "
            "user's ACL (docs/security.md lists the commands and keys dirigent needs)",
            retryable=False,
        )
    tls = next((e for e in _chain(exc) if _tls_refusal(e)), None)
    if tls is not None:
        return StoreError(
            f"{what}: the TLS handshake with Redis failed ({tls}); check "
            "DIRIGENT_REDIS_TLS_CA_FILE (the CA that signed the server's certificate), "
            "DIRIGENT_REDIS_TLS_CHECK_HOSTNAME and, if the server asks for one, "
            "DIRIGENT_REDIS_TLS_CERT_FILE / DIRIGENT_REDIS_TLS_KEY_FILE",
            retryable=False,
        )
    if _NOT_A_CLUSTER in str(exc):
        return StoreError(
            f"{what}: {_SETTING} names a Redis Cluster (redis+cluster://) but the server "
            f"is not one ({exc}); use redis://host:port/db for a single server",
            retryable=False,
        )
    if isinstance(exc, rx.AskError):  # MOVED/ASK reach us only from a plain client
        return StoreError(
            f"{what}: the server is a Redis Cluster node and sends this key elsewhere "
            f"({exc}); set {_SETTING} to redis+cluster://host:port[,host:port...]",
            retryable=False,
        )
    cluster_fault = _names(exc, rx.RedisClusterException, _CLUSTER_TRANSIENT_WORDS)
    if isinstance(exc, _TRANSIENT) or cluster_fault:
        return StoreError(f"{what}: Redis unavailable ({exc})", retryable=True)
    if _names(exc, (rx.ResponseError, rx.RedisClusterException), _CROSS_SLOT_WORDS):
        return StoreError(
            f"{what}: one call touched keys of several Redis Cluster slots ({exc}); "
            "a bug: every key of one call must share its hash tag (dirigent.store.keys)",
            retryable=False,
        )
    if isinstance(exc, rx.ResponseError):
        return StoreError(f"{what}: Redis rejected the call ({exc})", retryable=False)
    return StoreError(f"{what}: {type(exc).__name__}: {exc}", retryable=False)


def _chain(exc: BaseException) -> list[BaseException]:
    # The cluster client wraps what a node said (a NOPERM to CLUSTER SLOTS becomes
    # "Cluster mode is not enabled"): the refusal is found among the causes.
    found: list[BaseException] = []
    at: BaseException | None = exc
    while at is not None and at not in found and len(found) < 8:
        found.append(at)
        at = at.__cause__ or at.__context__
    return found


# Handshake alerts that waiting does not cure (a torn handshake while Redis restarts
# is an SSLEOFError or a reset: transient like any other broken connection).
_TLS_ALERTS = (
    "CERTIFICATE_REQUIRED", "UNKNOWN_CA", "BAD_CERTIFICATE", "HANDSHAKE_FAILURE",
    "certificate required",
)  # fmt: skip


def _tls_refusal(exc: BaseException) -> bool:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return True
    return isinstance(exc, ssl.SSLError) and any(a in str(exc) for a in _TLS_ALERTS)


def _names_auth(exc: BaseException) -> bool:
    # An ACL refusal inside a Lua script arrives as a plain ResponseError.
    return _names(exc, rx.ResponseError, _AUTH_WORDS)


def _names(
    exc: BaseException, kind: type[BaseException] | tuple[type[BaseException], ...],
    words: tuple[str, ...],
) -> bool:  # fmt: skip
    return isinstance(exc, kind) and any(w in str(exc) for w in words)


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
    except (AttributeError, TypeError) as exc:
        if not _transport_leak(exc):
            raise  # ours: a bug, not a fault to wait out
        raise StoreError(
            f"{what}: Redis unavailable (the connection broke: {type(exc).__name__}: {exc})",
            retryable=True,
        ) from exc


def _transport_leak(exc: BaseException) -> bool:
    """An AttributeError/TypeError raised inside redis-py or asyncio's transports: a
    connection the peer closed, written to (redis-py#4287: it escapes redis-py's own
    retries as these types instead of ``ConnectionError``)."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last, tb = tb.tb_frame.f_code.co_filename, tb.tb_next
    return last is not None and any(part in last for part in _TRANSPORT_CODE)


_TRANSPORT_CODE = ("/redis/", "/asyncio/", "/hiredis/")
